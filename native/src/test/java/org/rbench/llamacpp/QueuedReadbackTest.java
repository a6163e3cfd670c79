package org.rbench.llamacpp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Read-backs into slots and events on the CPU backend, where both fall back to waiting for the
 * backend (its computes finish before they return): each slot keeps its own copy, a slot holds
 * only what fits, and a closed event refuses use.
 */
class QueuedReadbackTest {
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
    void eachSlotKeepsItsOwnCopy() {
        try (GgmlContext ctx = GgmlContext.forMetadata(2, 0);
             QueuedReadback readback = new QueuedReadback(backend, 2, 16)) {
            Tensor ints = ctx.newTensor(GgmlType.I32, 3);
            Tensor floats = ctx.newTensor(GgmlType.F32, 4);
            try (BackendBuffer buffer = BackendBuffer.allocate(ctx, backend)) {
                ints.setInts(new int[] {7, 8, 9});
                floats.setFloats(new float[] {0.5f, -1, 2, 3});
                readback.queue(0, ints);
                readback.queue(1, floats);
                ints.setInts(new int[] {1, 1, 1}); // after the copy: slot 0 keeps what it read
                assertEquals(7, readback.intAt(0, 0));
                assertEquals(9, readback.intAt(0, 2));
                assertArrayEquals(new float[] {0.5f, -1, 2, 3}, readback.floats(1, 4));
                assertEquals(64, readback.slotBytes(), "slots are whole 64-byte lines");
            }
        }
    }

    @Test
    void aTensorLargerThanASlotOrNotContiguousIsRefused() {
        try (GgmlContext ctx = GgmlContext.forMetadata(3, 0);
             QueuedReadback readback = new QueuedReadback(backend, 1, 64)) {
            Tensor large = ctx.newTensor(GgmlType.F32, 17);
            Tensor matrix = ctx.newTensor(GgmlType.F32, 2, 2);
            try (BackendBuffer buffer = BackendBuffer.allocate(ctx, backend)) {
                assertThrows(IllegalArgumentException.class, () -> readback.queue(0, large));
                Tensor column = ctx.view(matrix, new long[] {1, 2}, new long[] {matrix.nb(1)}, 0);
                assertFalse(column.isContiguous());
                assertThrows(IllegalArgumentException.class, () -> readback.queue(0, column));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new QueuedReadback(backend, 0, 4));
    }

    @Test
    void aCpuEventWaitsForTheBackendAndAClosedOneRefusesUse() {
        BackendEvent event = backend.newEvent();
        assertFalse(event.isNative(), "the CPU device has no events: waiting synchronizes the backend");
        event.synchronize(); // never recorded: returns at once
        event.record();
        event.synchronize();
        event.close();
        event.close();
        assertThrows(IllegalStateException.class, event::record);
        assertThrows(IllegalStateException.class, event::synchronize);
    }
}
