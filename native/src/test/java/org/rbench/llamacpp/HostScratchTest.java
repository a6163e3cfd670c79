package org.rbench.llamacpp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads through the staging buffer, plain and in a buffer type's memory (on a GPU its pinned
 * host memory; here the CPU's buffer type stands in for it, which takes the same path:
 * a one-tensor context allocated in the type, replaced when a read needs more).
 */
class HostScratchTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        LlamaCpp.initialise();
        backend = Backends.open("cpu", 1);
    }

    @AfterAll
    static void close() {
        HostScratch.usePlain();
        backend.close();
    }

    /** A tensor of {@code n} random floats in backend memory, read back twice on a fresh thread. */
    private static void readBack(int n, boolean expectPinned) throws Exception {
        float[] values = new float[n];
        Random random = new Random(n);
        for (int i = 0; i < n; i++) {
            values[i] = random.nextFloat();
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (GgmlContext ctx = GgmlContext.forMetadata(2, 0)) {
                Tensor small = ctx.newTensor(GgmlType.F32, 16);
                Tensor large = ctx.newTensor(GgmlType.F32, n);
                try (BackendBuffer buffer = BackendBuffer.allocate(ctx, backend)) {
                    float[] head = new float[16];
                    System.arraycopy(values, 0, head, 0, 16);
                    small.setFloats(head);
                    large.setFloats(values);
                    assertArrayEquals(head, small.getFloats());
                    assertArrayEquals(values, large.getFloats()); // grows the buffer: a new one replaces it
                    assertArrayEquals(head, small.getFloats());
                    if (expectPinned) {
                        assertTrue(HostScratch.currentIsPinned());
                    } else {
                        assertFalse(HostScratch.currentIsPinned());
                    }
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @Test
    void plainMemoryByDefault() throws Exception {
        HostScratch.usePlain();
        readBack(100_000, false);
    }

    @Test
    void aBufferTypesMemoryOnceOneIsGiven() throws Exception {
        HostScratch.usePinned(backend.defaultBufferType());
        try {
            readBack(300_000, true);
        } finally {
            HostScratch.usePlain();
        }
    }

    @Test
    void noBufferTypeLeavesPlainMemory() throws Exception {
        HostScratch.usePinned(null);
        HostScratch.usePinned(java.lang.foreign.MemorySegment.NULL);
        readBack(1000, false);
    }
}
