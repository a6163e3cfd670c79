package org.rbench.core.recycled;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.FullPlan;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.StepPart;

import java.util.ArrayList;
import java.util.List;

/**
 * A full step that refreshes Recycled Attention's Cp: attend every cached row, and select
 * the top rows of this step's attention per KV head on the device ({@link TopRows}: the
 * group aggregated, max-pooled over its window), so that only k + window positions per KV head cross to the
 * host, where the probabilities would be heads x context floats (at 128K, 4 KB against 16
 * MB per layer, and a host sort of the context per KV head). No row of the context is sorted:
 * ggml_top_k picks the candidates and only they are sorted. The selected positions go to
 * {@link #sink} after the step's compute, highest score first, ties in position order.
 *
 * <p>Every refreshing layer of a step adds its scores to one batch, selected once
 * ({@link TopRowsSelection.Batch}).
 */
public record RefreshPlan(TopRows request, Sink sink, boolean probabilities, boolean query) implements AttentionPlan {

    /** Receives a layer's selection: {@code [kvHeads][min(k, position + 1)]} cache positions. */
    public interface Sink {
        void selected(int layer, int[][] rows);
    }

    public RefreshPlan {
        java.util.Objects.requireNonNull(request, "request");
        java.util.Objects.requireNonNull(sink, "sink");
    }

    public RefreshPlan(TopRows request, Sink sink) {
        this(request, sink, false, false);
    }

    @Override
    public RefreshPlan withProbabilities() {
        return new RefreshPlan(request, sink, true, query);
    }

    @Override
    public RefreshPlan withQuery() {
        return new RefreshPlan(request, sink, probabilities, true);
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
        // The candidate count follows the rows that exist until it reaches k + window; the sink is read per step.
        int valid = position + 1;
        return List.of(request, valid >= request.k() + request.window() ? -1 : valid);
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        if (g.tokens() != 1) {
            throw new IllegalStateException("top rows are selected in decode steps (one token), not in a batch of " + g.tokens());
        }
        Selection selection = g.stepPart(Selection.class, Selection::new);
        int layer = g.layer();
        g.onProbabilities(probs -> selection.add(layer,
                TopRowsSelection.scores(g.ctx(), probs, g.causalMask(), request, g.model().heads(), g.model().kvHeads())));
        return FullPlan.readWholeCache(g);
    }

    /** The step's one batch of selections: every refreshing layer's scores, selected together. */
    static final class Selection implements StepPart {
        /** Candidates of all layers from which ordering their ties is worth the common pool's threads. */
        static final long PARALLEL_CANDIDATES = 1 << 16;

        private final TopRowsSelection.Batch batch;
        private final int candidates;
        private final int kvHeads;
        private final List<Integer> layers = new ArrayList<>();
        private TopRowsSelection.Result result;

        Selection(PlanGraph g) {
            int selecting = 0;
            int most = 0;
            for (int l = g.fromLayer(); l < g.toLayer(); l++) {
                if (g.plan(l) instanceof RefreshPlan r) {
                    selecting++;
                    most = Math.max(most, r.request().candidates(g.position() + 1));
                }
            }
            this.candidates = most;
            this.kvHeads = g.model().kvHeads();
            this.batch = new TopRowsSelection.Batch(g.ctx(), g::expand, g.keyRows(), kvHeads, selecting);
        }

        void add(int layer, org.rbench.llamacpp.Tensor scores) {
            layers.add(layer);
            batch.add(scores);
        }

        @Override
        public void finish(PlanGraph.Finishing g) {
            TopRowsSelection.Result top = batch.select(candidates);
            result = new TopRowsSelection.Result(top.positions().name("top_rows").output(), top.scores().name("top_scores").output());
            g.expand(result.positions());
            g.expand(result.scores());
        }

        /**
         * Each layer's rows per KV head, read back in two transfers for all layers (not two per
         * layer: at 32 layers the per-transfer latency added up), ties put in position order, cut
         * to k. The layers' KV heads are independent, so many candidates are ordered in parallel:
         * at 32 x 8 heads of 4,103 candidates this was the largest host cost of a full step on one
         * thread. A few thousand are ordered in microseconds, less than waking the pool's threads.
         */
        @Override
        public void afterCompute(AttentionPlan[] plans, int position) {
            TopRowsSelection.Candidates all = TopRowsSelection.Candidates.read(result.positions(), result.scores(), candidates);
            int[][][] rows = new int[layers.size()][kvHeads][];
            java.util.stream.IntStream heads = java.util.stream.IntStream.range(0, layers.size() * kvHeads);
            if ((long) layers.size() * kvHeads * candidates >= PARALLEL_CANDIDATES) {
                heads = heads.parallel();
            }
            heads.forEach(i -> {
                int slot = i / kvHeads;
                int h = i % kvHeads;
                TopRows request = ((RefreshPlan) plans[layers.get(slot)]).request();
                // the batch selected as many candidates as its hungriest layer needs; this layer
                // takes its own count of the (descending) prefix, as if it had been selected alone
                rows[slot][h] = all.ordered(slot * kvHeads + h, request.candidates(position + 1), request.k());
            });
            for (int slot = 0; slot < layers.size(); slot++) {
                int layer = layers.get(slot);
                ((RefreshPlan) plans[layer]).sink().selected(layer, rows[slot]);
            }
        }
    }
}
