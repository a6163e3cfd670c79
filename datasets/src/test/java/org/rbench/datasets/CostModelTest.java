package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The number of full-prompt tokenizer calls stays near one per sample, so generation is
 * fast with an expensive (native) tokenizer.
 */
class CostModelTest {

    @Test
    void aboutOneTokenizerCallPerSamplePlusAFewForCalibration() {
        int samples = 20;
        for (RulerTask task : TestData.offlineTasks()) {
            RulerGenerator generator = TestData.generator(ApproximateTokenizer.spmLike());
            generator.generateAll(task, 16384, samples, 42);
            long calls = generator.tokenizerCalls();
            // Calibration (and vt's example) takes a handful; each sample 1, plus 1 when it must shrink or grow.
            assertTrue(calls <= 2L * samples + 24, task.id() + ": " + calls + " tokenizer calls for " + samples + " samples");
        }
    }
}
