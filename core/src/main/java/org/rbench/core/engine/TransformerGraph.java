package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.HeavyHitterSlots;
import org.rbench.core.attention.TopRows;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.LayerWeights;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Ggml;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;


/**
 * Builds the ggml graph of one forward pass over a batch of consecutive tokens: the
 * embedding, layers {@code [fromLayer, toLayer)}, and (when the last layer is included)
 * the output norm and LM head. It mirrors llama.cpp's llama / qwen2 / qwen3 graphs op
 * for op, so that with the same kernels the logits match llama_decode.
 *
 * <p>Per layer the new tokens' K/V are written into the cache (set_rows, expanded before
 * anything reads the cache), then the attention reads what the layer's plan selects:
 * prefill batches always attend causally to the whole cache.
 */
final class TransformerGraph {
    /** Which rows of logits a pass produces. */
    enum Logits { NONE, LAST, ALL }

    // ---- configuration, set by the engine before build() ----
    int[] tokens;
    int start;
    Logits logits = Logits.LAST;
    /** One plan per layer for decode steps; null means causal full attention (prefill). */
    AttentionPlan[] plans;
    int fromLayer;
    int toLayer;
    /** Persistent [embedding, 1] tensor carrying the residual stream between split graphs. */
    Tensor hiddenState;
    /** Stop after the query of {@code fromLayer} (split mode, query before planning). */
    boolean queryOnly;
    /** Batch-relative first query row whose attention rows are read back; -1 for none. */
    int windowFrom = -1;
    boolean columnSums;
    /** Read back the query vectors of the batch's last token at every built layer. */
    boolean lastQuery;

    // ---- results: tensors to read after compute ----
    Tensor logitsTensor;
    Tensor[] probabilities;
    /** Diagnostics: full-attention probabilities of layers whose plan attends fewer rows. */
    boolean shadowFull;
    Tensor[] fullProbabilities;
    Tensor[] queryBeforeRope;
    Tensor[] queryAfterRope;
    Tensor[] windowRows;
    Tensor[] columnSumTensors;
    /**
     * Full plans with top rows, all layers' in one tensor: the candidates of each layer's KV
     * heads, highest score first, {@code [topRowCandidates, kvHeads * selecting layers]}, and
     * their scores; a layer's rows start at {@code topRowSlot[l] * kvHeads} (-1: none).
     */
    Tensor topRowPositions;
    Tensor topRowScores;
    int[] topRowSlot;
    int topRowCandidates;
    /** Attended rows per layer (the key count of the probabilities). */
    int[] attendedRows;

    private final Engine engine;
    private final ModelWeights weights;
    private final HyperParameters hp;
    private final KvCache cache;
    private final EngineOptions options;
    private StepGraph g;
    private GgmlContext ctx;
    private TopRowsSelection.Batch topRowBatch;
    private Tensor positions;
    private Tensor writeRows;
    private Tensor mask;
    private int keyRows;
    /** Per-layer inputs of the COMPACT plans (one upload each per step), made on first use in a build. */
    private Tensor compactRows;
    private Tensor compactPositions;
    /** HEAVY_HITTERS plans' step inputs: the new token's position, and the last position H2O may evict. */
    private Tensor heavyHitterPosition;
    private Tensor heavyHitterThreshold;

    TransformerGraph(Engine engine) {
        this.engine = engine;
        this.weights = engine.weights();
        this.hp = weights.hyperParameters();
        this.cache = engine.cache();
        this.options = engine.options();
        this.toLayer = hp.layers();
    }

    int batch() {
        return tokens.length;
    }

    /** Upper bound of the tensors this pass creates, to size the metadata pool. */
    int tensorBudget() {
        // About 60 tensors per layer in the worst case without statistics (counted in
        // TransformerGraphTest); each column-sum chunk adds 9, each extra range 4.
        int perLayer = 128;
        if (columnSums) {
            perLayer += 12 * statisticsChunks();
        }
        int ranges = 0;
        if (plans != null) {
            for (AttentionPlan p : plans) {
                if (p instanceof AttentionPlan.Ranges r) {
                    ranges += 6 * r.starts().length;
                }
            }
        }
        return 128 + (toLayer - fromLayer) * perLayer + ranges;
    }

