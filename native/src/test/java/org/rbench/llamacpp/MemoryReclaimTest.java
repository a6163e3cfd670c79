package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * An allocation that fails asks the backend's reclaimers to give memory back before it gives up
 * ({@link Backend#reclaimMemory}); one that succeeds asks nothing, and a removed reclaimer is not asked.
 */
class MemoryReclaimTest {
    @Test
    void aFailedAllocationAsksEveryReclaimerOnceThenFails() {
        LlamaCpp.initialise();
        try (Backend cpu = Backends.open("cpu", 1)) {
            AtomicInteger asked = new AtomicInteger();
            AtomicInteger askedToo = new AtomicInteger();
            BooleanSupplier freesSomething = () -> asked.incrementAndGet() > 0;
            BooleanSupplier freesNothing = () -> askedToo.incrementAndGet() < 0;
            cpu.addMemoryReclaimer(freesSomething);
            cpu.addMemoryReclaimer(freesNothing);
            try (GgmlContext small = GgmlContext.forMetadata(1, 0)) {
                small.newTensor(GgmlType.F32, 16);
                try (BackendBuffer ignored = BackendBuffer.allocate(small, cpu)) {
                    assertEquals(0, asked.get(), "an allocation that succeeds asks nothing");
                }
            }
            try (GgmlContext huge = GgmlContext.forMetadata(1, 0)) {
                huge.newTensor(GgmlType.F32, 1L << 41); // 8 TiB: no host here gives it
                NativeCallException e = assertThrows(NativeCallException.class, () -> BackendBuffer.allocate(huge, cpu));
                assertEquals(1, asked.get(), e.getMessage());
                assertEquals(1, askedToo.get());
            }
            cpu.removeMemoryReclaimer(freesSomething);
            assertEquals(false, cpu.reclaimMemory(), "only the reclaimer that frees nothing is left");
            assertEquals(1, asked.get());
        }
    }

    /**
     * A graph allocator whose allocation fails plans again before it retries: a second alloc_graph on its kept plan
     * would write into the buffer it failed to get (a crash, not an error).
     */
    @Test
    void aGraphAllocationThatFailsAfterAReclaimFailsAsAnError() {
        LlamaCpp.initialise();
        try (Backend cpu = Backends.open("cpu", 1);
             GgmlContext graphCtx = GgmlContext.forMetadata(8, 8)) {
            AtomicInteger asked = new AtomicInteger();
            cpu.addMemoryReclaimer(() -> asked.incrementAndGet() > 0);
            ComputeGraph g = graphCtx.newGraph(8);
            Tensor a = graphCtx.newTensor(GgmlType.F32, 1L << 41).input(); // 8 TiB: no host here gives it
            Tensor out = graphCtx.scale(a, 2f).output();
            g.expand(out);
            try (GraphAllocator alloc = new GraphAllocator(cpu)) {
                NativeCallException e = assertThrows(NativeCallException.class, () -> alloc.allocate(g));
                assertEquals(1, asked.get(), e.getMessage());
                assertThrows(NativeCallException.class, () -> alloc.reserve(g));
                assertEquals(2, asked.get());
            }
        }
    }
}
