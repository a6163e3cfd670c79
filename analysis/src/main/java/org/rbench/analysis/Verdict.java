package org.rbench.analysis;

/** What a metric's change means for the gate. Only {@link #REGRESSION} fails it. */
public enum Verdict {
    /** Worse beyond the threshold and significant. */
    REGRESSION("REGRESSION"),
    /** Better beyond the threshold and significant. */
    IMPROVED("improved"),
    /** Beyond the threshold but within noise: not enough evidence either way. */
    NOT_SIGNIFICANT("within noise"),
    /** Within the threshold. */
    OK("ok");

    private final String label;

    Verdict(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /**
     * @param worsening how much worse the candidate is, in the threshold's unit (negative: better)
     */
    static Verdict judge(double worsening, double threshold, double pValue, double alpha) {
        boolean significant = pValue < alpha;
        if (worsening > threshold) {
            return significant ? REGRESSION : NOT_SIGNIFICANT;
        }
        if (-worsening > threshold) {
            return significant ? IMPROVED : NOT_SIGNIFICANT;
        }
        return OK;
    }
}