    private int statisticsChunk() {
        long perQuery = (long) keyRowsFor(start + batch()) * hp.heads() * Float.BYTES;
        return (int) Math.max(1, Math.min(batch(), options.statisticsBudgetBytes() / perQuery));
    }

    private int statisticsChunks() {
        int c = statisticsChunk();
        return (batch() + c - 1) / c;
    }

    /** Rows a causal attention over positions [0, end) reads: padded, within the cache. */
    private int keyRowsFor(int end) {
        int pad = options.kvPadding();
        long padded = (long) (end + pad - 1) / pad * pad;
        return (int) Math.min(cache.capacity(), padded);
    }

    StepGraph build() {
        int n = batch();
        int layers = hp.layers();
        g = new StepGraph(tensorBudget());
        ctx = g.ctx;
        compactRows = null;
        compactPositions = null;
        heavyHitterPosition = null;
        heavyHitterThreshold = null;
        probabilities = new Tensor[layers];
        fullProbabilities = new Tensor[layers];
        queryBeforeRope = new Tensor[layers];
        queryAfterRope = new Tensor[layers];
        windowRows = new Tensor[layers];
        columnSumTensors = new Tensor[layers];
        topRowPositions = null;
        topRowScores = null;
        topRowSlot = new int[layers];
        java.util.Arrays.fill(topRowSlot, -1);
        attendedRows = new int[layers];

        // Inputs read this object's current tokens, start and plans when filled, so that a
        // graph of the same shape can be computed again for the next step (see Decoder).
        positions = g.input("positions", GgmlType.I32, t -> t.setInts(consecutive()), n);
        writeRows = g.input("cache_rows", GgmlType.I32, t -> t.setIndices(consecutive(), cache.capacity()), n);
        keyRows = keyRowsFor(start + n);
        boolean needMask = n > 1 || keyRows > start + n;
        mask = needMask ? engine.causalMask().tensor(g, keyRows, n, () -> start) : null;

        topRowBatch = queryOnly ? null : topRowBatch();

        Tensor x;
        if (fromLayer == 0) {
            int vocab = hp.vocabSize();
            Tensor tokenIds = g.input("tokens", GgmlType.I32, t -> t.setIndices(tokens, vocab), n);
            x = ctx.getRows(weights.tokenEmbedding(), tokenIds);
        } else {
            x = hiddenState;
        }
        for (int l = fromLayer; l < toLayer; l++) {
            x = layer(l, x);
            if (x == null) {
                return g; // query-only pass: the outputs are expanded
            }
        }
        if (topRowBatch != null) {
            TopRowsSelection.Result top = topRowBatch.select(topRowCandidates);
            topRowPositions = top.positions().name("top_rows").output();
            topRowScores = top.scores().name("top_scores").output();
            g.expand(topRowPositions);
            g.expand(topRowScores);
        }
        if (toLayer < layers) {
            g.expand(ctx.cpy(x, hiddenState));
        } else if (logits != Logits.NONE) {
            Tensor h = x;
            if (logits == Logits.LAST && n > 1) {
                h = ctx.view(x, new long[] {hp.embedding(), 1}, new long[] {x.nb(1)}, (n - 1) * x.nb(1));
            }
            h = norm(h, weights.outputNorm());
            Tensor out = ctx.mulMat(weights.output(), h);
            if (weights.outputBias() != null) {
                out = ctx.add(out, weights.outputBias());
            }
            logitsTensor = out.name("logits").output();
            g.expand(logitsTensor);
        }
        return g;
    }

    /** Positions start, start + 1, ... of the batch (RoPE positions and cache rows). */
    private int[] consecutive() {
        int[] p = new int[batch()];
        for (int i = 0; i < p.length; i++) {
            p[i] = start + i;
        }
        return p;
    }

