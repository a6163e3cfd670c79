package org.rbench.core.parity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * rbench parity --against-cpu, run here with the CPU on both sides: a method that selects agrees
 * with itself in every row read, pick and logit, and the check notices when the two sides read
 * other rows (a budget the other side does not share).
 */
class BackendCheckTest {
    @TempDir
    static Path dir;

    private static Path model() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        if (!java.nio.file.Files.exists(model)) {
            RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32), model);
        }
        return model;
    }

    @Test
    void aSelectingMethodAgreesWithItselfOnTheCpu() throws Exception {
        BackendCheck.Report r = BackendCheck.run(ParityRequest.exact(model()).withTokens(96, 12), "recycled:k=32,s=4");
        assertEquals(12, r.steps());
        assertEquals(r.selections(), r.selectionAgreements(), r.summary());
        assertTrue(r.selections() > 0, r.summary());
        assertEquals(12, r.sameRowSteps(), r.summary());
        assertEquals(12, r.pickAgreements(), r.summary());
        assertEquals(0, r.maxRelative(), r.summary());
        assertTrue(r.passes(1e-4), r.summary());
    }

    @Test
    void otherRowsReadAreCountedAndFail() throws Exception {
        BackendCheck.Report r = BackendCheck.run(ParityRequest.exact(model()).withTokens(96, 12), "recycled:k=32,s=4",
                "recycled:k=48,s=4");
        assertTrue(r.selectionAgreements() < r.selections(), r.summary());
        assertTrue(r.sameRowSteps() < 12, r.summary());
        assertFalse(r.passes(1e-4), r.summary());
    }
}
