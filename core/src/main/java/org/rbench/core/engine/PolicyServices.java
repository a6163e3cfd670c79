package org.rbench.core.engine;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.CacheRows;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.ReusableState;
import org.rbench.core.attention.RowIndices;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What an engine offers the policies decoding on it ({@link AttentionContext}): sizes, the
 * compact caches and the policies' own device state (from pools, so that a later decoder's
 * graphs match again), device row
 * indices, and the device-side cache operations, each a small graph kept per shape because
 * policies repeat the same copies step after step.
 */
final class PolicyServices implements AttentionContext, AutoCloseable {
    private final ModelWeights weights;
    private final HyperParameters hp;
    private final Backend backend;
    private final KvCache cache;
    /**
     * Compact caches handed back by closed policies, for the next ones: a graph that attends
     * a compact cache is keyed by it, so a reissued cache lets the next decoder reuse it.
     */
    private final CompactCache.Pool compactCaches;
    /** Policies' own device state handed back by closed policies, for the next ones (the same reason); the compact caches' too. */
    private final ReusableState.Pool states = new ReusableState.Pool();
    private final GraphCache<int[][]> copyGraphs;
    /** Rows the full cache still lacks: written before a copy reads it. */
    private final DeferredWrites deferred;
    /** Rows the full cache lacks for good: a copy or graph that would read them is refused. */
    private final FullCacheValidity fullCache;
    private final GraphCache<int[]> shiftGraphs;
    /**
     * A policy start's graph memory up to this many bytes is kept for the next start ({@link #computeOverCache}):
     * Quest's bounds, made a chunk of pages at a time, take about 64 MiB at any context. A
     * start that freed its memory just before the first step made that step slower (on an H100 at 131K, +1.41 ms
     * over the median step, +0.64 with the memory kept), and later starts allocate it again. Larger graphs (a
     * refresh's over the whole cache) free theirs.
     */
    static final long KEPT_START_MEMORY_BYTES = 256L << 20;
    /**
     * {@code -Drbench.keepStartMemory}: {@code auto} (the default) keeps a start's graph memory up to
     * {@link #KEPT_START_MEMORY_BYTES}; {@code true} keeps it whatever its size, {@code false} frees it after every
     * start (A/Bs). Read when the engine opens.
     */
    enum StartMemory {
        AUTO, KEEP, FREE;

        /** The rule {@code -Drbench.keepStartMemory} names; the engine reads it before it allocates anything. */
        static StartMemory fromProperty() {
            String value = System.getProperty("rbench.keepStartMemory", "auto");
            return switch (value) {
                case "auto" -> AUTO;
                case "true" -> KEEP;
                case "false" -> FREE;
                default -> throw new IllegalArgumentException("-Drbench.keepStartMemory takes auto, true or false, not '"
                        + value + "'");
            };
        }
    }

    private final StartMemory startMemory;
    /** {@link #KEPT_START_MEMORY_BYTES}, or less in tests. */
    private long keptStartMemoryCap = KEPT_START_MEMORY_BYTES;
    private GraphAllocator startAllocator;

    PolicyServices(ModelWeights weights, KvCache cache, DeferredWrites deferred, FullCacheValidity fullCache,
                   StartMemory startMemory) {
        this.startMemory = startMemory;
        this.weights = weights;
        this.deferred = deferred;
        this.fullCache = fullCache;
        this.hp = weights.hyperParameters();
        this.backend = weights.backend();
        this.cache = cache;
        this.compactCaches = new CompactCache.Pool(states, backend, hp.headDim(), hp.kvHeads(), cache.type());
        this.copyGraphs = new GraphCache<>(backend, 4);
        this.shiftGraphs = new GraphCache<>(backend, 4);
    }