    /**
     * What determines the shape of this pass's graph: two passes with equal signatures
     * differ only in input values. Gathered host rows and a compact cache's write row
     * are inputs; range bounds are views, so they are part of the shape.
     */
    java.util.List<Object> signature() {
        java.util.List<Object> sig = new java.util.ArrayList<>();
        sig.add(batch());
        sig.add(keyRowsFor(start + batch()));
        sig.add(fromLayer);
        sig.add(toLayer);
        sig.add(logits);
        sig.add(queryOnly);
        sig.add(windowFrom);
        sig.add(columnSums);
        sig.add(lastQuery);
        sig.add(shadowFull);
        if (plans != null) {
            for (int l = fromLayer; l < toLayer; l++) {
                AttentionPlan p = plans[l];
                java.util.List<Object> part = new java.util.ArrayList<>(java.util.List.of(p.getClass(), p.probabilities(), p.query()));
                switch (p) {
                    case AttentionPlan.Full f -> {
                        if (f.topRows() != null) {
                            part.add(f.topRows());
                            // The candidate count follows the rows that exist until it reaches k + kernel.
                            int valid = start + batch();
                            part.add(valid >= f.topRows().k() + f.topRows().poolKernel() ? -1 : valid);
                        }
                    }
                    case AttentionPlan.Gather ga -> {
                        part.add(ga.rowsPerHead());
                        part.add(ga.deviceRows() == null ? "host" : ga.deviceRows()); // identity
                    }
                    case AttentionPlan.Compact c -> {
                        part.add(c.cache()); // identity
                        part.add(c.rows());
                        part.add(c.position() >= 0);
                    }
                    case AttentionPlan.Ranges r -> {
                        part.add(java.util.Arrays.toString(r.starts()));
                        part.add(java.util.Arrays.toString(r.ends()));
                    }
                    case AttentionPlan.HeavyHitters hh -> {
                        part.add(hh.state()); // identity: its tensors are the graph's
                        part.add(hh.layer());
                    }
                }
                sig.add(part);
            }
        }
        return sig;
    }

    private Tensor norm(Tensor x, Tensor weight) {
        return ctx.mul(ctx.rmsNorm(x, hp.rmsEps()), weight);
    }

    private Tensor project(Tensor w, Tensor bias, Tensor x) {
        Tensor y = ctx.mulMat(w, x);
        return bias == null ? y : ctx.add(y, bias);
    }

    private Tensor rope(Tensor t) {
        return rope(t, positions);
    }

    private Tensor rope(Tensor t, Tensor at) {
        // ext_factor 0 (no YaRN), attn_factor 1, beta 32/1: llama.cpp's values for these models.
        return ctx.ropeExt(t, at, weights.ropeFrequencies(), hp.headDim(), hp.ropeType().ggmlMode,
                hp.ropeOriginalContext(), hp.ropeTheta(), hp.ropeFreqScale(), 0f, 1f, 32f, 1f);
    }

    /** The position input of a COMPACT plan that rotates the new token elsewhere, or null. */
    private Tensor positionOverride(int l) {
        if (plans == null || !(plans[l] instanceof AttentionPlan.Compact c) || c.position() < 0) {
            return null;
        }
        if (compactPositions == null) {
            compactPositions = g.input("compact_positions", GgmlType.I32, t -> t.setInts(perCompactLayer(
                    plan -> Math.max(0, plan.position()), plan -> Integer.MAX_VALUE)), hp.layers());
        }
        return layerElement(compactPositions, l);
    }

