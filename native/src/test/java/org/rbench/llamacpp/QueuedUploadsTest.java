package org.rbench.llamacpp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Queued uploads on the CPU backend, whose buffer type stands in for pinned memory and whose
 * set_tensor_async is ggml's synchronous fallback: each write gets its own slice, the data
 * arrive, writes that do not fit or whose tensor is in other memory are made directly, and a
 * run ends the queuing.
 */
class QueuedUploadsTest {
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
    void writesInsideARunArriveEachInItsOwnSlice() {
        try (GgmlContext ctx = GgmlContext.forMetadata(3, 0);
             QueuedUploads uploads = new QueuedUploads(backend, backend.defaultBufferType(), backend.defaultBufferType(), 256)) {
            Tensor a = ctx.newTensor(GgmlType.I32, 4);
            Tensor b = ctx.newTensor(GgmlType.F32, 8);
            Tensor large = ctx.newTensor(GgmlType.F32, 100); // 400 bytes: more than the staging holds
            try (BackendBuffer buffer = BackendBuffer.allocate(ctx, backend)) {
                float[] big = new float[100];
                for (int i = 0; i < big.length; i++) {
                    big[i] = i * 0.5f;
                }
                uploads.run(() -> {
                    a.setInts(new int[] {1, 2, 3, 4});
                    assertEquals(16, uploads.used());
                    b.setFloats(new float[] {1, 2, 3, 4, 5, 6, 7, 8});
                    assertEquals(64 + 32, uploads.used(), "the second write starts at the next 64-byte slice");
                    large.setFloats(big);
                    assertEquals(96, uploads.used(), "a write that does not fit is made directly");
                });
                assertNull(QueuedUploads.active(), "a run ends the queuing");
                assertArrayEquals(new int[] {1, 2, 3, 4}, a.getInts());
                assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, b.getFloats());
                assertArrayEquals(big, large.getFloats());
                uploads.run(() -> assertEquals(0, uploads.used(), "each run starts with the whole staging"));
            }
        }
    }

    @Test
    void runsTakeTurnsWithTheHalvesOfTheStaging() {
        // a run waits only for the copies of the run before last (its half), so a run can fill the
        // next step's inputs while the last run's graph computes
        try (GgmlContext ctx = GgmlContext.forMetadata(1, 0);
             QueuedUploads uploads = new QueuedUploads(backend, backend.defaultBufferType(), backend.defaultBufferType(), 256)) {
            Tensor t = ctx.newTensor(GgmlType.F32, 20); // 80 bytes: fits a half (128), not twice
            try (BackendBuffer buffer = BackendBuffer.allocate(ctx, backend)) {
                int[] halves = new int[4];
                for (int run = 0; run < halves.length; run++) {
                    float[] values = new float[20];
                    java.util.Arrays.fill(values, run);
                    uploads.run(() -> t.setFloats(values));
                    halves[run] = uploads.half();
                    assertEquals(80, uploads.used(), "queued in the run's own half");
                    assertArrayEquals(values, t.getFloats());
                }
                assertArrayEquals(new int[] {halves[0], 1 - halves[0], halves[0], 1 - halves[0]}, halves);
            }
        }
    }

    @Test
    void tensorsOutsideTheQueuedMemoryAreWrittenDirectly() {
        // queuing for a buffer type no tensor has: every write is direct (ggml asserts on a queued
        // write to memory of another type)
        try (GgmlContext ctx = GgmlContext.forMetadata(1, 0);
             QueuedUploads uploads = new QueuedUploads(backend, backend.defaultBufferType(), java.lang.foreign.MemorySegment.NULL, 256)) {
            Tensor t = ctx.newTensor(GgmlType.I32, 4);
            try (BackendBuffer buffer = BackendBuffer.allocate(ctx, backend)) {
                uploads.run(() -> {
                    t.setInts(new int[] {5, 6, 7, 8});
                    assertEquals(0, uploads.used());
                });
                assertArrayEquals(new int[] {5, 6, 7, 8}, t.getInts());
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new QueuedUploads(backend, 1024), "the CPU has nothing to queue");
    }
}
