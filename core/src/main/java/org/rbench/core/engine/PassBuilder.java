package org.rbench.core.engine;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.StepPart;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Builds the ggml graph of one {@link Pass}: the embedding (or the hidden state between
 * split graphs), layers {@code [fromLayer, toLayer)} ({@link TransformerBlock}, whose
 * attention is {@link LayerAttention} and the layer's plan), the step parts the plans
 * share, and (after the last layer) the output norm and LM head. It mirrors llama.cpp's
 * llama / qwen2 / qwen3 graphs op for op, so that with the same kernels the logits match
 * llama_decode. One builder builds one graph.
 */
final class PassBuilder {
    final GraphResources res;
    final ModelWeights weights;
    final HyperParameters hp;
    final KvCache cache;
    final EngineOptions options;
    final Pass pass;
    final PassGraph.Bound bound;
    final StepGraph g;
    final GgmlContext ctx;
    /** RoPE positions of the batch, and the cache rows its K/V go to. */
    final Tensor positions;
    final Tensor writeRows;
    /** Rows a causal read of the whole cache covers, and its mask (null when nothing is masked). */
    final int keyRows;
    final Tensor mask;
    /**
     * Pending rows the layers copy into the full cache before their own write
     * ({@link DeferredWrites#inGraph}): per layer, the count and where its part of the two
     * inputs (all layers' rows, all layers' positions) starts; the inputs are null when none does.
     */
    private final DeferredWrites.Copy flushCopy;
    private final int[] flushOffsets;
    private final Tensor flushRows;
    private final Tensor flushPositions;
    /** Every layer's K and V written with their pending rows, where one set_rows a kind copies them all (else null). */
    private final Tensor[] pendingOfEveryLayer;

    // outputs, filled as the layers are built
    final Tensor[] probabilities;
    final Tensor[] fullProbabilities;
    final Tensor[] queryBeforeRope;
    final Tensor[] queryAfterRope;
    final Tensor[] windowRows;
    final Tensor[] columnSums;
    final Tensor[] windowSums;
    final List<PassGraph.AfterCompute> afterCompute = new ArrayList<>();
    final List<PassGraph.WhenLaunched> whenLaunched = new ArrayList<>();

    // what the layers' plan pieces share
    private final Map<String, Tensor> stepInputs = new LinkedHashMap<>();
    private final Map<String, LayerIndex> layerIndexes = new LinkedHashMap<>();
    private final Map<Class<?>, StepPart> parts = new LinkedHashMap<>();
    /** Columns of ones [1, queries, heads] by shape, made once a pass for every layer's key sums. */
    private final Map<List<Long>, Tensor> ones = new LinkedHashMap<>();
    /** {@link #flashScoreBatch} once asked (null where there is none), the rows and the mask of its reads, and the layers that wrote it. */
    private Tensor scoreBatch;
    private boolean scoreBatchAsked;
    private long scoreBatchRows;
    private Tensor scoreBatchMask;
    private final java.util.BitSet scoreBatchWritten = new java.util.BitSet();
    /** Whether a layer's attention is built: a score batch asked after that would miss its part. */
    private boolean attentionBuilt;

    private PassBuilder(GraphResources res, Pass pass) {
        this.res = res;
        this.weights = res.weights();
        this.hp = weights.hyperParameters();
        this.cache = res.cache();
        this.options = res.options();
        this.pass = pass;
        this.bound = new PassGraph.Bound(pass);
        this.g = new StepGraph(tensorBudget(res, pass));
        this.ctx = g.ctx;
        int layers = hp.layers();
        probabilities = new Tensor[layers];
        fullProbabilities = new Tensor[layers];
        queryBeforeRope = new Tensor[layers];
        queryAfterRope = new Tensor[layers];
        windowRows = new Tensor[layers];
        columnSums = new Tensor[layers];
        windowSums = new Tensor[layers];
        int n = pass.batch();
        // Inputs read the bound pass when filled, so that the graph computes later passes of its shape.
        positions = g.input("positions", GgmlType.I32, t -> t.setInts(bound.pass().positions()), n);
        writeRows = g.input("cache_rows", GgmlType.I32, t -> t.setIndices(bound.pass().positions(), cache.capacity()), n);
        keyRows = res.keyRows(pass.start() + n);
        mask = needsMask(res, pass) ? res.causalMask().tensor(g, keyRows, n, () -> bound.pass().start()) : null;
        DeferredWrites deferred = res.deferredWrites();
        flushCopy = deferred.inGraph(pass);
        flushOffsets = new int[layers];
        int flushed = 0;
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            flushOffsets[l] = flushed;
            flushed += flushCopy.counts()[l];
        }
        if (flushed > 0) {
            int kvHeads = hp.kvHeads();
            int rowBound = deferred.rowBound();
            // filled from the pending rows of the pass being computed (the signature fixes their counts)
            flushRows = flushCopy.everyLayer() ? null : g.input("deferred_rows", GgmlType.I32,
                    t -> t.setIndices(deferred.flushedRows(bound.pass()), rowBound), (long) flushed * kvHeads);
            flushPositions = g.input("deferred_positions", GgmlType.I32,
                    t -> t.setIndices(deferred.flushedPositions(bound.pass()), cache.capacity()),
                    DeferredWrites.positionCount(flushCopy));
        } else {
            flushRows = null;
            flushPositions = null;
        }
        if (flushCopy.everyLayer()) {
            // first in the graph: each layer's write and reads come after, through a view of these
            pendingOfEveryLayer = deferred.copyPendingOfEveryLayer(ctx, flushCopy, cache.keysOfEveryLayer(),
                    cache.valuesOfEveryLayer(), flushPositions);
            g.expand(pendingOfEveryLayer[0]);
            g.expand(pendingOfEveryLayer[1]);
        } else {
            pendingOfEveryLayer = null;
        }
    }

    /** Pending rows layer {@code l} copies into the full cache before its own write (0: none). */
    int flushCount(int l) {
        return flushCopy.counts()[l];
    }

    /**
     * Copies layer {@code l}'s pending rows from the compact cache holding them into the full
     * cache's {@code keys} and {@code values} ({@link DeferredWrites#copyPending}); returns the
     * written K and V.
     */
    Tensor[] copyPending(int l, Tensor keys, Tensor values) {
        if (pendingOfEveryLayer != null) {
            return new Tensor[] {layerOf(pendingOfEveryLayer[0], l, keys), layerOf(pendingOfEveryLayer[1], l, values)};
        }
        return res.deferredWrites().copyPending(ctx, flushCopy, l, keys, values, flushRows, flushPositions, flushOffsets[l]);
    }

    /** Layer {@code l}'s part of every layer's written {@code all}, shaped as the layer's own tensor {@code like}. */
    private Tensor layerOf(Tensor all, int l, Tensor like) {
        return ctx.view(all, new long[] {like.ne(0), like.ne(1), like.ne(2)}, new long[] {like.nb(1), like.nb(2)}, l * all.nb(3));
    }

    /**
     * The step's batch of flash attention's logits of reads shaped as {@code read} ({@link
     * org.rbench.core.attention.PlanGraph#flashScoreBatch}), made when first asked, or null: on a backend
     * whose flash attention writes them for such a read (asked of a probe: the step's query shape and
     * {@code read}'s rows and mask), in a decode step, and only when asked before any layer's attention is
     * built, since a layer built before could not write its part. One batch a step: asked again, for the
     * same shape, it is the same. Without a batch, a layer that scores its read writes a tensor of its own:
     * a batch for every layer where a few write it (TidalDecode's selecting layers) was 537 MB at 131K.
     */
    Tensor flashScoreBatch(AttendedRows read) {
        if (!scoreBatchAsked) {
            scoreBatchAsked = true;
            if (!attentionBuilt && pass.batch() == 1 && res.flashAttentionScores() && writesScores(read)) {
                scoreBatchRows = read.keys().ne(1);
                scoreBatchMask = read.mask();
                // kept allocated to the graph's end (an output): freed after the softmax that reads it, its memory
                // could hold the pools' output, which ggml-cuda's fused softmax and pools (native/patches:
                // ggml-cuda-split-soft-max.diff) write while they still read the batch; the fusion's check of
                // overlapping memory passes over inputs no op made, such as this one
                scoreBatch = ctx.newTensor(GgmlType.F32, scoreBatchRows, 1, hp.heads(), pass.toLayer() - pass.fromLayer())
                        .name("fa_score_batch").output();
            }
        }
        return scoreBatch != null && read.keys().ne(1) == scoreBatchRows && read.mask() == scoreBatchMask ? scoreBatch : null;
    }

    /** A layer's attention is being built: a score batch asked for after this is refused (null). */
    void buildingAttention() {
        attentionBuilt = true;
    }

    /**
     * Layer {@code layer}'s part of {@link #flashScoreBatch}, {@code [rows, 1, heads]} contiguous, for its read of
     * {@code rows} rows under {@code mask}; null where the step has no batch of that shape.
     */
    Tensor flashScoreSlot(int layer, long rows, Tensor mask) {
        if (scoreBatch == null || rows != scoreBatchRows || mask != scoreBatchMask) {
            return null;
        }
        scoreBatchWritten.set(layer);
        return ctx.view(scoreBatch, new long[] {rows, 1, hp.heads()}, new long[] {scoreBatch.nb(1), scoreBatch.nb(2)},
                (layer - pass.fromLayer()) * scoreBatch.nb(3)).name("fa_scores_" + layer);
    }

    /** Whether the backend's flash attention writes the logits of a one-token read like {@code read} (an unused probe). */
    private boolean writesScores(AttendedRows read) {
        if (res.castsForFlashAttention(read.keys())) {
            return false;
        }
        if (res.emulatedScores()) {
            return true;
        }
        Tensor q = ctx.newTensor(GgmlType.F32, hp.headDim(), 1, hp.heads()).name("fa_scores_probe_q");
        Tensor scores = ctx.newTensor(GgmlType.F32, read.keys().ne(1), 1, hp.heads()).name("fa_scores_probe");
        return ctx.flashAttnExtScoring(q, read.keys(), read.values(), read.mask(), hp.attentionScale(), scores,
                res.backend()) != null;
    }

    /** The graph of {@code pass}. */
    static PassGraph build(GraphResources res, Pass pass) {
        PassBuilder b = new PassBuilder(res, pass);
        try {
            return b.build();
        } catch (RuntimeException | Error e) {
            b.g.close();
            throw e;
        }
    }

    /**
     * What determines the shape of a pass's graph: two passes with equal signatures differ
     * only in input values, so one graph computes both.
     */
    static List<Object> signature(GraphResources res, Pass pass) {
        List<Object> sig = new ArrayList<>();
        sig.add(pass.batch());
        sig.add(res.keyRows(pass.start() + pass.batch()));
        // a step at the last of its padded rows builds no mask; one earlier in the block must not reuse that graph
        sig.add(needsMask(res, pass));
        sig.add(pass.fromLayer());
        sig.add(pass.toLayer());
        sig.add(pass.logits());
        sig.add(pass.queryOnly());
        sig.add(pass.windowFrom());
        sig.add(pass.columnSums());
        sig.add(pass.windowSumsFrom());
        sig.add(pass.lastQuery());
        sig.add(pass.shadowFull());
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            AttentionPlan p = pass.plans()[l];
            sig.add(List.of(p.getClass(), p.probabilities(), p.query(), p.shape(pass.start()), DeferredWrites.defers(pass, l),
                    FullCacheValidity.skips(pass, l)));
        }
        sig.add(res.deferredWrites().graphShape(pass));
        return sig;
    }

    /**
     * Whether the pass masks key rows: a batch masks its later tokens, and a decode step the
     * padding rows past it (none when it is the last of its padded rows).
     */
    private static boolean needsMask(GraphResources res, Pass pass) {
        int n = pass.batch();
        return n > 1 || res.keyRows(pass.start() + n) > pass.start() + n;
    }

    /** Upper bound of the tensors a pass creates, to size the metadata pool (ggml aborts when it runs out). */
    static int tensorBudget(GraphResources res, Pass pass) {
        // About 60 tensors per layer in the worst case without statistics (counted in
        // PassBuilderTest); each column-sum chunk adds 9 (its column of ones is made once a pass), the window sums 10 a layer.
        int perLayer = 128;
        if (pass.columnSums()) {
            perLayer += 16 * PrefillStatisticsBuilder.chunks(res, pass);
        }
        int extra = pass.windowSumsFrom() >= 0 ? 20 * (pass.toLayer() - pass.fromLayer()) : 0;
        extra += 12 * (pass.toLayer() - pass.fromLayer()) + 4; // pending rows copied into the full cache
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            extra += pass.plans()[l].extraTensors();
        }
        return 128 + (pass.toLayer() - pass.fromLayer()) * perLayer + extra;
    }

    private PassGraph build() {
        int n = pass.batch();
        Tensor x;
        if (pass.fromLayer() == 0) {
            int vocab = hp.vocabSize();
            Tensor tokenIds = pass.logits() == Pass.Logits.FED ? res.fedToken()
                    : g.input("tokens", GgmlType.I32, t -> t.setIndices(bound.pass().tokens(), vocab), n);
            x = ctx.getRows(weights.tokenEmbedding(), tokenIds);
        } else {
            x = res.hiddenState();
        }
        TransformerBlock block = new TransformerBlock(this);
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            x = block.build(l, x);
            if (x == null) {
                return graph(null, null); // query-only pass: its outputs are expanded
            }
        }
        if (scoreBatch != null && scoreBatchWritten.cardinality() != pass.toLayer() - pass.fromLayer()) {
            // a layer that read other rows, or asked for no probabilities, left its part unwritten
            throw new IllegalStateException("the step's batch of flash attention's logits has the parts of layers "
                    + scoreBatchWritten + " of [" + pass.fromLayer() + ", " + pass.toLayer() + ")");
        }
        // every layer's nodes join the graph before the parts' nodes, which run after them (backends run a
        // graph's nodes in order) and so may overwrite what a layer read (H2O's slots, StreamingLLM's sinks);
        // only where there are parts: a prefill batch without logits leaves its last layer's unread output out
        if (!parts.isEmpty()) {
            g.expand(x);
        }
        org.rbench.core.attention.PlanGraph.Finishing finishing = org.rbench.core.attention.PlanGraph.Finishing.of(ctx, g::expand);
        for (StepPart part : parts.values()) {
            part.finish(finishing);
            whenLaunched.add(p -> part.whenLaunched(p.plans(), p.start()));
            if (part.readsAfterCompute()) {
                afterCompute.add(p -> part.afterCompute(p.plans(), p.start()));
            }
        }
        Tensor logits = null;
        Tensor greedy = null;
        if (pass.toLayer() < hp.layers()) {
            g.expand(ctx.cpy(x, res.hiddenState()));
        } else if (pass.logits() != Pass.Logits.NONE) {
            Tensor h = x;
            if (pass.logits() == Pass.Logits.LAST && n > 1) {
                h = ctx.view(x, new long[] {hp.embedding(), 1}, new long[] {x.nb(1)}, (n - 1) * x.nb(1));
            }
            h = ctx.mul(ctx.rmsNorm(h, hp.rmsEps()), weights.outputNorm());
            Tensor out = ctx.mulMat(weights.output(), h);
            if (weights.outputBias() != null) {
                out = ctx.add(out, weights.outputBias());
            }
            if (pass.logits() == Pass.Logits.GREEDY || pass.logits() == Pass.Logits.FED) {
                greedy = DeviceGreedy.token(ctx, out.name("logits")).name("greedy").output();
                g.expand(greedy);
                if (pass.logits() == Pass.Logits.FED) {
                    // the next step's token: written after everything this step read it for (the graph's order)
                    g.expand(ctx.cpy(greedy, res.fedToken()));
                }
            } else {
                logits = out.name("logits").output();
                g.expand(logits);
            }
        }
        return graph(logits, greedy);
    }

    private PassGraph graph(Tensor logits, Tensor greedy) {
        return new PassGraph(g, new PassGraph.Outputs(logits, greedy, probabilities, fullProbabilities, queryBeforeRope,
                queryAfterRope, windowRows, columnSums, windowSums), bound, afterCompute, whenLaunched);
    }

    // ---- what plan pieces share (LayerAttention hands these out) ----

    Tensor stepInput(String name, GgmlType type, org.rbench.core.attention.PlanGraph.StepFill fill, long... ne) {
        return stepInputs.computeIfAbsent(name, k -> g.input(name, type, t -> fill.fill(t, bound.pass().start()), ne));
    }

    @SuppressWarnings("unchecked")
    <T extends StepPart> T stepPart(Class<T> kind, java.util.function.Supplier<T> create) {
        StepPart part = parts.get(kind);
        if (part == null) {
            part = create.get();
            parts.put(kind, part);
        }
        return (T) part;
    }

    /** One element of the per-layer index input {@code name}, registering {@code layer}'s value. */
    <P extends AttentionPlan> Tensor layerIndex(String name, int layer, ToIntFunction<P> value, ToIntFunction<P> bound) {
        return layerIndices(name, 1, layer, (P p) -> new int[] {value.applyAsInt(p)}, bound);
    }

    /** {@code width} elements of the per-layer index input {@code name}, registering {@code layer}'s values. */
    <P extends AttentionPlan> Tensor layerIndices(String name, int width, int layer, Function<P, int[]> values,
                                                  ToIntFunction<P> bound) {
        LayerIndex index = layerIndexes.computeIfAbsent(name, n -> new LayerIndex(n, width));
        if (index.width != width) {
            throw new IllegalArgumentException("the per-layer input " + name + " holds " + index.width + " values a layer, not "
                    + width);
        }
        index.add(layer, values, bound);
        return ctx.view(index.tensor, new long[] {width}, new long[] {}, (long) layer * width * index.tensor.nb(0));
    }

    /** The whole input of {@link #layerIndices} under {@code name}, or null before a layer asked. */
    Tensor layerIndicesOfEveryLayer(String name) {
        LayerIndex index = layerIndexes.get(name);
        return index == null ? null : index.tensor;
    }

    /** The padding mask of a one-token read of {@code padded} rows of which {@code rows} count; null without padding. */
    Tensor paddingMask(int rows, int padded) {
        if (rows == padded) {
            return null;
        }
        if (rows <= 0 || rows > padded) {
            throw new IllegalArgumentException("a read of " + rows + " rows padded to " + padded);
        }
        GgmlType type = res.causalMask().type();
        return stepInputs.computeIfAbsent("padding_mask_" + rows + "_" + padded, name -> g.input(name, type, t -> {
            float[] m = new float[padded];
            java.util.Arrays.fill(m, rows, padded, Float.NEGATIVE_INFINITY);
            if (type == GgmlType.F16) {
                t.setHalfs(m);
            } else {
                t.setFloats(m);
            }
        }, padded, 1));
    }

    /** F32 ones {@code [1, queries, heads]}, one tensor a pass per shape (PrefillStatisticsBuilder's key sums). */
    Tensor ones(long queries, long heads) {
        return ones.computeIfAbsent(List.of(queries, heads),
                k -> ctx.reshape(ctx.scaleBias(ctx.arange(0, queries * heads, 1), 0f, 1f), 1, queries, heads));
    }

    /**
     * A per-layer I32 input, {@code [width, layers]}, of which each registered layer reads its
     * elements: the per-layer scalars of a step go up in one upload, as each write to a GPU
     * costs a round trip (32 layers' one-element uploads took 0.3 ms of a 6 ms step on an H200).
     */
    private final class LayerIndex {
        final Tensor tensor;
        final int width;
        private final Map<Integer, Object[]> byLayer = new LinkedHashMap<>();

        LayerIndex(String name, int width) {
            this.width = width;
            tensor = g.input(name, GgmlType.I32, this::fill, (long) width * hp.layers());
        }

        <P extends AttentionPlan> void add(int layer, Function<P, int[]> values, ToIntFunction<P> bound) {
            byLayer.put(layer, new Object[] {values, bound});
        }

        @SuppressWarnings("unchecked")
        private void fill(Tensor t) {
            int[] out = new int[width * hp.layers()];
            for (Map.Entry<Integer, Object[]> e : byLayer.entrySet()) {
                int l = e.getKey();
                AttentionPlan plan = bound.plan(l);
                int[] v = ((Function<AttentionPlan, int[]>) e.getValue()[0]).apply(plan);
                int b = ((ToIntFunction<AttentionPlan>) e.getValue()[1]).applyAsInt(plan);
                if (v.length != width) {
                    throw new IllegalArgumentException(v.length + " values for layer " + l + " of " + t.name() + ", expected " + width);
                }
                for (int i = 0; i < width; i++) {
                    if (v[i] < 0 || v[i] >= b) {
                        throw new IndexOutOfBoundsException("index " + v[i] + " of layer " + l + " (" + t.name()
                                + ") is outside [0, " + b + ")");
                    }
                    out[l * width + i] = v[i];
                }
            }
            t.setInts(out);
        }
    }

}
