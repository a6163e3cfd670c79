package org.rbench.core.attention;

import java.util.List;

/** Attend to every cached row [0, position]: a view of the full cache, causally masked. */
public record FullPlan(boolean probabilities, boolean query) implements AttentionPlan {
    static final FullPlan PLAIN = new FullPlan(false, false);

    @Override
    public FullPlan withProbabilities() {
        return new FullPlan(true, query);
    }

    @Override
    public FullPlan withQuery() {
        return new FullPlan(probabilities, true);
    }

    @Override
    public int rows(int position) {
        return position + 1;
    }

    @Override
    public boolean readsWholeCache() {
        return true;
    }

    @Override
    public Object shape(int position) {
        return List.of();
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        return readWholeCache(g);
    }

    /** The rows a full read attends: the whole cache up to the padded key count, under the causal mask. */
    public static AttendedRows readWholeCache(PlanGraph g) {
        return new AttendedRows(g.rowsView(g.cacheKeys(), 0, g.keyRows()), g.rowsView(g.cacheValues(), 0, g.keyRows()),
                g.causalMask());
    }
}