    /**
     * The value of each layer with a COMPACT plan (0 for the others), checked against its bound:
     * the per-layer scalars of a step go up in one input, as a write to a GPU costs a round
     * trip each (32 layers' one-element uploads took 0.3 ms of a 6 ms step on an H200).
     */
    private int[] perCompactLayer(java.util.function.ToIntFunction<AttentionPlan.Compact> value,
                                  java.util.function.ToIntFunction<AttentionPlan.Compact> bound) {
        int[] out = new int[hp.layers()];
        for (int l = fromLayer; l < toLayer; l++) {
            if (plans[l] instanceof AttentionPlan.Compact c) {
                int v = value.applyAsInt(c);
                int b = bound.applyAsInt(c);
                if (v < 0 || v >= b) {
                    throw new IndexOutOfBoundsException("Row index " + v + " of layer " + l + " is outside [0, " + b
                            + ") of its compact cache");
                }
                out[l] = v;
            }
        }
        return out;
    }

    /** Element {@code l} of a per-layer input, as a one-element tensor. */
    private Tensor layerElement(Tensor perLayer, int l) {
        return ctx.view(perLayer, new long[] {1}, new long[] {}, (long) l * perLayer.nb(0));
    }

    /** One transformer block; returns the block's output, or null for a query-only pass. */
    private Tensor layer(int l, Tensor x) {
        int n = batch();
        LayerWeights w = weights.layer(l);
        Tensor h = norm(x, w.attentionNorm());

        Tensor q = ctx.reshape(project(w.query(), w.queryBias(), h), hp.headDim(), hp.heads(), n);
        if (w.queryNorm() != null) {
            q = ctx.mul(ctx.rmsNorm(q, hp.rmsEps()), w.queryNorm());
        }
        Tensor qBeforeRope = q;
        Tensor positionOverride = positionOverride(l);
        q = positionOverride == null ? rope(q) : rope(q, positionOverride);
        if (lastQuery || queryOnly || (plans != null && plans[l].query())) {
            queryBeforeRope[l] = lastToken(qBeforeRope, "q_before_rope_" + l);
            queryAfterRope[l] = lastToken(q, "q_after_rope_" + l);
            g.expand(queryBeforeRope[l]);
            g.expand(queryAfterRope[l]);
        }
        if (queryOnly) {
            return null;
        }

        Tensor k = ctx.reshape(project(w.key(), w.keyBias(), h), hp.headDim(), hp.kvHeads(), n);
        if (w.keyNorm() != null) {
            k = ctx.mul(ctx.rmsNorm(k, hp.rmsEps()), w.keyNorm());
        }
        Tensor kCompact = positionOverride == null ? null : rope(k, positionOverride);
        k = rope(k);
        Tensor v = ctx.reshape(project(w.value(), w.valueBias(), h), hp.headDim(), hp.kvHeads(), n);

        // ggml orders a graph's nodes depth-first from each expanded tensor: expanding the roped
        // Q and K and then V here puts the layer in llama.cpp's order (Q, K, V, then the cache
        // writes and attention) instead of K's chain and its cache write, V's, then Q's right
        // before flash attention. On Hopper GPUs ggml-cuda launches kernels with programmatic
        // dependent launch (PDL), and in that other order the NEOX rope (qwen2, qwen3) gave
        // wrong one-token results: decode logits off by up to 1.09 (qwen2) and 13 (qwen3) from
        // llama.cpp's, fixed by this order or by GGML_CUDA_PDL=0 (H200, session 6; the prompt
        // in one-token graphs showed it too, so it is not the decode bookkeeping).
        g.expand(q);
        g.expand(k);
        g.expand(v);
        Tensor attention = attention(l, q, k, kCompact != null ? kCompact : k, v);
        Tensor o = project(w.attentionOutput(), w.attentionOutputBias(), attention);
        Tensor ffnInput = ctx.add(o, x);

        Tensor f = norm(ffnInput, w.ffnNorm());
        Tensor up = ctx.mulMat(w.ffnUp(), f);
        Tensor gate = ctx.mulMat(w.ffnGate(), f);
        Tensor down = ctx.mulMat(w.ffnDown(), ctx.swigluSplit(gate, up));
        return ctx.add(down, ffnInput);
    }

