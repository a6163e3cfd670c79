package org.rbench.core.engine;

import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The full K/V cache: per layer K and V as {@code [headDim, capacity, kvHeads]}, so that
 * each KV head's rows are contiguous (a per-head gather and a per-head range view are
 * plain strided reads). Keys are stored after RoPE, at their positions. Rows
 * [0, {@link #length()}) hold tokens.
 */
public final class KvCache implements AutoCloseable {
    private final GgmlContext context;
    private final BackendBuffer buffer;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private final int headDim;
    private final int kvHeads;
    private final GgmlType type;
    private int length;

    public KvCache(HyperParameters hp, Backend backend, int capacity, GgmlType type) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("cache capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.headDim = hp.headDim();
        this.kvHeads = hp.kvHeads();
        this.type = type;
        int layers = hp.layers();
        context = GgmlContext.forMetadata(2 * layers, 0);
        keys = new Tensor[layers];
        values = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = context.newTensor(type, headDim, capacity, kvHeads).name("cache_k_" + l);
            values[l] = context.newTensor(type, headDim, capacity, kvHeads).name("cache_v_" + l);
        }
        buffer = BackendBuffer.allocate(context, backend);
        // Rows past the length may be read under a -inf mask (padding); zeros keep 0 * v finite.
        buffer.clear(0);
    }

    public Tensor keys(int layer) {
        return keys[layer];
    }

    public Tensor values(int layer) {
        return values[layer];
    }

    public int layers() {
        return keys.length;
    }

    public int capacity() {
        return capacity;
    }

    public GgmlType type() {
        return type;
    }

    public int length() {
        return length;
    }

    void setLength(int n) {
        if (n < 0 || n > capacity) {
            throw new IllegalArgumentException("cache length " + n + " outside [0, " + capacity + "]");
        }
        length = n;
    }

    /** Bytes of one row of one head. */
    long rowBytes() {
        return type.rowSize(headDim);
    }

    public long bytes() {
        return buffer.size();
    }

    /** Copies rows [0, length) of every layer to host memory. */
    /**
     * Fills rows [0, rows) of every layer with random values (seeded; small, like real keys
     * and values after normalisation) and sets the length: a cache as large as a long
     * prefill would leave, in seconds, for latency measurements that do not need a real
     * context. Keys are random vectors, so attention spreads its mass widely.
     */
    public void fillSynthetic(int rows, long seed) {
        if (rows < 0 || rows > capacity()) {
            throw new IllegalArgumentException("cannot fill " + rows + " rows of a cache of " + capacity());
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        long headBytes = rowBytes() * rows;
        if (headBytes > 0) {
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                java.lang.foreign.MemorySegment block = arena.allocate(headBytes, 64);
                for (int l = 0; l < keys.length; l++) {
                    for (Tensor t : new Tensor[] {keys[l], values[l]}) {
                        for (int h = 0; h < kvHeads; h++) {
                            randomise(block, t.type(), random);
                            t.write(block, h * t.nb(2));
                        }
                    }
                }
            }
        }
        setLength(rows);
    }

    public static void randomise(java.lang.foreign.MemorySegment block, GgmlType type, java.util.SplittableRandom random) {
        if (type == GgmlType.F32) {
            for (long i = 0; i < block.byteSize() / 4; i++) {
                block.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) (random.nextDouble() * 2 - 1));
            }
        } else if (type == GgmlType.F16) {
            for (long i = 0; i < block.byteSize() / 2; i++) {
                block.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i, Float.floatToFloat16((float) (random.nextDouble() * 2 - 1)));
            }
        } else {
            throw new IllegalArgumentException("synthetic fill supports F16 and F32 caches, not " + type);
        }
    }

    public KvSnapshot snapshot() {
        Arena arena = Arena.ofShared();
        long headBytes = rowBytes() * length;
        long perTensor = headBytes * kvHeads;
        MemorySegment data = arena.allocate(Math.max(1, perTensor * 2 * keys.length), 64);
        long offset = 0;
        for (int l = 0; l < keys.length; l++) {
            for (Tensor t : new Tensor[] {keys[l], values[l]}) {
                for (int h = 0; h < kvHeads && headBytes > 0; h++) {
                    t.read(data.asSlice(offset, headBytes), h * t.nb(2));
                    offset += headBytes;
                }
            }
        }
        return new KvSnapshot(this, length, arena, data);
    }

    /** Puts a snapshot of this cache back; rows after its length are left as they are (never read). */
    public void restore(KvSnapshot snapshot) {
        if (snapshot.owner() != this) {
            throw new IllegalArgumentException("the snapshot was taken from another cache");
        }
        int n = snapshot.length();
        long headBytes = rowBytes() * n;
        MemorySegment data = snapshot.data();
        long offset = 0;
        for (int l = 0; l < keys.length; l++) {
            for (Tensor t : new Tensor[] {keys[l], values[l]}) {
                for (int h = 0; h < kvHeads && headBytes > 0; h++) {
                    t.write(data.asSlice(offset, headBytes), h * t.nb(2));
                    offset += headBytes;
                }
            }
        }
        length = n;
    }

    @Override
    public void close() {
        buffer.close();
        context.close();
    }
}
