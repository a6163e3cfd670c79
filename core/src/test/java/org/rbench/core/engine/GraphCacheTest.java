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
    private static StepGraph graph(long floats) {
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

    /** A graph built again under a key whose graph was evicted is a rebuild; a first build or a replacement is not. */
    @Test
    void countsTheGraphsItHadToBuildAgain() {
        try (GraphCache<String> cache = new GraphCache<>(CPU.backend(), 2)) {
            cache.put(List.of("refresh"), graph(16), "r");
            cache.put(List.of("sparse"), graph(16), "s");
            cache.put(List.of("sparse"), graph(16), "s again"); // replaced, not evicted
            assertEquals(0, cache.evictions());
            cache.put(List.of("other method"), graph(16), "o"); // "refresh" is the least recently used
            assertEquals(1, cache.evictions());
            assertEquals(0, cache.rebuilds());
            cache.put(List.of("refresh"), graph(16), "r again"); // evicts "sparse"
            assertEquals(1, cache.rebuilds());
            assertEquals(2, cache.evictions());
            cache.put(List.of("new shape"), graph(16), "n");
            assertEquals(1, cache.rebuilds());
        }
    }

    /** Why a key has no graph: nothing kept, an eviction, or the components where the nearest kept key differs. */
    @Test
    void saysWhyAKeyHasNoGraph() {
        try (GraphCache<String> cache = new GraphCache<>(CPU.backend(), 2)) {
            assertEquals("no graph is kept", cache.whyNew(List.of(1, "a", 3)));
            cache.put(List.of(1, "a", 3), graph(16), "first");
            cache.put(List.of(7, "b", 9), graph(16), "second");
            assertEquals("of 2 kept, the nearest differs in [1] kept a, new z;", cache.whyNew(List.of(1, "z", 3)));
            cache.put(List.of(5, "c", 6), graph(16), "third"); // evicts the first
            assertEquals("its graph was evicted", cache.whyNew(List.of(1, "a", 3)));
        }
    }

    /**
     * A graph the device cannot hold beside the kept ones: they are given back and the allocation tried once more; where
     * even that fails the error stands, and the cache is left empty, not holding half of a failed put.
     */
    @Test
    void givesBackItsGraphsBeforeAnAllocationFailsForGood() {
        try (GraphCache<String> cache = new GraphCache<>(CPU.backend(), 4)) {
            cache.put(List.of(0), graph(16), "kept");
            // 2 x 2^40 floats: 8 TiB, more than any host here gives one allocation
            RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                    () -> cache.put(List.of(1), graph(1L << 40), "huge"));
            assertTrue(e.getMessage().contains("out of memory"), e.getMessage());
            assertEquals(0, cache.size());
            assertEquals(1, cache.evictions());
            cache.put(List.of(0), graph(16), "again");
            assertEquals(1, cache.rebuilds());
        }
    }
}
