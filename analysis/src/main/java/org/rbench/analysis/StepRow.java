package org.rbench.analysis;

/**
 * One row of a diagnostics file (the per-step detail beside a results CSV; docs/CSV.md): what one
 * layer of one decode step of one sample attended, against full attention. Values the file leaves
 * empty are NaN.
 */
public record StepRow(
        String modelFile,
        String method,
        String task,
        int length,
        int sampleIndex,
        long seed,
        int step,
        int layer,
        boolean wholeCache,
        double answerCoverage,
        double massRecall,
        double answerMass,
        double answerMassRecall,
        double peakOffset,
        double peakDistance,
        double peakAttended) {

    /** The sample and method this row belongs to. */
    String unit() {
        return modelFile + '|' + method + '|' + task + '|' + length + '|' + sampleIndex + '|' + seed;
    }
}
