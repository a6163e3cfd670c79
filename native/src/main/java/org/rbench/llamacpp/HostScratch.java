package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A per-thread native staging buffer for device-to-host reads, grown as needed and kept:
 * a fresh confined arena per read zero-fills its memory first, which for the 4 MB arrays of
 * a Recycled full step's candidates cost as much as the copy itself. The buffer is freed by
 * the garbage collector with its thread (an automatic arena).
 */
final class HostScratch {
    private static final ThreadLocal<MemorySegment> BUFFER = ThreadLocal.withInitial(() -> MemorySegment.NULL);

    private HostScratch() {
    }

    /** {@code bytes} of this thread's buffer (contents undefined), valid until its next call on the thread. */
    static MemorySegment take(long bytes) {
        MemorySegment buffer = BUFFER.get();
        if (buffer.byteSize() < bytes) {
            buffer = Arena.ofAuto().allocate(Math.max(bytes, 2 * buffer.byteSize()), 64);
            BUFFER.set(buffer);
        }
        return buffer.asSlice(0, bytes);
    }
}
