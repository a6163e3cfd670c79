package org.rbench.analysis;

/** What a results row measures; it decides which aggregation and which table the row feeds. */
public enum Kind {
    /** One RULER sample scored 0..100. */
    RULER("ruler"),
    /** One perplexity chunk, carrying {@code nll_sum} and {@code tokens_scored}. */
    PPL("ppl"),
    /** One repetition of a synthetic decode-latency measurement. */
    LATENCY("latency");

    private final String csvName;

    Kind(String csvName) {
        this.csvName = csvName;
    }

    /** The value of the {@code kind} column for this kind. */
    public String csvName() {
        return csvName;
    }

    /**
     * Returns the kind named by a CSV value, or {@code null} when the value is unknown. Callers skip
     * such rows with a warning instead of failing, so that a newer harness does not break the
     * nightly report.
     */
    static Kind fromCsv(String value) {
        String trimmed = value.trim();
        for (Kind kind : values()) {
            if (kind.csvName.equals(trimmed)) {
                return kind;
            }
        }
        return null;
    }
}