    /** A contiguous copy of the last token's [headDim, heads] slice, marked as output. */
    private Tensor lastToken(Tensor t, String name) {
        long n = t.ne(2);
        Tensor last = ctx.view(t, new long[] {t.ne(0), t.ne(1)}, new long[] {t.nb(1)}, (n - 1) * t.nb(2));
        return ctx.cont(last).name(name).output();
    }

    /**
     * Writes this batch's K/V into the cache, then attends as planned.
     * q: [headDim, heads, n]; k, v: [headDim, kvHeads, n]; kCompact: the keys a COMPACT
     * plan writes (k, or k rotated at the plan's position). Returns [headDim * heads, n].
     */
    private Tensor attention(int l, Tensor q, Tensor k, Tensor kCompact, Tensor v) {
        // Cache layout is [headDim, rows, kvHeads]: swap the token and head dims to write.
        Tensor kWritten = ctx.setRows(cache.keys(l), ctx.permute(k, 0, 2, 1, 3), writeRows);
        Tensor vWritten = ctx.setRows(cache.values(l), ctx.permute(v, 0, 2, 1, 3), writeRows);
        g.expand(kWritten);
        g.expand(vWritten);

        AttentionPlan plan = plans == null ? AttentionPlan.full() : plans[l];
        Tensor keys;
        Tensor values;
        Tensor planMask = null;
        Tensor heavyPositions = null; // HEAVY_HITTERS: the slots this step wrote, for accumulateAndEvict
        Tensor heavyScores = null;
        switch (plan) {
            case AttentionPlan.Full full -> {
                keys = rowsView(kWritten, 0, keyRows);
                values = rowsView(vWritten, 0, keyRows);
                planMask = mask;
            }
            case AttentionPlan.Gather gather -> {
                Tensor indices;
                if (gather.deviceRows() != null) {
                    indices = gather.deviceRows().tensor();
                } else {
                    indices = g.input("gather_rows_" + l, GgmlType.I32,
                            t -> t.setIndices(((AttentionPlan.Gather) plans[l]).rows(), start + 1),
                            gather.rowsPerHead(), hp.kvHeads());
                }
                keys = ctx.getRows(kWritten, indices);
                values = ctx.getRows(vWritten, indices);
            }
            case AttentionPlan.Compact compact -> {
                if (compactRows == null) {
                    compactRows = g.input("compact_rows", GgmlType.I32, t -> t.setInts(perCompactLayer(
                            AttentionPlan.Compact::newTokenRow, c -> c.cache().capacity())), hp.layers());
                }
                Tensor target = layerElement(compactRows, l);
                Tensor ck = ctx.setRows(compact.cache().keys(), ctx.permute(kCompact, 0, 2, 1, 3), target);
                Tensor cv = ctx.setRows(compact.cache().values(), ctx.permute(v, 0, 2, 1, 3), target);
                g.expand(ck);
                g.expand(cv);
                keys = rowsView(ck, 0, compact.rows());
                values = rowsView(cv, 0, compact.rows());
            }
            case AttentionPlan.Ranges ranges -> {
                keys = joinedRanges(kWritten, ranges);
                values = joinedRanges(vWritten, ranges);
            }
            case AttentionPlan.HeavyHitters hh -> {
                HeavyHitterSlots state = hh.state();
                Tensor free = state.freeSlot(hh.layer());
                // the new token into the slot the last step freed, with nothing accumulated yet
                heavyPositions = ctx.setRows(state.positions(hh.layer()), heavyHitterPosition(state), free);
                heavyScores = ctx.setRows(state.scores(hh.layer()), ctx.scale(heavyHitterPosition(state), 0f), free);
                // and its K/V into the same slot of the layer's compact cache, one row per KV head
                CompactCache slots = state.cache(hh.layer());
                Tensor ck = ctx.setRows(slots.keys(), ctx.permute(kCompact, 0, 2, 1, 3), free);
                Tensor cv = ctx.setRows(slots.values(), ctx.permute(v, 0, 2, 1, 3), free);
                g.expand(ck);
                g.expand(cv);
                keys = rowsView(ck, 0, state.slots());
                values = rowsView(cv, 0, state.slots());
            }
        }
        attendedRows[l] = (int) keys.ne(1);

        Tensor qt = ctx.permute(q, 0, 2, 1, 3); // [headDim, n, heads]
        float scale = hp.attentionScale();
        Tensor out;
        Tensor probs = null;
        if (options.flashAttention()) {
            Tensor fk = keys;
            Tensor fv = values;
            if (!engine.onCpu() && fk.type() == GgmlType.F32) {
                // GPU flash attention reads F16 K/V only; gathered rows come back as F32.
                fk = ctx.cast(fk, GgmlType.F16);
                fv = ctx.cast(fv, GgmlType.F16);
            }
            Tensor fa = ctx.flashAttnExt(qt, fk, fv, planMask, scale, 0f, 0f);
            ctx.setFlashAttnPrecision(fa, GgmlContext.PREC_F32);
            out = ctx.reshape(fa, (long) hp.headDim() * hp.heads(), batch());
            if (plan.probabilities() || topRowsOf(plan) != null || plan instanceof AttentionPlan.HeavyHitters) {
                // read back or ranked only, never multiplied into the output: the GQA-grouped form
                probs = batch() == 1 ? decodeSoftmax(ctx, keys, q, planMask, scale, hp.kvHeads()) : softmax(keys, qt, planMask);
            }
        } else {
            probs = softmax(keys, qt, planMask);
            Tensor vt = ctx.cont(ctx.transpose(values)); // [rows, headDim, kvHeads]
            Tensor kqv = ctx.mulMat(vt, probs); // [headDim, n, heads]
            out = ctx.reshape(ctx.cont(ctx.permute(kqv, 0, 2, 1, 3)), (long) hp.headDim() * hp.heads(), batch());
        }
        if (plan.probabilities() && probs != null) {
            probabilities[l] = probs.name("probs_" + l).output();
            g.expand(probabilities[l]);
        }
        if (topRowsOf(plan) != null) {
            selectTopRows(l, probs, topRowsOf(plan));
        }
        if (plan instanceof AttentionPlan.HeavyHitters hh) {
            accumulateAndEvict(hh, probs, heavyPositions, heavyScores);
        }
        if (shadowFull && plans != null && !(plan instanceof AttentionPlan.Full)) {
            // What full attention would have given this query: for attention-mass recall only.
            Tensor allKeys = rowsView(kWritten, 0, keyRows);
            fullProbabilities[l] = (batch() == 1 ? decodeSoftmax(ctx, allKeys, q, mask, scale, hp.kvHeads())
                    : softmax(allKeys, qt, mask)).name("full_probs_" + l).output();
            g.expand(fullProbabilities[l]);
        }
        if (plans == null) {
            prefillStatistics(l, rowsView(kWritten, 0, keyRows), q);
        }
        return out;
    }

