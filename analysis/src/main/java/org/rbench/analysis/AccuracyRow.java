package org.rbench.analysis;

/**
 * RULER accuracy and cost of one (model, method, length) group, or of one task within it.
 *
 * @param task the task, or {@code null} for the RULER average over all tasks
 * @param tasks number of tasks averaged
 * @param samples number of scored samples
 * @param accuracy mean of the per-task mean scores (0..100)
 * @param ci bootstrap 95% interval of {@code accuracy}
 * @param secondsPerExample mean over samples of prefill plus decode time
 * @param prefillSecondsPerExample the prefill's part of it (the decode's is the rest)
 * @param msPerToken mean of the rows' decode_ms_mean
 * @param speedup full attention's decode ms/token over this method's, same run; NaN without full
 * @param attendedRows mean KV rows attended per layer per step
 * @param boundSpeedup mean bytes-moved bound on the speedup, NaN when not recorded
 * @param sharedPrefill whether any of the group's rows timed a prefill shared by several methods
 *                      ({@link ResultRow#sharedPrefill}), so that its seconds per example include it
 */
public record AccuracyRow(
        String model,
        String method,
        int length,
        String task,
        int tasks,
        int samples,
        double accuracy,
        Interval ci,
        double secondsPerExample,
        double prefillSecondsPerExample,
        double msPerToken,
        double speedup,
        double attendedRows,
        double boundSpeedup,
        boolean sharedPrefill) {
}
