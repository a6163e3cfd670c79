package org.rbench.core.parity;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * rbench parity --queued-only on the CPU: the engine's waited, queued and generated decodes agree
 * for methods whose budget does not cover the context, and the check counts what it compares.
 */
class QueuedCheckTest {
    @TempDir
    static Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"full", "recycled:k=32,s=4", "recycled-dynamic:k=32,qc=4,threshold=0.99"})
    void theWaitedQueuedAndGeneratedDecodesAgree(String method) throws Exception {
        Path model = dir.resolve("tiny-" + method.hashCode() + ".gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F16), model);
        QueuedCheck.Report r = QueuedCheck.run(ParityRequest.defaults(model).withTokens(96, 20), method);
        assertTrue(r.passes(), r.summary());
        assertEquals(20, r.steps());
        assertTrue(r.queuedAhead() > 0, r.summary());
        assertEquals(0, r.fedAhead(), "the CPU's generation waits for every pick");
    }

    @org.junit.jupiter.api.Test
    void agreementsCountPositionsAndLeadingRuns() {
        assertEquals(2, QueuedCheck.agreements(new int[] {1, 2, 3}, new int[] {1, 0, 3}));
        assertEquals(1, QueuedCheck.leadingAgreements(new int[] {1, 2, 3}, new int[] {1, 0, 3}));
        assertEquals(3, QueuedCheck.leadingAgreements(new int[] {1, 2, 3}, new int[] {1, 2, 3}));
    }
}