    private static TopRows topRowsOf(AttentionPlan plan) {
        return plan instanceof AttentionPlan.Full f ? f.topRows() : null;
    }

    /**
     * The step's batch of top-row selections (one sort for every layer whose plan asks for
     * top rows, see {@link TopRowsSelection.Batch}), or null when no layer does; sets the
     * batch's candidate count, the largest any layer needs.
     */
    private TopRowsSelection.Batch topRowBatch() {
        if (plans == null) {
            return null;
        }
        int selecting = 0;
        topRowCandidates = 0;
        for (int l = fromLayer; l < toLayer; l++) {
            TopRows request = topRowsOf(plans[l]);
            if (request != null) {
                selecting++;
                topRowCandidates = Math.max(topRowCandidates, request.candidates(start + 1));
            }
        }
        if (selecting == 0) {
            return null;
        }
        if (batch() != 1) {
            throw new IllegalStateException("top rows are selected in decode steps (one token), not in a batch of " + batch());
        }
        return new TopRowsSelection.Batch(ctx, g::expand, keyRows, hp.kvHeads(), selecting);
    }

    /** The device side of {@link TopRows} for layer l: its scores join the step's batch. */
    private void selectTopRows(int l, Tensor probs, TopRows request) {
        Tensor scores = TopRowsSelection.scores(ctx, probs, mask, request, hp.heads(), hp.kvHeads());
        topRowSlot[l] = topRowBatch.add(scores);
    }

