package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/**
 * A per-thread native staging buffer for transfers between Java arrays and backend memory
 * (reads, and the uploads of {@code Tensor.setInts} and its kind), grown as needed and kept:
 * a fresh confined arena per read zero-fills its memory first, which for the 4 MB arrays of
 * a Recycled full step's candidates cost as much as the copy itself.
 *
 * <p>Once a GPU backend is initialised ({@link #usePinned}), new buffers are page-locked host
 * memory of that device (its host buffer type, as llama.cpp's output buffer): a GPU copies
 * into it by DMA, where a copy into pageable memory goes through the driver's staging in
 * chunks (the 0.5 MB of a Llama-3 step's logits on an H200: 0.36 ms read into pageable memory,
 * 0.12 ms into pinned memory; docs/results/2026-11-28-cuda-8b-h200-session5.md). Where pinned
 * memory cannot be had, the buffer is plain native memory.
 *
 * <p>A thread's buffer is freed when the thread is gone (a {@link Cleaner} on its holder) or
 * when a larger one replaces it.
 */
final class HostScratch {
    /** Pinned buffers above this size are not worth the locked memory: plain memory instead. */
    static final long MAX_PINNED_BYTES = 1L << 30;
    private static final Cleaner CLEANER = Cleaner.create();
    private static volatile MemorySegment pinnedBufferType = MemorySegment.NULL;
    private static final ThreadLocal<Staging> STAGING = ThreadLocal.withInitial(Staging::new);

    private HostScratch() {
    }

    /**
     * From now on, buffers are allocated in this host buffer type (a GPU device's pinned
     * memory, {@link Backend#hostBufferType()}); the buffers threads already hold stay until
     * they grow.
     */
    static void usePinned(MemorySegment hostBufferType) {
        if (hostBufferType != null && !hostBufferType.equals(MemorySegment.NULL)) {
            pinnedBufferType = hostBufferType;
        }
    }

    /** Back to plain memory for new buffers (tests). */
    static void usePlain() {
        pinnedBufferType = MemorySegment.NULL;
    }

    /** {@code bytes} of this thread's buffer (contents undefined), valid until its next call on the thread. */
    static MemorySegment take(long bytes) {
        return STAGING.get().take(bytes);
    }

    /** Whether this thread's current buffer is pinned memory (for tests and diagnostics). */
    static boolean currentIsPinned() {
        return STAGING.get().pinned != null;
    }

    private static final class Staging {
        private MemorySegment memory = MemorySegment.NULL;
        private Cleaner.Cleanable pinned;

        MemorySegment take(long bytes) {
            if (memory.byteSize() < bytes) {
                grow(Math.max(bytes, 2 * memory.byteSize()));
            }
            return memory.asSlice(0, bytes);
        }

        private void grow(long size) {
            if (pinned != null) {
                pinned.clean(); // the old buffer: its contents were only valid until this call
                pinned = null;
            }
            MemorySegment type = pinnedBufferType;
            if (!type.equals(MemorySegment.NULL) && size <= MAX_PINNED_BYTES) {
                try {
                    HostBlock block = new HostBlock(type, size, "host_staging");
                    memory = block.memory();
                    // the action holds the block, not this holder, so that it can run
                    pinned = CLEANER.register(this, block::close);
                    return;
                } catch (RuntimeException e) {
                    // no pinned memory to be had: plain memory below
                }
            }
            memory = Arena.ofAuto().allocate(size, 64);
        }
    }
}
