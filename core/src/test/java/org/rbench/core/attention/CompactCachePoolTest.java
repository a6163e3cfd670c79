package org.rbench.core.attention;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.testing.CpuBackend;
import org.rbench.llamacpp.GgmlType;

import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A pooled compact cache comes back zeroed to the next taker of its capacity, and only to one. */
class CompactCachePoolTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    @Test
    void aClosedCacheIsReissuedZeroed() {
        try (CompactCache.Pool pool = new CompactCache.Pool(CPU.backend(), 8, 2, GgmlType.F32)) {
            CompactCache a = pool.take(4);
            float[] ones = new float[8 * 4 * 2];
            java.util.Arrays.fill(ones, 1f);
            a.keys().setFloats(ones);
            a.close();
            a.close(); // twice: still one entry in the pool
            CompactCache b = pool.take(4);
            assertSame(a, b);
            assertTrue(allZero(b.keys().getFloats()), "rows of the last user are cleared");
            CompactCache c = pool.take(4);
            assertNotSame(b, c, "a cache in use is not handed out twice");
            CompactCache d = pool.take(6);
            assertNotSame(c, d);
            b.close();
            c.close();
            d.close();
        }
    }

    @Test
    void spareRowsLiePastTheCapacityAndKeyThePool() {
        try (CompactCache.Pool pool = new CompactCache.Pool(CPU.backend(), 8, 2, GgmlType.F32)) {
            CompactCache spare = pool.take(4, 3);
            org.junit.jupiter.api.Assertions.assertEquals(4, spare.capacity());
            org.junit.jupiter.api.Assertions.assertEquals(3, spare.spareRows());
            org.junit.jupiter.api.Assertions.assertEquals(7, spare.keys().ne(1), "the tensors hold the spare rows too");
            org.junit.jupiter.api.Assertions.assertEquals(7, spare.positions().ne(0));
            spare.close();
            CompactCache plain = pool.take(4);
            assertNotSame(spare, plain, "a cache with spare rows is no plain cache of its capacity");
            CompactCache again = pool.take(4, 3);
            assertSame(spare, again);
            again.close();
            plain.close();
        }
    }

    @Test
    void aClosedPoolHandsOutNothing() {
        CompactCache.Pool pool = new CompactCache.Pool(CPU.backend(), 8, 2, GgmlType.F32);
        CompactCache out = pool.take(4);
        pool.close();
        out.close(); // freed, not pooled
        assertThrows(IllegalStateException.class, () -> pool.take(4));
    }

    private static boolean allZero(float[] v) {
        for (float f : v) {
            if (f != 0f) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aStacksLayersShareItsTensorsAndComeBackZeroedTogether() {
        try (ReusableState.Pool states = new ReusableState.Pool()) {
            CompactCache.Stack stack = states.take("stack", CompactCache.Stack.class,
                    () -> CompactCache.Stack.allocate(CPU.backend(), 8, 2, 3, 4, 1, GgmlType.F32));
            org.junit.jupiter.api.Assertions.assertEquals(3, stack.layers().size());
            org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {8, 5, 2, 3},
                    new long[] {stack.keysOfEveryLayer().ne(0), stack.keysOfEveryLayer().ne(1), stack.keysOfEveryLayer().ne(2),
                            stack.keysOfEveryLayer().ne(3)}, "capacity and spare rows, KV heads, layers");
            CompactCache second = stack.layer(1);
            org.junit.jupiter.api.Assertions.assertEquals(4, second.capacity());
            org.junit.jupiter.api.Assertions.assertEquals(1, second.spareRows());
            float[] values = new float[8 * 5 * 2];
            java.util.Arrays.fill(values, 2f);
            second.values().setFloats(values);
            int[] positions = new int[5 * 2];
            java.util.Arrays.fill(positions, 7);
            second.positions().setInts(positions);
            float[] all = stack.valuesOfEveryLayer().getFloats();
            for (int i = 0; i < all.length; i++) {
                org.junit.jupiter.api.Assertions.assertEquals(i / values.length == 1 ? 2f : 0f, all[i], "value " + i);
            }
            int[] kept = stack.positionsOfEveryLayer().getInts();
            for (int i = 0; i < kept.length; i++) {
                org.junit.jupiter.api.Assertions.assertEquals(i / positions.length == 1 ? 7 : 0, kept[i], "position " + i);
            }
            second.close(); // a layer's: frees nothing, the stack stays whole
            org.junit.jupiter.api.Assertions.assertEquals(2f, stack.valuesOfEveryLayer().getFloats()[values.length]);
            stack.close();
            CompactCache.Stack again = states.take("stack", CompactCache.Stack.class, () -> {
                throw new AssertionError("the stack handed back is taken over");
            });
            assertSame(stack, again);
            assertTrue(allZero(again.valuesOfEveryLayer().getFloats()), "every layer's rows are cleared");
            assertTrue(java.util.Arrays.stream(again.positionsOfEveryLayer().getInts()).allMatch(p -> p == 0));
            again.close();
        }
    }

    /** Recycled's fixed schedule and its dynamic one (spare rows) take stacks of two shapes in turns: both stay idle. */
    @Test
    void stacksOfTwoShapesTakingTurnsAreBothKept() {
        try (ReusableState.Pool states = new ReusableState.Pool()) {
            CompactCache.Stack plain = states.take(java.util.List.of("stack", 4, 0), CompactCache.Stack.class,
                    () -> CompactCache.Stack.allocate(CPU.backend(), 8, 2, 3, 4, 0, GgmlType.F32));
            plain.close();
            CompactCache.Stack spare = states.take(java.util.List.of("stack", 4, 4), CompactCache.Stack.class,
                    () -> CompactCache.Stack.allocate(CPU.backend(), 8, 2, 3, 4, 4, GgmlType.F32));
            spare.close();
            org.junit.jupiter.api.Assertions.assertEquals(2, states.idle(), "making the second freed no idle first");
            CompactCache.Stack again = states.take(java.util.List.of("stack", 4, 0), CompactCache.Stack.class, () -> {
                throw new AssertionError("the first shape's stack was freed");
            });
            assertSame(plain, again);
            again.close();
        }
    }
}