    private Tensor heavyHitterPosition(HeavyHitterSlots state) {
        if (heavyHitterPosition == null) {
            heavyHitterPosition = g.input("h2o_position", GgmlType.F32, t -> t.setFloats(perKvHead(start)), 1, 1, hp.kvHeads());
            heavyHitterThreshold = g.input("h2o_threshold", GgmlType.F32, t -> t.setFloats(perKvHead(start - state.recent())),
                    1, 1, hp.kvHeads());
        }
        return heavyHitterPosition;
    }

    private float[] perKvHead(int value) {
        float[] out = new float[hp.kvHeads()];
        java.util.Arrays.fill(out, value);
        return out;
    }

    /**
     * HEAVY_HITTERS after the attention: each slot's probability, summed (or averaged) over the
     * KV head's query heads, is added to its score; then the slot to free for the next token
     * is the lowest-scored one not among the {@code recent} newest positions (those get
     * 1e30 added before the arg-min). Both results are copied into the state's tensors.
     * {@code positions} and {@code scores}: the state's, after this step's writes into the free slot.
     */
    private void accumulateAndEvict(AttentionPlan.HeavyHitters hh, Tensor probs, Tensor positions, Tensor scores) {
        if (batch() != 1) {
            throw new IllegalStateException("H2O's device decisions are made in decode steps (one token), not in a batch of "
                    + batch());
        }
        HeavyHitterSlots state = hh.state();
        int slots = state.slots();
        int kvHeads = hp.kvHeads();
        int group = hp.heads() / kvHeads;
        // probs [slots, 1, heads], query head h reading KV head h / group
        Tensor byGroup = ctx.cont(ctx.permute(ctx.reshape(probs, slots, group, kvHeads), 1, 0, 2, 3)); // [group, slots, kv]
        Tensor step = ctx.sumRows(byGroup); // [1, slots, kvHeads]
        if (state.aggregation() == org.rbench.core.select.GqaAggregation.MEAN) {
            step = ctx.scale(step, 1f / group);
        }
        Tensor accumulated = ctx.add(scores, step);
        g.expand(ctx.cpy(accumulated, state.scores(hh.layer())));
        Tensor recent = ctx.step(ctx.sub(positions, heavyHitterThreshold)); // 1: among the recent newest
        Tensor evictable = ctx.add(accumulated, ctx.scale(recent, 1e30f));
        Tensor lowest = ctx.argmax(ctx.scale(ctx.reshape(evictable, slots, kvHeads), -1f)); // I32 [kvHeads]
        // Overwrites the free slot the step's set_rows read: the positions', scores' and keys'
        // writes precede it through the data (lowest depends on them); the values' write only
        // through the node order, as it was expanded first (backends run nodes in order).
        g.expand(ctx.cpy(lowest, state.freeSlot(hh.layer())));
    }

    private Tensor softmax(Tensor keys, Tensor qt, Tensor m) {
        return softmax(ctx, keys, qt, m, hp.attentionScale());
    }

