package org.rbench.analysis;

/**
 * One row of a results CSV, reduced to the columns the analysis uses (see docs/CSV.md).
 *
 * <p>Optional numeric columns that are empty or absent are {@link Double#NaN}; every aggregation
 * skips NaN values, so a missing diagnostic never turns a mean into NaN.
 *
 * @param source file the row was read from (for messages)
 * @param line 1-based line of the file where the row starts
 * @param suiteCommit the {@code suite_commit} provenance column ("" when absent)
 * @param backend the {@code backend} provenance column ("" when absent)
 * @param kvFill the {@code kv_fill} column: how the cache was filled ("" when absent)
 */
public record ResultRow(
        String source,
        long line,
        String runId,
        Kind kind,
        String modelFile,
        String device,
        String method,
        String methodName,
        long seed,
        String task,
        int length,
        int sampleIndex,
        double score,
        double prefillMs,
        double decodeMsMean,
        double decodeMsP50,
        double decodeMsP90,
        double tokensGenerated,
        double attendedRowsMean,
        double nllSum,
        double tokensScored,
        double attentionMassRecall,
        double boundSpeedup,
        String suiteCommit,
        String backend,
        String kvFill) {

    /** The {@code kv_fill} of a RULER row whose one prefill served several methods of its sample. */
    public static final String SHARED_PREFILL = "prefill-shared";

    /** Identifies the same prompt in two runs, so that accuracy can be compared pairwise. */
    public String sampleKey() {
        return task + '|' + length + '|' + sampleIndex + '|' + seed;
    }

    /**
     * Wall time of this sample in seconds: prefill plus every timed decode step. This is the
     * paper's "time per example"; NaN when one of the parts was not recorded.
     */
    public double secondsPerExample() {
        return (prefillMs + tokensGenerated * decodeMsMean) / 1000.0;
    }

    /** The prefill's part of {@link #secondsPerExample()}, in seconds. */
    public double prefillSeconds() {
        return prefillMs / 1000.0;
    }

    /**
     * Whether this row's prefill served several methods (kv_fill {@code prefill-shared}): its
     * prefill time is that shared prefill's, with the statistics all of those methods ask for.
     */
    public boolean sharedPrefill() {
        return SHARED_PREFILL.equals(kvFill);
    }
}
