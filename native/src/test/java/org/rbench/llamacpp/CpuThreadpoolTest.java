package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.function.IntSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU threadpool's workers are made once and live until it is freed: the process gains
 * them when a pool (or a CPU backend with threads) is made, not only while a graph computes.
 */
class CpuThreadpoolTest {
    static {
        NativeLibraries.load();
    }

    /** The process's threads, as Linux lists them. */
    private static int osThreads() {
        String[] tasks = new File("/proc/self/task").list();
        return tasks == null ? -1 : tasks.length;
    }

    /**
     * The change in the process's threads across {@code action}, tried a few times: the JVM
     * starts and stops threads of its own (compiler threads) now and then.
     */
    private static void assertThreadChange(int expected, Runnable action, Runnable undo) {
        int seen = Integer.MIN_VALUE;
        for (int attempt = 0; attempt < 5 && seen != expected; attempt++) {
            int before = osThreads();
            action.run();
            seen = osThreads() - before;
            undo.run();
        }
        assertEquals(expected, seen, "threads gained");
    }

    @Test
    void aPoolKeepsItsWorkersUntilFreed() {
        org.junit.jupiter.api.Assumptions.assumeTrue(osThreads() > 0, "needs /proc/self/task");
        CpuThreadpool[] pool = new CpuThreadpool[1];
        assertThreadChange(3, () -> pool[0] = CpuThreadpool.create(4), () -> pool[0].close());
        CpuThreadpool p = CpuThreadpool.create(2);
        assertEquals(2, p.threads());
        int with = osThreads();
        p.close();
        p.close(); // twice is harmless
        assertTrue(osThreads() < with, "its worker is joined when it is freed");
        assertThrows(IllegalStateException.class, p::address);
        assertThrows(IllegalArgumentException.class, () -> CpuThreadpool.create(0));
    }

    @Test
    void aCpuBackendComputesOnAPoolOfItsThreads() {
        org.junit.jupiter.api.Assumptions.assumeTrue(osThreads() > 0, "needs /proc/self/task");
        Backend[] b = new Backend[1];
        // 3 threads: the caller and 2 workers that wait between graphs (ggml's disposable pools would add none)
        assertThreadChange(2, () -> b[0] = Backends.open("cpu", 3), () -> b[0].close());
        IntSupplier count = CpuThreadpoolTest::osThreads;
        try (Backend backend = Backends.open("cpu", 2)) {
            int before = count.getAsInt();
            backend.setThreads(4);
            assertEquals(4, backend.threads());
            assertEquals(2, count.getAsInt() - before, "a new count makes a new pool and frees the old one");
        }
    }

    /** A paused pool computes again on its next graph (ggml's kickoff resumes it), and pausing twice is harmless. */
    @Test
    void aPausedPoolWakesForItsNextGraph() {
        try (Backend backend = Backends.open("cpu", 2);
             GgmlContext data = GgmlContext.forMetadata(1, 0)) {
            Tensor a = data.newTensor(GgmlType.F32, 64, 64);
            float[] ones = new float[64 * 64];
            java.util.Arrays.fill(ones, 1f);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, backend)) {
                a.setFloats(ones);
                for (int round = 0; round < 3; round++) {
                    backend.pauseThreads();
                    backend.pauseThreads();
                    try (GgmlContext ctx = GgmlContext.forMetadata(8, 8);
                         GraphAllocator allocator = new GraphAllocator(backend)) {
                        ComputeGraph g = ctx.newGraph(8);
                        Tensor product = ctx.mulMat(a, a).output();
                        g.expand(product);
                        allocator.allocate(g);
                        backend.compute(g);
                        assertEquals(64f, product.getFloats()[0], "round " + round);
                    }
                }
            }
        }
    }

    @Test
    void theParametersAreGgmlsWithThePollingLevelSet() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment p = CpuThreadpool.params(arena, 3, 7);
            assertEquals(3, p.get(java.lang.foreign.ValueLayout.JAVA_INT, CpuThreadpool.N_THREADS_OFFSET));
            assertEquals(7, p.get(java.lang.foreign.ValueLayout.JAVA_INT, CpuThreadpool.POLL_OFFSET));
            assertEquals(0, p.get(java.lang.foreign.ValueLayout.JAVA_INT, CpuThreadpool.N_THREADS_OFFSET + 4), "prio");
        }
        assertEquals(50, CpuThreadpool.POLL, "llama-bench's and ggml's level: pools are paused when their decode ends");
        CpuThreadpool.create(2, 100).close();
        assertThrows(IllegalArgumentException.class, () -> CpuThreadpool.create(2, 101));
        assertThrows(IllegalArgumentException.class, () -> CpuThreadpool.create(2, -1));
    }
}
