package org.rbench.core.engine;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A host copy of the used rows of a {@link KvCache}: several decoding methods can start
 * from one prefill by restoring it. Holds off-heap memory until closed.
 */
public final class KvSnapshot implements AutoCloseable {
    private final KvCache owner;
    private final int length;
    private final Arena arena;
    private final MemorySegment data;

    KvSnapshot(KvCache owner, int length, Arena arena, MemorySegment data) {
        this.owner = owner;
        this.length = length;
        this.arena = arena;
        this.data = data;
    }

    KvCache owner() {
        return owner;
    }

    MemorySegment data() {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("the KV snapshot is closed");
        }
        return data;
    }

    /** Tokens in the snapshot. */
    public int length() {
        return length;
    }

    public long bytes() {
        return data.byteSize();
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