    /**
     * The probabilities of one query token, {@code [rows, 1, heads]} as {@link #softmax}, with
     * the query heads that share a KV head multiplied by its keys together: K^T Q per KV head
     * with Q its group's {@code heads / kvHeads} columns, so each layer's keys are read once
     * where the broadcast product reads them once per query head (4 times for Llama-3.1-8B;
     * 0.31 ms a layer at 131K rows on an H200 against 0.23 for flash attention). {@code q}:
     * the token's query, contiguous, {@code headDim x heads} elements, head-major.
     * Not for the attention output itself: the broadcast product is the one llama.cpp computes.
     */
    static Tensor decodeSoftmax(GgmlContext ctx, Tensor keys, Tensor q, Tensor m, float scale, int kvHeads) {
        long headDim = keys.ne(0);
        long heads = q.elements() / headDim;
        if (heads % kvHeads != 0 || headDim * heads != q.elements()) {
            throw new IllegalArgumentException("a query of " + q.elements() + " elements is not heads x " + headDim
                    + " with heads a multiple of " + kvHeads);
        }
        Tensor grouped = ctx.reshape(q, headDim, heads / kvHeads, kvHeads);
        Tensor kq = ctx.mulMat(keys, grouped); // [rows, group, kvHeads]
        Ggml.ggml_mul_mat_set_prec(kq.address(), GgmlContext.PREC_F32);
        return ctx.softMaxExt(ctx.reshape(kq, kq.ne(0), 1, heads), m, scale, 0f);
    }

    /** softmax(scale * K^T q + mask) with F32 accumulation: [rows, n, heads]. */
    static Tensor softmax(GgmlContext ctx, Tensor keys, Tensor qt, Tensor m, float scale) {
        Tensor kq = ctx.mulMat(keys, qt);
        Ggml.ggml_mul_mat_set_prec(kq.address(), GgmlContext.PREC_F32);
        return ctx.softMaxExt(kq, m, scale, 0f);
    }

    private Tensor rowsView(Tensor c, int from, int to) {
        return rowsView(ctx, c, from, to);
    }

    /** Rows [from, to) of a [headDim, capacity, kvHeads] cache tensor, as a strided view. */
    static Tensor rowsView(GgmlContext ctx, Tensor c, int from, int to) {
        return ctx.view(c, new long[] {c.ne(0), to - from, c.ne(2)}, new long[] {c.nb(1), c.nb(2)}, from * c.nb(1));
    }

    private Tensor joinedRanges(Tensor c, AttentionPlan.Ranges ranges) {
        int[] s = ranges.starts();
        int[] e = ranges.ends();
        Tensor joined = rowsView(c, s[0], e[0]);
        for (int i = 1; i < s.length; i++) {
            Tensor next = rowsView(c, s[i], e[i]);
            // ggml_concat asserts equal types and equal other dims: true for two views of one cache.
            joined = Tensor.of(Ggml.ggml_concat(ctx.address(), joined.address(), next.address(), 1));
        }
        return joined;
    }

    /** Attention rows of the last prompt tokens and chunked column sums, when asked for. */
    private void prefillStatistics(int l, Tensor keys, Tensor q) {
        int n = batch();
        if (windowFrom >= 0 && windowFrom < n) {
            windowRows[l] = querySlice(keys, q, windowFrom, n).name("window_" + l).output();
            g.expand(windowRows[l]);
        }
        if (columnSums) {
            int chunk = statisticsChunk();
            Tensor sum = null;
            for (int a = 0; a < n; a += chunk) {
                Tensor p = querySlice(keys, q, a, Math.min(n, a + chunk)); // [rows, c, heads]
                Tensor s = ctx.sumRows(ctx.cont(ctx.permute(p, 1, 0, 2, 3))); // [1, rows, heads]
                sum = sum == null ? s : ctx.add(sum, s);
            }
            columnSumTensors[l] = sum.name("column_sums_" + l).output();
            g.expand(columnSumTensors[l]);
        }
    }

    /** Attention probabilities of query rows [a, b) of the batch: [rows, b - a, heads]. */
    private Tensor querySlice(Tensor keys, Tensor q, int a, int b) {
        int w = b - a;
        Tensor qs = ctx.view(q, new long[] {q.ne(0), q.ne(1), w}, new long[] {q.nb(1), q.nb(2)}, a * q.nb(2));
        Tensor ms = mask == null ? null
                : ctx.view(mask, new long[] {mask.ne(0), w}, new long[] {mask.nb(1)}, a * mask.nb(1));
        return softmax(keys, ctx.permute(qs, 0, 2, 1, 3), ms);
    }
}
