package org.rbench.core.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rbench.core.attention.StepReads;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;
import org.rbench.llamacpp.Tensor;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A step's small reads ride in its result slot ({@link StepResults#queue}): read afterwards they are the copies the step
 * left, whatever the tensors hold since; reads that do not fit the slot, and tensors never queued, are read from the
 * device.
 */
class StepResultsTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        LlamaCpp.initialise();
        backend = Backends.open("cpu", 1);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void aStepsReadsAreTheCopiesItLeftBesideItsResult() {
        int large = Math.toIntExact(StepResults.READ_BYTES / 4); // fills the reads' room alone: past the first, no room
        try (GgmlContext ctx = GgmlContext.forMetadata(5, 0);
             StepResults results = new StepResults(backend, 8)) {
            Tensor token = ctx.newTensor(GgmlType.I32, 1);
            Tensor count = ctx.newTensor(GgmlType.F32, 1);
            Tensor flags = ctx.newTensor(GgmlType.F32, 3);
            Tensor tooMany = ctx.newTensor(GgmlType.F32, large);
            Tensor never = ctx.newTensor(GgmlType.F32, 2);
            try (BackendBuffer buffer = BackendBuffer.allocate(ctx, backend)) {
                token.setInts(new int[] {7});
                count.setFloats(new float[] {2});
                flags.setFloats(new float[] {1, 0, 1});
                tooMany.setFloats(new float[large]);
                never.setFloats(new float[] {5, 6});
                int slot = results.take();
                results.queue(slot, token, List.of(count, flags, tooMany));
                results.await(slot);
                // what the next step writes: the slot keeps what this one left
                count.setFloats(new float[] {9});
                flags.setFloats(new float[] {0, 0, 0});
                float[] later = new float[large];
                later[0] = 3;
                tooMany.setFloats(later);
                StepReads reads = results.reads(slot);
                assertEquals(7, results.intAt(slot));
                assertArrayEquals(new float[] {2}, reads.floats(count));
                assertArrayEquals(new float[] {1, 0, 1}, reads.floats(flags));
                assertEquals(3, reads.floats(tooMany)[0], "no room left in the slot: read from the device");
                assertArrayEquals(new float[] {5, 6}, reads.floats(never));
                assertThrows(IllegalArgumentException.class, () -> results.queue(results.take(), null, List.of(token)),
                        "queued reads are F32");
            }
        }
    }
}
