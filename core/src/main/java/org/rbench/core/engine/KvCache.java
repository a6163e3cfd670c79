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
 * [0, {@link #length()}) hold tokens. Every layer's K (and V) lie in one tensor {@code [headDim, capacity,
 * kvHeads, layers]} ({@link #keysOfEveryLayer}), each layer's tensor a slice of it placed in its memory (no
 * view: a leaf in every graph, as a tensor of its own), so that one gather can read rows of every layer
 * (a refresh of Recycled Attention's compact caches: two gathers, not one a layer and kind).
 */
public final class KvCache implements AutoCloseable {
    private final GgmlContext context;
    private final GgmlContext layerContext;
    private final BackendBuffer buffer;
    private final Tensor keysOfEveryLayer;
    private final Tensor valuesOfEveryLayer;
    private final Tensor[] keys;
    private final Tensor[] values;
    private final int capacity;
    private final int headDim;
    private final int kvHeads;
    private final GgmlType type;
    private int length;
    /** Snapshots open and intact: the ones a drop of the length must mark. */
    private final java.util.List<KvSnapshot> snapshots = new java.util.ArrayList<>();

    public KvCache(HyperParameters hp, Backend backend, int capacity, GgmlType type) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("cache capacity must be positive, got " + capacity);
        }
        this.capacity = capacity;
        this.headDim = hp.headDim();
        this.kvHeads = hp.kvHeads();
        this.type = type;
        int layers = hp.layers();
        context = GgmlContext.forMetadata(2, 0);
        keysOfEveryLayer = context.newTensor(type, headDim, capacity, kvHeads, layers).name("cache_k");
        valuesOfEveryLayer = context.newTensor(type, headDim, capacity, kvHeads, layers).name("cache_v");
        buffer = BackendBuffer.allocate(context, backend);
        layerContext = GgmlContext.forMetadata(2 * layers, 0);
        try {
            keys = buffer.placeSlices(layerContext, keysOfEveryLayer, 3, "cache_k");
            values = buffer.placeSlices(layerContext, valuesOfEveryLayer, 3, "cache_v");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        // Rows past the length may be read under a -inf mask (padding); zeros keep 0 * v finite.
        buffer.clear(0);
    }

    public Tensor keys(int layer) {
        return keys[layer];
    }

    public Tensor values(int layer) {
        return values[layer];
    }

    /** Every layer's keys, {@code [headDim, capacity, kvHeads, layers]}: slice l is {@link #keys}(l)'s memory. */
    public Tensor keysOfEveryLayer() {
        return keysOfEveryLayer;
    }

    /** Every layer's values, as {@link #keysOfEveryLayer}. */
    public Tensor valuesOfEveryLayer() {
        return valuesOfEveryLayer;
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
        // the engine writes rows at and after the length: below a snapshot's, its rows are fair game
        snapshots.removeIf(s -> {
            if (s.length() > n) {
                s.overwritable();
                return true;
            }
            return false;
        });
        length = n;
    }

    /** Bytes of one row of one head. */
    long rowBytes() {
        return type.rowSize(headDim);
    }

    public long bytes() {
        return buffer.size();
    }

    /**
     * Fills rows [0, rows) of every layer with random values (seeded; small, like real keys
     * and values after normalisation) and sets the length: a cache as large as a long
     * prefill would leave, in seconds, for latency measurements that do not need a real
     * context. Keys are random vectors, so attention spreads its mass widely. Each layer's
     * K and V head blocks are generated in parallel, each from its own generator split off
     * the seed's in a fixed order (so the rows depend on the seed only), and written one
     * after another (a 512K-token cache of 8B shapes is 34 billion values).
     */
    public void fillSynthetic(int rows, long seed) {
        if (rows < 0 || rows > capacity()) {
            throw new IllegalArgumentException("cannot fill " + rows + " rows of a cache of " + capacity());
        }
        setLength(0); // every row is rewritten: no snapshot survives
        long headBytes = rowBytes() * rows;
        if (headBytes > 0) {
            java.util.SplittableRandom root = new java.util.SplittableRandom(seed);
            int blocks = 2 * kvHeads;
            try (Arena arena = Arena.ofShared()) {
                MemorySegment[] block = new MemorySegment[blocks];
                for (int b = 0; b < blocks; b++) {
                    block[b] = arena.allocate(headBytes, 64);
                }
                for (int l = 0; l < keys.length; l++) {
                    java.util.SplittableRandom[] random = new java.util.SplittableRandom[blocks];
                    for (int b = 0; b < blocks; b++) {
                        random[b] = root.split();
                    }
                    java.util.stream.IntStream.range(0, blocks).parallel().forEach(b -> randomise(block[b], type, random[b]));
                    for (int b = 0; b < blocks; b++) {
                        Tensor t = b < kvHeads ? keys[l] : values[l];
                        t.write(block[b], (b % kvHeads) * t.nb(2));
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

    /** A rewind point at the current length (see {@link KvSnapshot}: no copy is made). */
    public KvSnapshot snapshot() {
        KvSnapshot s = new KvSnapshot(this, length);
        snapshots.add(s);
        return s;
    }

    /**
     * Rewinds to a snapshot: the length goes back to its own, and the rows after it are left
     * as they are (never read). Refused for a snapshot of another cache, a closed one, and one
     * whose rows may have been rewritten since (see {@link KvSnapshot#intact()}).
     */
    public void restore(KvSnapshot snapshot) {
        if (snapshot.owner() != this) {
            throw new IllegalArgumentException("the snapshot was taken from another cache");
        }
        if (snapshot.closed()) {
            throw new IllegalStateException("the KV snapshot is closed");
        }
        if (!snapshot.intact()) {
            throw new IllegalStateException("the KV snapshot of " + snapshot.length() + " tokens can no longer be restored:"
                    + " the cache was reset, refilled or rewound below it since it was taken, and its rows rewritten"
                    + " (a snapshot is a rewind point, not a copy)");
        }
        setLength(snapshot.length());
    }

    void forget(KvSnapshot snapshot) {
        snapshots.remove(snapshot);
    }

    @Override
    public void close() {
        buffer.close();
        layerContext.close();
        context.close();
    }
}
