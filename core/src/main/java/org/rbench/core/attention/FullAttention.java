package org.rbench.core.attention;

/** Exact attention over the whole cache: the accuracy ceiling and the speed floor. */
public final class FullAttention implements AttentionPolicy {
    private final AttentionPlan plan;

    public FullAttention() {
        this(false);
    }

    /** With {@code probabilities}, every layer's attention row is read back (for analysis). */
    public FullAttention(boolean probabilities) {
        this.plan = probabilities ? AttentionPlan.full().withProbabilities() : AttentionPlan.full();
    }

    @Override
    public String name() {
        return "full";
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        return plan;
    }
}
