package org.rbench.core.attention;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

/**
 * A small K/V cache for one layer that a policy owns (e.g. Recycled Attention's Cp):
 * K and V as {@code [headDim, capacity, kvHeads]} on the engine's backend, in the cache
 * type. The policy fills it with {@link AttentionContext#copyRows} and tracks which
 * rows mean what; the engine writes the new token into it when a COMPACT plan says so.
 * Create it with {@link AttentionContext#newCompactCache}; close it when done.
 */
public final class CompactCache implements AutoCloseable {
    private final GgmlContext context;
    private final BackendBuffer buffer;
    private final Tensor keys;
    private final Tensor values;
    private final int capacity;

    CompactCache(Backend backend, int headDim, int kvHeads, int capacity, GgmlType type) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("compact cache capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        context = GgmlContext.forMetadata(2, 0);
        keys = context.newTensor(type, headDim, capacity, kvHeads).name("compact_k");
        values = context.newTensor(type, headDim, capacity, kvHeads).name("compact_v");
        buffer = BackendBuffer.allocate(context, backend);
        // Zeros, not garbage: a NaN in an unused row would poison a masked product.
        buffer.clear(0);
    }

    /** Allocates a compact cache; {@link AttentionContext#newCompactCache} is the usual way. */
    public static CompactCache allocate(Backend backend, int headDim, int kvHeads, int capacity, GgmlType type) {
        return new CompactCache(backend, headDim, kvHeads, capacity, type);
    }

    public int capacity() {
        return capacity;
    }

    public Tensor keys() {
        return keys;
    }

    public Tensor values() {
        return values;
    }

    @Override
    public void close() {
        buffer.close();
        context.close();
    }
}
