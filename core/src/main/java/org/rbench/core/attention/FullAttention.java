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

    @Override
    public boolean plansAhead() {
        return true; // the same plan every step
    }

    /** {@code full}: the full-attention strategy, registered like any other. */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "full";
        }

        @Override
        public String description() {
            return "full attention over the whole cache (the accuracy ceiling); no parameters";
        }

        @Override
        public java.util.Set<String> parameters() {
            return java.util.Set.of();
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, org.rbench.core.model.HyperParameters model, int promptTokens) {
            return new FullAttention();
        }
    }
}
