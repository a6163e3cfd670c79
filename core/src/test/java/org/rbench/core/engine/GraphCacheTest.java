package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.testing.CpuBackend;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GraphCacheTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    /** A graph whose buffer holds about {@code floats} floats: a sum of two inputs of that size. */
    private static StepGraph graph(int floats) {
        StepGraph g = new StepGraph(8);
        Tensor a = g.input("a", GgmlType.F32, t -> { }, floats);
        Tensor b = g.input("b", GgmlType.F32, t -> { }, floats);
        g.expand(g.ctx.add(a, b));
        return g;
    }

    @Test
    void keepsTheMostRecentlyUsedGraphsUpToItsCapacity() {
        try (GraphCache<String> cache = new GraphCache<>(CPU.backend(), 3)) {
            for (int i = 0; i < 5; i++) {
                cache.put(List.of(i), graph(16), "g" + i);
                if (i == 2) {
                    assertNotNull(cache.get(List.of(0))); // 0 is used again: 1 goes first
                }
            }
            assertEquals(3, cache.size());
            assertNull(cache.get(List.of(1)));
            assertNull(cache.get(List.of(2)));
            assertEquals("g0", cache.get(List.of(0)).owner());
            assertEquals("g4", cache.get(List.of(4)).owner());
        }
    }

    @Test
    void keepsItsGraphsBuffersWithinItsByteBudgetButAlwaysTheNewest() {
        long one;
        try (GraphCache<String> probe = new GraphCache<>(CPU.backend(), 1)) {
            probe.put(List.of(0), graph(1 << 16), "probe");
            one = probe.bytes();
        }
        assertTrue(one >= 2L * 4 << 16, "a graph of two 64K-float inputs takes " + one + " bytes");
        try (GraphCache<String> cache = new GraphCache<>(CPU.backend(), 10, 2 * one + one / 2)) {
            for (int i = 0; i < 4; i++) {
                cache.put(List.of(i), graph(1 << 16), "g" + i);
            }
            assertEquals(2, cache.size());
            assertEquals(2 * one, cache.bytes());
            cache.put(List.of(9), graph(1 << 20), "big"); // over the budget alone: kept, the others go
            assertEquals(1, cache.size());
            assertEquals("big", cache.get(List.of(9)).owner());
        }
    }
}
