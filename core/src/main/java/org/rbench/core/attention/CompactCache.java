package org.rbench.core.attention;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * A small K/V cache for one layer that a policy owns (e.g. Recycled Attention's Cp):
 * K and V as {@code [headDim, capacity, kvHeads]} on the engine's backend, in the cache
 * type. The policy fills it with {@link AttentionContext#copyRows} and tracks which
 * rows mean what, or fills it in a step graph and records there which cache position each
 * row holds ({@link #positions()}); the engine writes the new token into it when a COMPACT
 * plan says so.
 * Create it with {@link AttentionContext#newCompactCache}; close it when done. A cache
 * from a {@link Pool} goes back to the pool when closed ({@link ReusableState}), zeroed before it
 * is reissued.
 */
public final class CompactCache extends ReusableState {
    private final GgmlContext context;
    private final BackendBuffer buffer;
    private final Tensor keys;
    private final Tensor values;
    private final Tensor positions;
    private final int capacity;
    private final int spareRows;
    /** The stack whose layer {@link #stackLayer} this cache is, or null (a cache of its own). */
    private final Stack stack;
    private final int stackLayer;

    CompactCache(Backend backend, int headDim, int kvHeads, int capacity, GgmlType type) {
        this(backend, headDim, kvHeads, capacity, 0, type);
    }

    private CompactCache(Backend backend, int headDim, int kvHeads, int capacity, int spareRows, GgmlType type) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("compact cache capacity must be positive, got " + capacity);
        }
        if (spareRows < 0) {
            throw new IllegalArgumentException("spare rows must not be negative, got " + spareRows);
        }
        this.capacity = capacity;
        this.spareRows = spareRows;
        this.stack = null;
        this.stackLayer = -1;
        int rows = Math.addExact(capacity, spareRows);
        context = GgmlContext.forMetadata(3, 0);
        keys = context.newTensor(type, headDim, rows, kvHeads).name("compact_k");
        values = context.newTensor(type, headDim, rows, kvHeads).name("compact_v");
        positions = context.newTensor(GgmlType.I32, rows, kvHeads).name("compact_positions");
        buffer = BackendBuffer.allocate(context, backend);
        // Zeros, not garbage: a NaN in an unused row would poison a masked product.
        buffer.clear(0);
    }

    /** A layer's share of a {@link Stack}: its tensors lie in the stack's memory, which the stack frees and clears. */
    private CompactCache(Stack stack, int layer, Tensor keys, Tensor values, Tensor positions, int capacity, int spareRows) {
        this.context = null;
        this.buffer = null;
        this.keys = keys;
        this.values = values;
        this.positions = positions;
        this.capacity = capacity;
        this.spareRows = spareRows;
        this.stack = stack;
        this.stackLayer = layer;
    }

    /**
     * The stack this cache is a layer of (its tensors slices of the stack's), or null: rows at the same place in
     * every layer's cache of a stack can be read with one view of the stack's tensors.
     */
    public Stack stack() {
        return stack;
    }

    /** Which layer of its {@link #stack} this cache is (-1 without one). */
    public int stackLayer() {
        return stackLayer;
    }

    /** Allocates a compact cache; {@link AttentionContext#newCompactCache} is the usual way. */
    public static CompactCache allocate(Backend backend, int headDim, int kvHeads, int capacity, GgmlType type) {
        return new CompactCache(backend, headDim, kvHeads, capacity, type);
    }

    /** Rows a plan may attend: [0, capacity). */
    public int capacity() {
        return capacity;
    }

    /**
     * Rows past {@link #capacity} that no read covers, not even as padding: a step graph may write
     * there what it computed but did not keep (Recycled's device checks). The tensors hold
     * {@code capacity + spareRows} rows.
     */
    public int spareRows() {
        return spareRows;
    }

    public Tensor keys() {
        return keys;
    }

    /**
     * The node that re-rotates key rows [fromRow, fromRow + count) in place: {@code rope} applied
     * to them (viewed {@code [headDim, kvHeads, count]}, the shape RoPE expects) and copied back.
     * Expand it in a graph of {@code ctx}.
     */
    public Tensor rotateKeys(GgmlContext ctx, int fromRow, int count, java.util.function.UnaryOperator<Tensor> rope) {
        Tensor rows = ctx.permute(ctx.view(keys, new long[] {keys.ne(0), count, keys.ne(2)},
                new long[] {keys.nb(1), keys.nb(2)}, fromRow * keys.nb(1)), 0, 2, 1, 3);
        return ctx.cpy(rope.apply(rows), rows);
    }

    public Tensor values() {
        return values;
    }

    /**
     * I32 {@code [capacity, kvHeads]}: the cache position each row holds, for a policy that
     * fills rows on the device and reads which they are only when asked (diagnostics). Zeros
     * until a graph writes them; nothing else keeps them current.
     */
    public Tensor positions() {
        return positions;
    }

    /** A policy takes one a layer, of several capacities (PyramidKV): every capacity's stay idle. */
    @Override
    protected boolean oneShapeIdle() {
        return false;
    }

    /** Zeros, as a new cache holds: nothing of the last user's rows is seen. */
    @Override
    protected void reuse() {
        if (buffer != null) {
            buffer.clear(0);
        }
    }

    /** Frees a cache of its own; a stack's layer is freed with its stack. */
    @Override
    protected void free() {
        if (buffer != null) {
            buffer.close();
            context.close();
        }
    }

    /**
     * One compact cache a layer, every layer's K (and V, and positions) in one tensor: {@link #keysOfEveryLayer}
     * {@code [headDim, capacity + spareRows, kvHeads, layers]}, whose slice l is {@link #layer}(l)'s keys (a tensor
     * of its own placed in that memory, as the full cache's layers are: org.rbench.core.engine.KvCache). A refresh
     * that fills every layer then gathers each kind's rows out of the full cache with one op where an op a layer took
     * 64 (Recycled Attention at Llama-3.1-8B shapes). Take one with {@link AttentionContext#newCompactCaches}; the
     * layers' caches are the stack's (closing one does nothing): close the stack.
     */
    public static final class Stack extends ReusableState {
        private final GgmlContext context;
        private final GgmlContext layerContext;
        private final BackendBuffer buffer;
        private final Tensor keys;
        private final Tensor values;
        private final Tensor positions;
        private final List<CompactCache> layers;

        private Stack(Backend backend, int headDim, int kvHeads, int layerCount, int capacity, int spareRows, GgmlType type) {
            if (layerCount < 1 || capacity <= 0 || spareRows < 0) {
                throw new IllegalArgumentException("a stack of compact caches needs layers and capacity, not " + layerCount
                        + " layers of " + capacity + " rows and " + spareRows + " spare");
            }
            int rows = Math.addExact(capacity, spareRows);
            context = GgmlContext.forMetadata(3, 0);
            keys = context.newTensor(type, headDim, rows, kvHeads, layerCount).name("compact_k");
            values = context.newTensor(type, headDim, rows, kvHeads, layerCount).name("compact_v");
            positions = context.newTensor(GgmlType.I32, rows, kvHeads, layerCount).name("compact_positions");
            buffer = BackendBuffer.allocate(context, backend);
            layerContext = GgmlContext.forMetadata(3 * layerCount, 0);
            try {
                buffer.clear(0);
                Tensor[] k = buffer.placeSlices(layerContext, keys, 3, "compact_k");
                Tensor[] v = buffer.placeSlices(layerContext, values, 3, "compact_v");
                Tensor[] p = buffer.placeSlices(layerContext, positions, 2, "compact_positions");
                CompactCache[] each = new CompactCache[layerCount];
                for (int l = 0; l < layerCount; l++) {
                    each[l] = new CompactCache(this, l, k[l], v[l], p[l], capacity, spareRows);
                }
                layers = List.of(each);
            } catch (RuntimeException e) {
                free();
                throw e;
            }
        }

        /** A zeroed stack of new caches (AttentionContext#newCompactCaches reuses one handed back). */
        public static Stack allocate(Backend backend, int headDim, int kvHeads, int layers, int capacity, int spareRows,
                                     GgmlType type) {
            return new Stack(backend, headDim, kvHeads, layers, capacity, spareRows, type);
        }

        /** Layer {@code layer}'s compact cache. */
        public CompactCache layer(int layer) {
            return layers.get(layer);
        }

        /** Every layer's compact cache, by layer. */
        public List<CompactCache> layers() {
            return layers;
        }

        /** Every layer's keys, {@code [headDim, rows, kvHeads, layers]}. */
        public Tensor keysOfEveryLayer() {
            return keys;
        }

        /** Every layer's values, as {@link #keysOfEveryLayer}. */
        public Tensor valuesOfEveryLayer() {
            return values;
        }

        /** Every layer's positions, I32 {@code [rows, kvHeads, layers]}. */
        public Tensor positionsOfEveryLayer() {
            return positions;
        }

        /**
         * Kept idle beside stacks of other shapes: Recycled with a fixed schedule and the dynamic one (whose stack has
         * spare rows) take turns in a benchmark, and each freed the other's, so that both rebuilt the graphs naming
         * theirs at every turn (a 3 ms build and a capture in an 8B refresh step on an H200).
         */
        @Override
        protected boolean oneShapeIdle() {
            return false;
        }

        /** Zeros, as a new stack holds. */
        @Override
        protected void reuse() {
            buffer.clear(0);
        }

        @Override
        protected void free() {
            buffer.close();
            layerContext.close();
            context.close();
        }
    }

    /**
     * Compact caches of one model shape, reused across policies: closing a cache from
     * {@link #take} keeps its device memory for the next {@code take} of that capacity (a policy
     * per decode would otherwise allocate and free device memory each time, and a graph built on a
     * cache could never be reused by the next decoder). The caches are kept in a
     * {@link ReusableState.Pool}, an engine's beside its policies' other state.
     */
    public static final class Pool implements AutoCloseable {
        private final ReusableState.Pool states;
        private final Backend backend;
        private final int headDim;
        private final int kvHeads;
        private final GgmlType type;

        /** Caches in a pool of their own. */
        public Pool(Backend backend, int headDim, int kvHeads, GgmlType type) {
            this(new ReusableState.Pool(), backend, headDim, kvHeads, type);
        }

        /** Caches kept in {@code states}, which closing this pool closes. */
        public Pool(ReusableState.Pool states, Backend backend, int headDim, int kvHeads, GgmlType type) {
            this.states = states;
            this.backend = backend;
            this.headDim = headDim;
            this.kvHeads = kvHeads;
            this.type = type;
        }

        /** A zeroed cache of this capacity: one handed back earlier, or a new one. */
        public CompactCache take(int capacity) {
            return take(capacity, 0);
        }

        /**
         * A zeroed cache of this capacity and {@link #spareRows}: one handed back earlier (the oldest:
         * a policy that takes its caches in the order it took them last time gets each layer's cache of
         * last time, whatever order it or another policy handed them back in, so its graphs match
         * again), or a new one.
         */
        public CompactCache take(int capacity, int spareRows) {
            return states.take(List.of(CompactCache.class, backend, headDim, kvHeads, type, capacity, spareRows), CompactCache.class,
                    () -> new CompactCache(backend, headDim, kvHeads, capacity, spareRows, type));
        }

        /** Frees the idle caches; caches still out are freed when they are closed. */
        @Override
        public void close() {
            states.close();
        }
    }
}
