package org.rbench.core.engine;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.QueryVectors;
import org.rbench.core.attention.RowIndices;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The inference engine: a model's weights, a KV cache and a graph allocator on one
 * backend. It prefills prompts in micro-batches and hands out {@link Decoder}s that
 * decode one token per step under an {@link AttentionPolicy}. One engine serves one
 * sequence at a time; {@link #snapshot()} / {@link #restore} let several decoding runs
 * start from the same prefill.
 *
 * <p>The engine does not own the weights (several engines may share them); it owns its
 * cache and allocator.
 */
public final class Engine implements AutoCloseable, AttentionContext {
    private final ModelWeights weights;
    private final HyperParameters hp;
    private final EngineOptions options;
    private final Backend backend;
    private final KvCache cache;
    private final GraphAllocator allocator;
    /**
     * Single-graph decode steps kept for reuse by later steps of the same shape: a policy may
     * alternate between a few (Recycled: recycled steps and a full step every S), and a later
     * decoder on this engine (the next sample of a sweep, the next run of a benchmark) meets
     * the same shapes again. Eight cover every method of a benchmark at one length.
     */
    private final GraphCache<TransformerGraph> stepGraphs;
    /**
     * Compact caches handed back by closed policies, for the next ones: a graph that attends
     * a compact cache is keyed by it, so a reissued cache lets the next decoder reuse it.
     */
    private final CompactCache.Pool compactCaches;
    /** Row-copy and key-shift graphs by shape: policies repeat the same copies step after step. */
    private final GraphCache<int[][]> copyGraphs;
    private final GraphCache<int[]> shiftGraphs;
    /** The KQ masks of all passes, made at the first pass that needs one. */
    private CausalMask causalMask;
    private final GgmlContext stateContext;
    private final BackendBuffer stateBuffer;
    private final Tensor hiddenState;
    private final boolean onCpu;
    private long lastComputeNanos;
    private long lastInputNanos;

    private Engine(ModelWeights weights, EngineOptions options) {
        this.weights = weights;
        this.hp = weights.hyperParameters();
        this.options = options;
        this.backend = weights.backend();
        this.onCpu = backend.isCpu();
        if (options.contextSize() > hp.contextLength()) {
            throw new IllegalArgumentException("a context of " + options.contextSize() + " tokens is longer than the "
                    + hp.contextLength() + " the model was trained for (" + weights.path().getFileName() + ")");
        }
        int pad = options.kvPadding();
        int capacity = (int) Math.min(Integer.MAX_VALUE, ((long) options.contextSize() + pad - 1) / pad * pad);
        KvCache c = new KvCache(hp, backend, capacity, options.cacheType());
        GraphAllocator a = null;
        GgmlContext sc = null;
        try {
            a = new GraphAllocator(backend);
            sc = GgmlContext.forMetadata(1, 0);
            hiddenState = sc.newTensor(GgmlType.F32, hp.embedding(), 1).name("hidden_state");
            stateBuffer = BackendBuffer.allocate(sc, backend);
        } catch (RuntimeException e) {
            if (a != null) {
                a.close();
            }
            if (sc != null) {
                sc.close();
            }
            c.close();
            throw e;
        }
        this.cache = c;
        this.allocator = a;
        this.stepGraphs = new GraphCache<>(backend, 8);
        this.compactCaches = new CompactCache.Pool(backend, hp.headDim(), hp.kvHeads(), c.type());
        this.copyGraphs = new GraphCache<>(backend, 4);
        this.shiftGraphs = new GraphCache<>(backend, 4);
        this.stateContext = sc;
    }

    /** An engine over loaded weights; the weights must outlive it. */
    public static Engine open(ModelWeights weights, EngineOptions options) {
        return new Engine(weights, options);
    }

    // ---- accessors ----

    public ModelWeights weights() {
        return weights;
    }

    @Override
    public HyperParameters hyperParameters() {
        return hp;
    }

    public EngineOptions options() {
        return options;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    boolean onCpu() {
        return onCpu;
    }

    KvCache cache() {
        return cache;
    }

    /** Tokens in the cache: the position the next token gets. */
    @Override
    public int position() {
        return cache.length();
    }

    /** The most tokens the cache holds (the requested context size). */
    public int contextSize() {
        return options.contextSize();
    }

    @Override
    public int cacheCapacity() {
        return cache.capacity();
    }

    @Override
    public GgmlType cacheType() {
        return cache.type();
    }

    /** Nanoseconds of the last graph computation (backend compute only). */
    public long lastComputeNanos() {
        return lastComputeNanos;
    }

    /** Time the last compute spent filling its graph's inputs before it (host to device). */
    long lastInputNanos() {
        return lastInputNanos;
    }

    // ---- prefill ----

    /** Prefills without statistics, returning the last token's logits. */
    public PrefillResult prefill(int[] tokens) {
        return prefill(tokens, PrefillRequest.NONE, false);
    }

    /**
     * Appends tokens to the cache in micro-batches with causal attention. Returns the
     * logits of every token ({@code allLogits}) or of the last one, and the statistics
     * the request asks for.
     */
    public PrefillResult prefill(int[] tokens, PrefillRequest request, boolean allLogits) {
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException("cannot prefill a prompt of zero tokens");
        }
        checkTokens(tokens);
        int first = position();
        if ((long) first + tokens.length > options.contextSize()) {
            throw new IllegalArgumentException("a prompt of " + tokens.length + " tokens at position " + first
                    + " does not fit the context of " + options.contextSize() + " tokens");
        }
        long t0 = System.nanoTime();
        long compute = 0;
        int end = first + tokens.length;
        int layers = hp.layers();
        int heads = hp.heads();
        int window = Math.min(request.lastRows(), tokens.length);
        int windowStart = end - window;
        float[][] lastRows = window > 0 ? new float[layers][heads * window * end] : null;
        float[][] columnSums = request.columnSums() ? new float[layers][heads * end] : null;
        QueryVectors[] lastQuery = request.lastQuery() ? new QueryVectors[layers] : null;
        float[][] logits = new float[allLogits ? tokens.length : 1][];
        reserveForDeepestMicroBatch(tokens, end, allLogits, request.columnSums());

        for (int b = 0; b < tokens.length; b += options.microBatch()) {
            int n = Math.min(options.microBatch(), tokens.length - b);
            int p0 = first + b;
            boolean last = b + n == tokens.length;
            TransformerGraph pass = new TransformerGraph(this);
            pass.tokens = Arrays.copyOfRange(tokens, b, b + n);
            pass.start = p0;
            pass.logits = allLogits ? TransformerGraph.Logits.ALL
                    : last ? TransformerGraph.Logits.LAST : TransformerGraph.Logits.NONE;
            pass.windowFrom = window > 0 && windowStart < p0 + n ? Math.max(0, windowStart - p0) : -1;
            pass.columnSums = request.columnSums();
            pass.lastQuery = last && request.lastQuery();
            try (StepGraph g = pass.build()) {
                compute += run(g);
                if (pass.logitsTensor != null) {
                    float[] flat = pass.logitsTensor.getFloats();
                    int vocab = hp.vocabSize();
                    int rows = flat.length / vocab;
                    for (int r = 0; r < rows; r++) {
                        logits[allLogits ? b + r : 0] = Arrays.copyOfRange(flat, r * vocab, (r + 1) * vocab);
                    }
                }
                for (int l = 0; l < layers; l++) {
                    if (pass.windowRows[l] != null) {
                        collectWindow(pass.windowRows[l], lastRows[l], p0 + pass.windowFrom, windowStart, window, end);
                    }
                    if (pass.columnSumTensors[l] != null) {
                        accumulateColumns(pass.columnSumTensors[l], columnSums[l], end);
                    }
                    if (pass.lastQuery && pass.queryAfterRope[l] != null) {
                        lastQuery[l] = queryVectors(pass, l);
                    }
                }
            }
            cache.setLength(p0 + n);
        }
        AttentionProbabilities[] rows = null;
        if (lastRows != null) {
            rows = new AttentionProbabilities[layers];
            for (int l = 0; l < layers; l++) {
                rows[l] = new AttentionProbabilities(heads, window, end, windowStart, lastRows[l]);
            }
        }
        PrefillStatistics stats = new PrefillStatistics(first, end, rows, columnSums, lastQuery);
        return new PrefillResult(logits, stats, tokens.length, System.nanoTime() - t0, compute);
    }

    /**
     * Sizes the graph allocator once for a full micro-batch that ends where this prompt
     * ends, the largest intermediates any of its micro-batches needs (the KQ mask, and any
     * score matrices, grow with the keys), as llama.cpp reserves its worst case. Otherwise
     * every micro-batch outgrows the last one's buffer and the allocator frees and
     * allocates its whole buffer again (on a GPU, device memory) each time.
     */
    private void reserveForDeepestMicroBatch(int[] tokens, int end, boolean allLogits, boolean columnSums) {
        int n = options.microBatch();
        if (tokens.length <= n) {
            return; // one micro-batch: allocating its graph sizes the buffer anyway
        }
        TransformerGraph deepest = new TransformerGraph(this);
        deepest.tokens = Arrays.copyOfRange(tokens, tokens.length - n, tokens.length);
        deepest.start = end - n;
        deepest.logits = allLogits ? TransformerGraph.Logits.ALL : TransformerGraph.Logits.NONE;
        deepest.columnSums = columnSums;
        try (StepGraph g = deepest.build()) {
            allocator.reserve(g.graph);
        }
    }

    /** Window probabilities [keys, w, heads] of one batch into [heads][window][end]. */
    private static void collectWindow(Tensor t, float[] into, int firstQuery, int windowStart, int window, int end) {
        float[] p = t.getFloats();
        int keys = (int) t.ne(0);
        int w = (int) t.ne(1);
        int heads = (int) t.ne(2);
        int copy = Math.min(keys, end);
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < w; i++) {
                int wi = firstQuery + i - windowStart;
                System.arraycopy(p, (h * w + i) * keys, into, (h * window + wi) * end, copy);
            }
        }
    }

    /** Column sums [1, keys, heads] of one batch added into [heads][end]. */
    private static void accumulateColumns(Tensor t, float[] into, int end) {
        float[] s = t.getFloats();
        int keys = (int) t.ne(1);
        int heads = (int) t.ne(2);
        int copy = Math.min(keys, end);
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < copy; j++) {
                into[h * end + j] += s[h * keys + j];
            }
        }
    }

    QueryVectors queryVectors(TransformerGraph pass, int layer) {
        return new QueryVectors(hp.heads(), hp.headDim(), pass.queryBeforeRope[layer].getFloats(),
                pass.queryAfterRope[layer].getFloats());
    }

    void checkTokens(int[] tokens) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= hp.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at index " + i
                        + " is outside the vocabulary [0, " + hp.vocabSize() + ")");
            }
        }
    }

    /** Allocates, fills inputs and computes a built graph; returns the compute nanoseconds. */
    long run(StepGraph g) {
        allocator.allocate(g.graph);
        return computeAgain(g);
    }


    /** Refills the inputs of an allocated graph and computes it. */
    long computeAgain(StepGraph g) {
        long f0 = System.nanoTime();
        g.fillInputs();
        long t0 = System.nanoTime();
        lastInputNanos = t0 - f0;
        backend.compute(g.graph);
        lastComputeNanos = System.nanoTime() - t0;
        return lastComputeNanos;
    }

    CausalMask causalMask() {
        if (causalMask == null) {
            causalMask = new CausalMask(backend, options.flashAttention(), cache.capacity(), options.microBatch());
        }
        return causalMask;
    }

    Tensor hiddenState() {
        return hiddenState;
    }

    void advance(int tokens) {
        cache.setLength(cache.length() + tokens);
    }

    // ---- decoding ----

    /**
     * A decoding run from the current cache state under a policy; calls the policy's
     * {@code start} with the prefill statistics (which may be null when the policy asks
     * for none).
     */
    public Decoder decoder(AttentionPolicy policy, PrefillStatistics prefill) {
        PrefillStatistics stats = prefill != null ? prefill : PrefillStatistics.none(0, position());
        return new Decoder(this, policy, stats);
    }

    // ---- cache state ----

    public KvSnapshot snapshot() {
        return cache.snapshot();
    }

    public void restore(KvSnapshot snapshot) {
        cache.restore(snapshot);
    }

    /**
     * Fills the first {@code rows} cache positions with seeded random keys and values
     * (see {@link KvCache#fillSynthetic}); the next prefill or step continues after them.
     */
    public void fillSynthetic(int rows, long seed) {
        if (rows >= options.contextSize()) {
            throw new IllegalArgumentException(rows + " synthetic rows leave no room in a context of " + options.contextSize());
        }
        cache.fillSynthetic(rows, seed);
    }

    /** Forgets all tokens (the cache rows are overwritten as new tokens come). */
    public void reset() {
        cache.setLength(0);
    }

    // ---- AttentionContext ----

    @Override
    public CompactCache newCompactCache(int capacity) {
        return compactCaches.take(capacity);
    }

    GraphCache<TransformerGraph> stepGraphs() {
        return stepGraphs;
    }

    @Override
    public RowIndices newRowIndices(int rowsPerHead) {
        return RowIndices.allocate(backend, rowsPerHead, hp.kvHeads(), cache.capacity());
    }

    @Override
    public org.rbench.core.attention.HeavyHitterSlots newHeavyHitterSlots(int budget, int recent,
                                                                         org.rbench.core.select.GqaAggregation aggregation) {
        CompactCache[] kv = new CompactCache[hp.layers()];
        try {
            for (int l = 0; l < kv.length; l++) {
                kv[l] = newCompactCache(budget + 1);
            }
            return org.rbench.core.attention.HeavyHitterSlots.allocate(backend, kv, hp.kvHeads(), budget, recent,
                    aggregation, cache.capacity());
        } catch (RuntimeException e) {
            for (CompactCache c : kv) {
                if (c != null) {
                    c.close();
                }
            }
            throw e;
        }
    }

    @Override
    public void copyRows(List<RowCopy> copies) {
        if (copies.isEmpty()) {
            return;
        }
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
            sources[i] = c.sourceRows(); // read by the inputs' fill below, before this returns
            shape.add(List.of(c.layer(), c.count(), c.targetRow(), c.target())); // the target by identity
        }
        GraphCache.Entry<int[][]> entry = copyGraphs.get(shape);
        if (entry != null) {
            System.arraycopy(sources, 0, entry.owner(), 0, sources.length);
        } else {
            int[][] holder = sources;
            StepGraph g = new StepGraph(16 + 12 * copies.size());
            // One input of every copy's source rows and one of its target rows, each copy a
            // view of them: two uploads per refresh where an input per copy made 2 x layers.
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
            int targetBound = widest; // each copy's rows were checked against its own cache above
            int sourceTotal = sourceCount;
            // Source rows are read when the inputs are filled: a cached graph copies new rows.
            Tensor src = g.input("copy_src", GgmlType.I32, t -> t.setIndices(concatenated(holder, sourceTotal), position()),
                    sourceCount);
            Tensor dst = g.input("copy_dst", GgmlType.I32, t -> t.setIndices(targets, targetBound), targetCount);
            long srcOffset = 0;
            long dstOffset = 0;
            for (RowCopy c : copies) {
                Tensor srcRows = g.ctx.view(src, new long[] {c.count(), kvHeads}, new long[] {(long) c.count() * src.nb(0)},
                        srcOffset * src.nb(0));
                Tensor dstRows = g.ctx.view(dst, new long[] {c.count()}, new long[] {}, dstOffset * dst.nb(0));
                g.expand(g.ctx.setRows(c.target().keys(), g.ctx.getRows(cache.keys(c.layer()), srcRows), dstRows));
                g.expand(g.ctx.setRows(c.target().values(), g.ctx.getRows(cache.values(c.layer()), srcRows), dstRows));
                srcOffset += (long) c.count() * kvHeads;
                dstOffset += c.count();
            }
            entry = copyGraphs.put(shape, g, holder);
        }
        computeAgain(entry.graph());
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
        shiftKeys(java.util.List.of(target), fromRow, count, delta);
    }

    /** One graph re-rotates the rows of every cache: a per-step shift costs one compute, not one per layer. */
    @Override
    public void shiftKeys(java.util.List<CompactCache> targets, int fromRow, int count, int delta) {
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
                Tensor keys = target.keys();
                // Rows as [headDim, kvHeads, rows] (a permuted view), the shape RoPE expects.
                Tensor rows = g.ctx.permute(g.ctx.view(keys, new long[] {hp.headDim(), count, hp.kvHeads()},
                        new long[] {keys.nb(1), keys.nb(2)}, fromRow * keys.nb(1)), 0, 2, 1, 3);
                Tensor rotated = g.ctx.ropeExt(rows, positions, weights.ropeFrequencies(), hp.headDim(), hp.ropeType().ggmlMode,
                        hp.ropeOriginalContext(), hp.ropeTheta(), hp.ropeFreqScale(), 0f, 1f, 32f, 1f);
                g.expand(g.ctx.cpy(rotated, rows));
            }
            entry = shiftGraphs.put(shape, g, holder);
        }
        computeAgain(entry.graph());
    }

    @Override
    public void close() {
        stepGraphs.close();
        copyGraphs.close();
        shiftGraphs.close();
        compactCaches.close();
        allocator.close();
        if (causalMask != null) {
            causalMask.close();
        }
        stateBuffer.close();
        stateContext.close();
        cache.close();
    }
}