    @Override
    public HyperParameters hyperParameters() {
        return hp;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public int cacheCapacity() {
        return cache.capacity();
    }

    @Override
    public GgmlType cacheType() {
        return cache.type();
    }

    @Override
    public int position() {
        return cache.length();
    }

    @Override
    public CompactCache newCompactCache(int capacity, int spareRows) {
        return compactCaches.take(capacity, spareRows);
    }

    @Override
    public <T extends ReusableState> T reuse(Object key, Class<T> type, java.util.function.Supplier<T> make) {
        return states.take(key, type, make);
    }

    @Override
    public RowIndices newRowIndices(int rowsPerHead) {
        return RowIndices.allocate(backend, rowsPerHead, hp.kvHeads(), cache.capacity());
    }

    @Override
    public void copyRows(List<RowCopy> copies) {
        if (copies.isEmpty()) {
            return;
        }
        deferred.flush();
        int kvHeads = hp.kvHeads();
        List<Object> shape = new ArrayList<>();
        int[][] sources = new int[copies.size()][];
        for (int i = 0; i < copies.size(); i++) {
            RowCopy c = copies.get(i);
            if (c.layer() < 0 || c.layer() >= hp.layers()) {
                throw new IllegalArgumentException("layer " + c.layer() + " outside [0, " + hp.layers() + ")");
            }
            if (c.count() <= 0 || c.sourceRows().length != c.count() * kvHeads) {
                throw new IllegalArgumentException("a row copy needs count x kvHeads (" + c.count() + " x " + kvHeads
                        + ") source rows, got " + c.sourceRows().length);
            }
            if (c.targetRow() < 0 || c.targetRow() + c.count() > c.target().capacity()) {
                throw new IllegalArgumentException("rows [" + c.targetRow() + ", " + (c.targetRow() + c.count())
                        + ") do not fit the compact cache of " + c.target().capacity());
            }
            fullCache.requireRows(c.sourceRows(), "a policy's row copy");
            sources[i] = c.sourceRows(); // read by the inputs' fill below, before this returns
            shape.add(List.of(c.layer(), c.count(), c.targetRow(), c.target())); // the target by identity
        }
        GraphCache.Entry<int[][]> entry = copyGraphs.get(shape);
        if (entry != null) {
            System.arraycopy(sources, 0, entry.owner(), 0, sources.length);
        } else {
            entry = copyGraphs.put(shape, copyGraph(copies, sources), sources);
        }
        compute(entry.graph());
    }

    /**
     * One input of every copy's source rows and one of its target rows, each copy a view of
     * them: two uploads per refresh where an input per copy made 2 x layers. The source rows
     * are read from {@code holder} when the inputs are filled, so a kept graph copies new rows.
     */
    private StepGraph copyGraph(List<RowCopy> copies, int[][] holder) {
        int kvHeads = hp.kvHeads();
        StepGraph g = new StepGraph(16 + 12 * copies.size());
        int sourceCount = 0;
        int targetCount = 0;
        for (RowCopy c : copies) {
            sourceCount += c.count() * kvHeads;
            targetCount += c.count();
        }
        int[] targets = new int[targetCount];
        int widest = 0;
        for (int i = 0, at = 0; i < copies.size(); i++) {
            RowCopy c = copies.get(i);
            for (int r = 0; r < c.count(); r++) {
                targets[at++] = c.targetRow() + r;
            }
            widest = Math.max(widest, c.target().capacity());
        }
        int targetBound = widest; // each copy's rows were checked against its own cache
        int sourceTotal = sourceCount;
        Tensor src = g.input("copy_src", GgmlType.I32, t -> t.setIndices(concatenated(holder, sourceTotal), position()),
                sourceCount);
        Tensor dst = g.input("copy_dst", GgmlType.I32, t -> t.setIndices(targets, targetBound), targetCount);
        long srcOffset = 0;
        long dstOffset = 0;
        for (RowCopy c : copies) {
            Tensor srcRows = g.ctx.view(src, new long[] {c.count(), kvHeads}, new long[] {(long) c.count() * src.nb(0)},
                    srcOffset * src.nb(0));
            Tensor dstRows = g.ctx.view(dst, new long[] {c.count()}, new long[] {}, dstOffset * dst.nb(0));
            g.expand(g.ctx.setRows(c.target().keys(), cacheRows(g.ctx, cache.keys(c.layer()), srcRows), dstRows));
            g.expand(g.ctx.setRows(c.target().values(), cacheRows(g.ctx, cache.values(c.layer()), srcRows), dstRows));
            srcOffset += (long) c.count() * kvHeads;
            dstOffset += c.count();
        }
        return g;
    }

    /**
     * Rows of a cache tensor for set_rows: an F16 cache's in F16, copied as bytes (set_rows takes
     * F16 and F32 rows; no F32 round trip), any other's as F32.
     */
    static Tensor cacheRows(GgmlContext ctx, Tensor cache, Tensor rows) {
        return cache.type() == GgmlType.F16 ? CacheRows.gather(ctx, cache, rows) : ctx.getRows(cache, rows);
    }

    private static int[] concatenated(int[][] parts, int total) {
        int[] out = new int[total];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Override
    public void shiftKeys(CompactCache target, int fromRow, int count, int delta) {
        shiftKeys(List.of(target), fromRow, count, delta);
    }

    /** One graph re-rotates the rows of every cache: a per-step shift costs one compute, not one per layer. */
    @Override
    public void shiftKeys(List<CompactCache> targets, int fromRow, int count, int delta) {
        for (CompactCache target : targets) {
            if (count <= 0 || fromRow < 0 || fromRow + count > target.capacity()) {
                throw new IllegalArgumentException("rows [" + fromRow + ", " + (fromRow + count) + ") outside the compact cache of "
                        + target.capacity());
            }
            if (target.keys().ne(0) != hp.headDim() || target.keys().ne(2) != hp.kvHeads()) {
                throw new IllegalArgumentException("the compact cache does not have this model's head shape");
            }
        }
        if (delta == 0 || targets.isEmpty()) {
            return;
        }
        List<Object> shape = new ArrayList<>(targets); // the caches by identity
        shape.add(fromRow);
        shape.add(count);
        GraphCache.Entry<int[]> entry = shiftGraphs.get(shape);
        if (entry != null) {
            entry.owner()[0] = delta;
        } else {
            int[] holder = {delta};
            StepGraph g = new StepGraph(16 + 8 * targets.size());
            Tensor positions = g.input("shift", GgmlType.I32, t -> {
                int[] shift = new int[count];
                Arrays.fill(shift, holder[0]);
                t.setInts(shift);
            }, count);
            for (CompactCache target : targets) {
                g.expand(target.rotateKeys(g.ctx, fromRow, count, rows -> weights.rope(g.ctx, rows, positions)));
            }
            entry = shiftGraphs.put(shape, g, holder);
        }
        compute(entry.graph());
    }

    @Override
    public org.rbench.llamacpp.Tensor[] cacheOfEveryLayer() {
        return new org.rbench.llamacpp.Tensor[] {cache.keysOfEveryLayer(), cache.valuesOfEveryLayer()};
    }

    @Override
    public void computeOverCache(CachePiece piece, int maxTensors, Runnable readOutputs) {
        if (maxTensors <= 0) {
            throw new IllegalArgumentException("a graph piece needs a positive tensor budget, got " + maxTensors);
        }
        fullCache.require("a policy's graph over the full cache");
        deferred.flush(); // the piece reads the full cache
        try (StepGraph g = new StepGraph(16 + maxTensors)) {
            boolean kept = startMemory != StartMemory.FREE;
            GraphAllocator allocator = kept ? startAllocator() : new GraphAllocator(backend);
            try {
                piece.build(g.ctx, cache::keys, cache::values, g::expand);
                if (kept) {
                    // planned again for this graph: ggml_gallocr_alloc_graph alone would keep the last graph's plan for
                    // any graph of as many nodes that fit it (the buffer grows only when this one needs more)
                    allocator.reserve(g.graph);
                }
                allocator.allocate(g.graph);
                compute(g);
                readOutputs.run(); // before the allocator's memory goes (or the next piece reuses it)
            } finally {
                if (!kept) {
                    allocator.close();
                } else if (startMemory == StartMemory.AUTO && allocator.bufferSize() > keptStartMemoryCap) {
                    allocator.close();
                    startAllocator = null;
                }
            }
        }
    }

    /** Keeps a start's graph memory up to {@code bytes} only, under the {@code auto} rule (tests). */
    void keptStartMemoryCap(long bytes) {
        keptStartMemoryCap = bytes;
    }

    /** Bytes of graph memory kept between policy starts (0 when none is). */
    long keptStartMemoryBytes() {
        return startAllocator == null ? 0 : startAllocator.bufferSize();
    }

    private GraphAllocator startAllocator() {
        if (startAllocator == null) {
            startAllocator = new GraphAllocator(backend);
        }
        return startAllocator;
    }

    private void compute(StepGraph g) {
        g.fillInputs();
        backend.compute(g.graph);
    }

    @Override
    public void close() {
        copyGraphs.close();
        shiftGraphs.close();
        states.close(); // the compact caches' too (a state holding caches frees them with it)
        if (startAllocator != null) {
            startAllocator.close();
            startAllocator = null;
        }
    }
}
