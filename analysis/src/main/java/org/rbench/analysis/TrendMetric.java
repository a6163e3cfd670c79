package org.rbench.analysis;

/**
 * What one row of the nightly history measures: a quantity of one kind of results row, and for
 * perplexity the text it was measured on. Its name is {@code <kind>.<quantity>[:<task>]}:
 * {@code latency.ms_per_token}, {@code latency.tokens_per_s}, {@code ruler.accuracy},
 * {@code ruler.s_per_example}, {@code ruler.ms_per_token}, {@code ppl.perplexity:moby-dick}.
 *
 * @param task the perplexity text, or null for the other quantities (they span all tasks)
 */
public record TrendMetric(Kind kind, Quantity quantity, String task) {

    /** Which of {@link ComparisonThresholds}'s thresholds judges a change, as {@code rbench compare} does. */
    public enum Gate {
        /** Percent increase of a time, {@link ComparisonThresholds#maxLatencyRegressionPercent()}. */
        LATENCY,
        /** Drop in points, {@link ComparisonThresholds#maxAccuracyDropPoints()}. */
        ACCURACY,
        /**
         * Shown, never gated: tokens/s is ms/token read the other way up (gating both would name
         * one regression twice), and perplexity is reported but not gated, as in compare.
         */
        NONE
    }

    public enum Quantity {
        MS_PER_TOKEN("ms_per_token", "ms/token", true, Gate.LATENCY, 3),
        TOKENS_PER_S("tokens_per_s", "tokens/s", false, Gate.NONE, 2),
        ACCURACY("accuracy", "accuracy", false, Gate.ACCURACY, 1),
        S_PER_EXAMPLE("s_per_example", "s/example", true, Gate.LATENCY, 3),
        PERPLEXITY("perplexity", "perplexity", true, Gate.NONE, 3);

        private final String id;
        private final String unit;
        private final boolean higherIsWorse;
        private final Gate gate;
        private final int decimals;

        Quantity(String id, String unit, boolean higherIsWorse, Gate gate, int decimals) {
            this.id = id;
            this.unit = unit;
            this.higherIsWorse = higherIsWorse;
            this.gate = gate;
            this.decimals = decimals;
        }

        public String id() {
            return id;
        }

        /** How the value reads in tables and axis titles. */
        public String unit() {
            return unit;
        }

        public boolean higherIsWorse() {
            return higherIsWorse;
        }

        public Gate gate() {
            return gate;
        }

        /** Decimals shown in tables and reports. */
        public int decimals() {
            return decimals;
        }
    }

    public TrendMetric {
        if ((quantity == Quantity.PERPLEXITY) != (task != null)) {
            throw new IllegalArgumentException("a perplexity metric names its text, and only it does");
        }
    }

    public static TrendMetric of(Kind kind, Quantity quantity) {
        return new TrendMetric(kind, quantity, null);
    }

    public static TrendMetric perplexity(String text) {
        return new TrendMetric(Kind.PPL, Quantity.PERPLEXITY, text);
    }

    /** The name stored in the history, e.g. {@code ruler.accuracy}. */
    public String name() {
        return kind.csvName() + "." + quantity.id() + (task == null ? "" : ":" + task);
    }

    /** The metric a stored name denotes, or null for a name this version does not know (a newer writer's). */
    public static TrendMetric parse(String name) {
        int dot = name.indexOf('.');
        if (dot < 0) {
            return null;
        }
        Kind kind = Kind.fromCsv(name.substring(0, dot));
        String rest = name.substring(dot + 1);
        int colon = rest.indexOf(':');
        String quantityId = colon < 0 ? rest : rest.substring(0, colon);
        String task = colon < 0 ? null : rest.substring(colon + 1);
        if (kind == null) {
            return null;
        }
        for (Quantity q : Quantity.values()) {
            if (q.id.equals(quantityId)) {
                try {
                    return new TrendMetric(kind, q, task);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    /** The value as tables show it, with the quantity's decimals. */
    public String format(double value) {
        return Formats.fixed(value, quantity.decimals());
    }
}
