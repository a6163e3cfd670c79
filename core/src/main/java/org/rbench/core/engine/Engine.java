package org.rbench.core.engine;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.QueryVectors;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.QueuedUploads;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;

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
public final class Engine implements AutoCloseable {
    private final ModelWeights weights;
    private final HyperParameters hp;
    private final EngineOptions options;
    private final Backend backend;
    private final KvCache cache;
    private final GraphAllocator allocator;
    /**
     * Single-graph decode steps kept for reuse by later steps of the same shape: a policy may
     * alternate between a few (Recycled: recycled steps and a full step every S), and a later
     * decoder on this engine (the next sample of a sweep, the next method of a benchmark's
     * rotation) meets the same shapes again. A sweep of a dozen methods uses two or three
     * graphs each; with fewer kept, every method's graphs were rebuilt each time its turn came,
     * and on CUDA each rebuilt graph ran once uncaptured and was captured at its second compute
     * (4 ms for an 8B step). The byte budget bounds what long contexts' graphs keep
     * ({@link #stepGraphBytes}).
     */
    private final GraphCache<PassGraph> stepGraphs;
    /** Registered with the backend: gives the kept step graphs' memory back when an allocation fails. */
    private final java.util.function.BooleanSupplier reclaimStepGraphs;
    private final PolicyServices services;
    /** Full-cache writes decode steps left for later, flushed before anything reads the full cache. */
    private final DeferredWrites deferredWrites;
    /** How far the full cache holds every token's rows (decodes whose plans skip its write leave it stale). */
    private final FullCacheValidity fullCache = new FullCacheValidity();
    private final GgmlContext stateContext;
    private final BackendBuffer stateBuffer;
    private final Tensor hiddenState;
    private final Tensor fedToken;
    /** What this engine's pass graphs are built from. */
    private final GraphResources graphResources;
    private long lastComputeNanos;
    private long lastInputNanos;
    /** While set, step graphs are computed node by node into it (an op profile). */
    private OpProfiler opProfiler;
    /** {@link #observeStepGraphs}: null unless a check asked. */
    private java.util.function.Consumer<ComputeGraph> graphObserver;
    /** A GPU backend's input uploads, queued on its stream before each compute (null on the CPU). */
    private final QueuedUploads uploads;
    /** Where queued decode steps leave their results (made at the first queued step). */
    private StepResults stepResults;
    /**
     * Step graphs kept at most, and the most their buffers may take together: 1 GiB on the CPU,
     * a sixteenth of a GPU's memory (8.7 GB of an H200's: a long context's refresh or page-bound
     * graph takes hundreds of MB), at least 1 GiB.
     */
    private static final int STEP_GRAPHS = 48;
    private static final long STEP_GRAPH_BYTES = 1L << 30;
    /** The system property that sets the step graphs' byte budget in MiB ({@link #stepGraphMiB}). */
    public static final String STEP_GRAPH_MIB = "rbench.stepGraphMiB";

    /**
     * The step graphs' byte budget: {@code mib} where given; on the CPU 1 GiB; on a GPU half the device memory free
     * once the weights and the cache are in (at least 1 GiB). A benchmark's rotation of a dozen methods at 128K keeps
     * several GB of graphs (a Recycled refresh's scores alone are 0.5 GB): with a sixteenth of an H100's memory its
     * refresh graph was evicted between its turns and rebuilt at every refresh (18.9 ms against 14.3 ms kept,
     * docs/results/2026-12-06-cuda-h100-zoo.md). A graph the device then cannot hold makes the cache give its
     * graphs back first ({@link GraphCache#put}).
     */
    private static long stepGraphBytes(Backend backend, java.util.OptionalLong mib) {
        if (mib.isPresent()) {
            return mib.getAsLong() << 20;
        }
        return backend.isCpu() ? STEP_GRAPH_BYTES : Math.max(STEP_GRAPH_BYTES, backend.memoryFreeBytes() / 2);
    }

