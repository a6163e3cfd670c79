package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A tensor outlives nothing: once its context is closed, reading or writing its data is an
 * exception, not a copy through freed memory that may crash the process.
 */
class TensorLifetimeTest {
    @Test
    void dataOfATensorWhoseContextIsClosedCannotBeMoved() {
        LlamaCpp.initialise();
        try (Backend cpu = Backends.open("cpu", 1)) {
            dataMovesUntilTheContextCloses(cpu);
        }
    }

    private static void dataMovesUntilTheContextCloses(Backend cpu) {
        GgmlContext ctx = GgmlContext.forMetadata(2, 0);
        Tensor t = ctx.newTensor(GgmlType.F32, 4);
        Tensor view = ctx.view(t, new long[] {2}, new long[0], 0);
        try (BackendBuffer buffer = BackendBuffer.allocate(ctx, cpu)) {
            t.setFloats(new float[] {1, 2, 3, 4});
            assertArrayEquals(new float[] {1, 2, 3, 4}, t.getFloats());
            assertTrue(t.alive());
            ctx.close();
            assertFalse(t.alive());
            assertFalse(view.alive(), "a view made in the closed context");
            assertThrows(IllegalStateException.class, view::getFloats);
            assertThrows(IllegalStateException.class, t::getFloats);
            assertThrows(IllegalStateException.class, () -> t.setFloats(new float[4]));
            assertThrows(IllegalStateException.class, () -> t.read(java.lang.foreign.MemorySegment.ofArray(new byte[16]), 0));
        }
    }
}