    /**
     * {@link #STEP_GRAPH_MIB}'s {@code value}: empty for null or blank (the default budget).
     *
     * @throws IllegalArgumentException for anything but a whole number of MiB from 1 on
     */
    static java.util.OptionalLong stepGraphMiB(String value) {
        if (value == null || value.isBlank()) {
            return java.util.OptionalLong.empty();
        }
        if (!value.matches("[0-9]{1,9}") || Long.parseLong(value) < 1) {
            throw new IllegalArgumentException("-D" + STEP_GRAPH_MIB + "=" + value + ": give the MiB the kept decode-step"
                    + " graphs may take (a whole number from 1), or leave it unset for the default (GPU: half the memory"
                    + " free after the weights and cache; CPU: 1024)");
        }
        return java.util.OptionalLong.of(Long.parseLong(value));
    }
    /**
     * Staging for queued uploads, two halves that runs take in turn: a decode step's inputs fit
     * a half many times (a host gather's indices at k=4096, 4.2 MB, once); a prefill's larger
     * masks go synchronously.
     */
    private static final long UPLOAD_STAGING_BYTES = 16L << 20;

    private Engine(ModelWeights weights, EngineOptions options) {
        this.weights = weights;
        this.hp = weights.hyperParameters();
        this.options = options;
        this.backend = weights.backend();
        if (options.contextSize() > hp.contextLength()) {
            throw new IllegalArgumentException("a context of " + options.contextSize() + " tokens is longer than the "
                    + hp.contextLength() + " the model was trained for (" + weights.path().getFileName() + ")");
        }
        PolicyServices.StartMemory startMemory = PolicyServices.StartMemory.fromProperty(); // refused before allocating
        java.util.OptionalLong stepGraphMiB = stepGraphMiB(System.getProperty(STEP_GRAPH_MIB)); // so is this
        int pad = options.kvPadding();
        int capacity = (int) Math.min(Integer.MAX_VALUE, ((long) options.contextSize() + pad - 1) / pad * pad);
        KvCache c = new KvCache(hp, backend, capacity, options.cacheType());
        GraphAllocator a = null;
        GgmlContext sc = null;
        try {
            a = new GraphAllocator(backend);
            sc = GgmlContext.forMetadata(2, 0);
            hiddenState = sc.newTensor(GgmlType.F32, hp.embedding(), 1).name("hidden_state");
            fedToken = sc.newTensor(GgmlType.I32, 1).name("fed_token");
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
        this.stepGraphs = new GraphCache<>(backend, STEP_GRAPHS, stepGraphBytes(backend, stepGraphMiB));
        // an allocation on this device that fails (a policy's compact caches, a start's graph) first takes back the
        // kept graphs but the newest, after the device has finished what it was computing
        this.reclaimStepGraphs = () -> {
            backend.synchronize();
            return stepGraphs.evictAllButNewest() > 0;
        };
        this.deferredWrites = new DeferredWrites(backend, c, hp.kvHeads());
        this.services = new PolicyServices(weights, c, deferredWrites, fullCache, startMemory);
        this.stateContext = sc;
        this.graphResources = new GraphResources(weights, c, deferredWrites, options, hiddenState, fedToken);
        this.uploads = queuedUploads(backend);
        backend.addMemoryReclaimer(reclaimStepGraphs); // last: a constructor that throws leaves none behind
    }

    /** Queued uploads for a GPU backend that has pinned host memory; null (plain copies) otherwise. */
    private static QueuedUploads queuedUploads(Backend backend) {
        if (backend.isCpu() || backend.hostBufferType() == null) {
            return null;
        }
        try {
            return new QueuedUploads(backend, UPLOAD_STAGING_BYTES);
        } catch (RuntimeException e) {
            return null; // no pinned memory to be had: each input copied and waited for, as on the CPU
        }
    }

    /** An engine over loaded weights; the weights must outlive it. */
    public static Engine open(ModelWeights weights, EngineOptions options) {
        return new Engine(weights, options);
    }

    // ---- accessors ----

    public ModelWeights weights() {
        return weights;
    }

    public HyperParameters hyperParameters() {
        return hp;
    }

    public EngineOptions options() {
        return options;
    }

    public Backend backend() {
        return backend;
    }

    KvCache cache() {
        return cache;
    }

    /**
     * Whether this engine is set to take a decode step's attention probabilities from flash attention's
     * logits rather than from a second product of the query with every key: flash attention on, and the
     * backend's kernel writes them (the suite's CUDA build; {@link EngineOptions.FlashScores}: {@code
     * RBENCH_FA_SCORES=0}, {@code -Drbench.faScores=false} or {@code GGML_CUDA_GRAPH_OPT=1} turn it off) or
     * {@code EMULATED}. A read the kernel cannot score (rows not a multiple of 256, an F32 cache on a GPU) still
     * takes the second product.
     */
    public boolean probabilitiesFromFlashAttention() {
        return graphResources.flashAttentionScores();
    }

    /** Tokens in the cache: the position the next token gets. */
    public int position() {
        return cache.length();
    }

    /** The most tokens the cache holds (the requested context size). */
    public int contextSize() {
        return options.contextSize();
    }

    public int cacheCapacity() {
        return cache.capacity();
    }

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
     * What a prefill on this engine collects for {@code request} ({@link PrefillRequest#on}: the
     * host-only rows on the CPU, the last query instead on a GPU). Two methods whose requests
     * collect the same can share one prefill.
     */
    public PrefillRequest collects(PrefillRequest request) {
        return request.on(graphResources.onCpu());
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
        fullCache.require("a prefill");
        deferredWrites.flush();
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
        request = collects(request);
        int window = Math.min(request.lastRows(), tokens.length);
        int windowStart = end - window;
        float[][] lastRows = window > 0 ? new float[layers][heads * window * end] : null;
        float[][] columnSums = request.columnSums() ? new float[layers][heads * end] : null;
        int sumWindow = Math.min(request.windowSums(), tokens.length);
        int sumsStart = end - sumWindow;
        float[][] windowSums = sumWindow > 0 ? new float[layers][heads * end] : null;
        QueryVectors[] lastQuery = request.lastQuery() ? new QueryVectors[layers] : null;
        float[][] logits = new float[allLogits ? tokens.length : 1][];
        reserveForDeepestMicroBatch(tokens, end, allLogits, request.columnSums());

        for (int b = 0; b < tokens.length; b += options.microBatch()) {
            int n = Math.min(options.microBatch(), tokens.length - b);
            int p0 = first + b;
            boolean last = b + n == tokens.length;
            int windowFrom = window > 0 && windowStart < p0 + n ? Math.max(0, windowStart - p0) : -1;
            int windowSumsFrom = sumWindow > 0 && sumsStart < p0 + n ? Math.max(0, sumsStart - p0) : -1;
            Pass pass = Pass.prefill(Arrays.copyOfRange(tokens, b, b + n), p0,
                    allLogits ? Pass.Logits.ALL : last ? Pass.Logits.LAST : Pass.Logits.NONE, layers, windowFrom,
                    request.columnSums(), windowSumsFrom, last && request.lastQuery());
            try (PassGraph g = PassBuilder.build(graphResources, pass)) {
                compute += run(g.graph());
                PassGraph.Outputs out = g.outputs();
                if (out.logits() != null) {
                    float[] flat = out.logits().getFloats();
                    int vocab = hp.vocabSize();
                    int rows = flat.length / vocab;
                    for (int r = 0; r < rows; r++) {
                        logits[allLogits ? b + r : 0] = Arrays.copyOfRange(flat, r * vocab, (r + 1) * vocab);
                    }
                }
                for (int l = 0; l < layers; l++) {
                    if (out.windowRows()[l] != null) {
                        collectWindow(out.windowRows()[l], lastRows[l], p0 + windowFrom, windowStart, window, end);
                    }
                    if (out.columnSums()[l] != null) {
                        accumulateColumns(out.columnSums()[l], columnSums[l], end);
                    }
                    if (out.windowSums()[l] != null) {
                        accumulateColumns(out.windowSums()[l], windowSums[l], end);
                    }
                    if (pass.lastQuery() && out.queryAfterRope()[l] != null) {
                        lastQuery[l] = queryVectors(out, l);
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
        PrefillStatistics stats = new PrefillStatistics(first, end, rows, columnSums, lastQuery, windowSums, sumWindow);
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
        Pass deepest = Pass.prefill(Arrays.copyOfRange(tokens, tokens.length - n, tokens.length), end - n,
                allLogits ? Pass.Logits.ALL : Pass.Logits.NONE, hp.layers(), -1, columnSums, -1, false);
        try (PassGraph g = PassBuilder.build(graphResources, deepest)) {
            allocator.reserve(g.graph().graph);
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

    QueryVectors queryVectors(PassGraph.Outputs out, int layer) {
        return new QueryVectors(hp.heads(), hp.headDim(), out.queryBeforeRope()[layer].getFloats(),
                out.queryAfterRope()[layer].getFloats());
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
        long launched = launch(g);
        long s0 = System.nanoTime();
        backend.synchronize();
        lastComputeNanos = launched + System.nanoTime() - s0;
        return lastComputeNanos;
    }

    /**
     * Refills the inputs of an allocated graph (queued on a GPU's stream) and starts its compute
     * without waiting for it ({@link Backend#computeAsync}; the CPU computes before returning, and
     * so does an op profile, node by node). Returns the nanoseconds of the compute call, inputs
     * apart ({@link #lastInputNanos}).
     */
    long launch(StepGraph g) {
        long f0 = System.nanoTime();
        if (uploads != null) {
            uploads.run(g::fillInputs);
        } else {
            g.fillInputs();
        }
        long t0 = System.nanoTime();
        lastInputNanos = t0 - f0;
        if (graphObserver != null) {
            graphObserver.accept(g.graph);
        }
        if (opProfiler != null) {
            opProfiler.compute(backend, g.graph);
        } else {
            backend.computeAsync(g.graph);
        }
        lastComputeNanos = System.nanoTime() - t0;
        return lastComputeNanos;
    }

    /** The result slots of queued decode steps (made at the first use; decoders share them, one at a time). */
    StepResults stepResults() {
        if (stepResults == null) {
            stepResults = new StepResults(backend, 4L * hp.vocabSize());
        }
        return stepResults;
    }

    /** Whether step graphs are computed node by node now (an op profile: nothing overlaps). */
    boolean profilingOps() {
        return opProfiler != null;
    }

    /**
     * Computes the graphs of later steps node by node into {@code profiler} (null: whole again,
     * as usual); see {@link OpProfiler}.
     */
    public void profileOps(OpProfiler profiler) {
        this.opProfiler = profiler;
    }

    /**
     * Hands every later step graph to {@code observer} before it computes (null: none), allocated, inputs filled:
     * for checks of a graph's shape (what a backend's fusions look for, say) that no output shows.
     */
    public void observeStepGraphs(java.util.function.Consumer<ComputeGraph> observer) {
        this.graphObserver = observer;
    }

    GraphResources graphResources() {
        return graphResources;
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
        fullCache.require("a decoder");
        deferredWrites.flush();
        deferredWrites.forgetAnchors();
        return new Decoder(this, policy, stats);
    }

    // ---- cache state ----

    public KvSnapshot snapshot() {
        fullCache.require("a snapshot");
        deferredWrites.flush();
        return cache.snapshot();
    }

    public void restore(KvSnapshot snapshot) {
        deferredWrites.flush();
        cache.restore(snapshot);
        fullCache.clear(); // rows past the snapshot's length are never read before they are written again
    }

    /**
     * Fills the first {@code rows} cache positions with seeded random keys and values
     * (see {@link KvCache#fillSynthetic}); the next prefill or step continues after them.
     */
    public void fillSynthetic(int rows, long seed) {
        if (rows >= options.contextSize()) {
            throw new IllegalArgumentException(rows + " synthetic rows leave no room in a context of " + options.contextSize());
        }
        deferredWrites.discard(); // every row is rewritten
        cache.fillSynthetic(rows, seed);
        fullCache.clear();
    }

    /** Forgets all tokens (the cache rows are overwritten as new tokens come). */
    public void reset() {
        deferredWrites.discard(); // the rows are rewritten as new tokens come
        cache.setLength(0);
        fullCache.clear();
    }

    /** What policies decoding on this engine may call: compact caches, row copies, key shifts. */
    public AttentionContext attentionContext() {
        return services;
    }

    DeferredWrites deferredWrites() {
        return deferredWrites;
    }

    FullCacheValidity fullCacheValidity() {
        return fullCache;
    }

    GraphCache<PassGraph> stepGraphs() {
        return stepGraphs;
    }

    /**
     * Decode-step graphs built again because the cache had evicted them (to keep its byte budget or its count), since
     * this engine was made: a benchmark whose methods take turns reports it, since each such rebuild slows the step
     * that pays it (the build, and on CUDA an uncaptured run and a capture).
     */
    public long stepGraphsRebuilt() {
        return stepGraphs.rebuilds();
    }

    @Override
    public void close() {
        backend.removeMemoryReclaimer(reclaimStepGraphs); // first: whatever below fails, the backend lets the engine go
        if (uploads != null) {
            uploads.close();
        }
        if (stepResults != null) {
            stepResults.close();
        }
        stepGraphs.close();
        services.close();
        deferredWrites.close();
        allocator.close();
        graphResources.close();
        stateBuffer.close();
        stateContext.close();
        cache.close();
    }
}
