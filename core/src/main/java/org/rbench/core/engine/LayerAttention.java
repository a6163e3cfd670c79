package org.rbench.core.engine;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CacheRows;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.StepPart;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * One layer's attention in a pass: writes the batch's K/V into the full cache (expanded
 * before anything reads the cache), lets the layer's plan build the rows it reads
 * ({@link AttentionPlan#attend}; this class is the {@link PlanGraph} it sees), computes the
 * attention over them, and the probabilities when a read-back, the plan's piece, the
 * diagnostics or the prefill statistics need them.
 */
final class LayerAttention implements PlanGraph {
    private final PassBuilder pass;
    private final int layer;
    private final AttentionPlan plan;
    private final GgmlContext ctx;
    private final HyperParameters hp;
    private final List<Consumer<Tensor>> probabilityUsers = new ArrayList<>();
    private final List<Consumer<Tensor>> logitUsers = new ArrayList<>();
    private Tensor cacheKeys;
    private Tensor cacheValues;
    private Tensor newKeys;
    private Tensor newValues;
    private Tensor query;
    private Tensor queryBeforeRope;
    /** Why this layer's step writes nothing into the full cache (null: it writes); reading the full cache is then refused. */
    private String noFullCacheWrite;

    LayerAttention(PassBuilder pass, int layer, AttentionPlan plan) {
        this.pass = pass;
        this.layer = layer;
        this.plan = plan;
        this.ctx = pass.ctx;
        this.hp = pass.hp;
    }

    @Override
    public boolean onGpu() {
        return !pass.res.onCpu();
    }

    /**
     * q: [headDim, heads, n] (qBeforeRope: the same before RoPE); k, v: [headDim, kvHeads, n];
     * kForPlan: the keys the plan's piece writes (k, or k rotated at the plan's position).
     * Returns [headDim * heads, n].
     */
    Tensor build(Tensor q, Tensor qBeforeRope, Tensor k, Tensor kForPlan, Tensor v) {
        Tensor keysTarget = pass.cache.keys(layer);
        Tensor valuesTarget = pass.cache.values(layer);
        if (pass.flushCount(layer) > 0) {
            // earlier steps' rows that waited in a compact cache go first (DeferredWrites)
            Tensor[] written = pass.copyPending(layer, keysTarget, valuesTarget);
            keysTarget = written[0];
            valuesTarget = written[1];
            pass.g.expand(keysTarget);
            pass.g.expand(valuesTarget);
        }
        if (DeferredWrites.defers(pass.pass, layer)) {
            // the plan keeps the new rows in its compact cache and reads nothing else (DeferredWrites)
            noFullCacheWrite = "defers its full-cache write (AttentionPlan.deferredWrite)";
        } else if (FullCacheValidity.skips(pass.pass, layer)) {
            // the plan keeps the new rows in rows of its own, and nothing reads them from the full cache
            noFullCacheWrite = "leaves its new rows out of the full cache (AttentionPlan.skipsFullCacheWrite)";
        } else {
            // Cache layout is [headDim, rows, kvHeads]: swap the token and head dims to write.
            cacheKeys = ctx.setRows(keysTarget, ctx.permute(k, 0, 2, 1, 3), pass.writeRows);
            cacheValues = ctx.setRows(valuesTarget, ctx.permute(v, 0, 2, 1, 3), pass.writeRows);
            pass.g.expand(cacheKeys);
            pass.g.expand(cacheValues);
        }
        newKeys = kForPlan;
        newValues = v;
        query = q;
        queryBeforeRope = qBeforeRope;

        AttendedRows rows = plan.attend(this);
        int n = pass.pass.batch();
        float scale = hp.attentionScale();
        Tensor qt = ctx.permute(q, 0, 2, 1, 3); // [headDim, n, heads]
        boolean wantProbs = plan.probabilities() || !probabilityUsers.isEmpty();
        // probsOut[1]: the logits flash attention wrote, where it did
        Tensor[] probsOut = new Tensor[2];
        Tensor out = attention(rows, q, qt, scale, wantProbs, !logitUsers.isEmpty(), probsOut);
        Tensor probs = probsOut[0];
        if (rows.otherwise() != null) {
            // The other read is computed now, ahead of what the piece expands at the step's end
            // (a refresh may rewrite the rows it reads), and the output taken by the device's choice:
            // 1 * x + 0 * y is x bit for bit for finite y (Choice).
            Tensor other = attention(rows.otherwise(), q, qt, scale, false, false, new Tensor[2]);
            pass.g.expand(other);
            out = ctx.add(ctx.mul(out, rows.choice().take()), ctx.mul(other, rows.choice().leave()));
        }
        if (plan.probabilities()) {
            pass.probabilities[layer] = probs.name("probs_" + layer).output();
            pass.g.expand(pass.probabilities[layer]);
        }
        for (Consumer<Tensor> use : probabilityUsers) {
            use.accept(probs);
        }
        for (Consumer<Tensor> use : logitUsers) {
            use.accept(probsOut[1]);
        }
        if (pass.pass.shadowFull()) {
            // What full attention would have given this query (diagnostics: mass recall, where the
            // answers' attention goes); computed for whole-cache plans too, whose flash attention
            // gives no probabilities.
            Tensor allKeys = rowsView(cacheKeys, 0, pass.keyRows);
            Tensor full = n == 1 ? AttentionMath.decodeSoftmax(ctx, allKeys, q, pass.mask, scale, hp.kvHeads())
                    : AttentionMath.softmax(ctx, allKeys, qt, pass.mask, scale);
            pass.fullProbabilities[layer] = full.name("full_probs_" + layer).output();
            pass.g.expand(pass.fullProbabilities[layer]);
        }
        if (pass.pass.windowFrom() >= 0 || pass.pass.columnSums() || pass.pass.windowSumsFrom() >= 0) {
            new PrefillStatisticsBuilder(pass, layer).build(rowsView(cacheKeys, 0, pass.keyRows), q);
        }
        return out;
    }

    /**
     * Flash attention, and its logits ({@code scale K^T q + mask}, {@code [rows, 1, heads]}) written into
     * {@code scores} by a second product, where {@link GgmlContext#flashAttnExtScoring}'s kernel would write
     * them ({@link EngineOptions.FlashScores#EMULATED}); the copy is expanded now, before anything reads them.
     */
    private Tensor emulatedScoring(Tensor q, Tensor qt, Tensor keys, Tensor values, Tensor mask, float scale, Tensor scores) {
        Tensor fa = ctx.flashAttnExt(qt, keys, values, mask, scale, 0f, 0f);
        long rows = keys.ne(1);
        Tensor logits = ctx.scale(AttentionMath.decodeProducts(ctx, keys, q, hp.kvHeads()), scale);
        if (mask != null) {
            if (mask.ne(2) != 1 || mask.ne(3) != 1) {
                throw new IllegalStateException("emulated flash attention scores take a mask shared by every head, not ["
                        + mask.ne(0) + ", " + mask.ne(1) + ", " + mask.ne(2) + ", " + mask.ne(3) + "]");
            }
            // flash attention's mask is F16; the one query's row of it
            Tensor row = ctx.cont(ctx.view(mask, new long[] {rows, 1}, new long[] {mask.nb(1)}, 0));
            logits = ctx.add(logits, ctx.cast(row, GgmlType.F32));
        }
        pass.g.expand(ctx.cpy(logits, scores));
        return fa;
    }

    /**
     * The attention of the query over {@code rows}: [headDim * heads, n]; its probabilities in probs[0] when asked,
     * and in probs[1] the logits flash attention wrote, when asked ({@code wantLogits}) or written for the
     * probabilities (else null).
     */
    private Tensor attention(AttendedRows rows, Tensor q, Tensor qt, float scale, boolean wantProbs, boolean wantLogits,
                             Tensor[] probs) {
        Tensor keys = rows.keys();
        Tensor values = rows.values();
        Tensor mask = rows.mask();
        int n = pass.pass.batch();
        pass.buildingAttention();
        if (pass.options.flashAttention()) {
            Tensor fk = keys;
            Tensor fv = values;
            if (pass.res.castsForFlashAttention(fk)) {
                fk = ctx.cast(fk, GgmlType.F16);
                fv = ctx.cast(fv, GgmlType.F16);
            }
            Tensor scores = null;
            Tensor fa = null;
            if ((wantProbs || wantLogits) && n == 1 && fk == keys && pass.res.flashAttentionScores()) {
                // the probabilities from the logits flash attention weighs V by, written as it reads K
                // (one read of the keys, where a second product reads them all again); a whole-cache
                // read of the batch's shape writes its part of the step's batch where a step part made one
                // (PlanGraph#flashScoreBatch)
                Tensor slot = pass.flashScoreSlot(layer, keys.ne(1), mask);
                scores = slot != null ? slot : ctx.newTensor(GgmlType.F32, keys.ne(1), 1, hp.heads()).name("fa_scores_" + layer);
                fa = pass.res.emulatedScores() ? emulatedScoring(q, qt, fk, fv, mask, scale, scores)
                        : ctx.flashAttnExtScoring(qt, fk, fv, mask, scale, scores, pass.res.backend());
                if (fa == null && slot != null) {
                    throw new IllegalStateException("layer " + layer + "'s flash attention cannot write its part of the step's"
                            + " score batch, though the step's probe said it could");
                }
            }
            boolean scored = fa != null;
            if (!scored) {
                fa = ctx.flashAttnExt(qt, fk, fv, mask, scale, 0f, 0f);
            }
            ctx.setFlashAttnPrecision(fa, GgmlContext.PREC_F32);
            Tensor out = ctx.reshape(fa, (long) hp.headDim() * hp.heads(), n);
            if (scored) {
                // the graph orders the read of the scores after the op by expansion: the output first
                pass.g.expand(out);
                probs[1] = scores;
                probs[0] = wantProbs ? ctx.softMaxExt(scores, null, 1f, 0f) : null;
            } else if (wantProbs) {
                // read back or used by the piece, never multiplied into the output: the GQA-grouped form
                probs[0] = n == 1 ? AttentionMath.decodeSoftmax(ctx, keys, q, mask, scale, hp.kvHeads())
                        : AttentionMath.softmax(ctx, keys, qt, mask, scale);
            }
            return out;
        }
        Tensor p = AttentionMath.softmax(ctx, keys, qt, mask, scale);
        probs[0] = p;
        Tensor vt = ctx.cont(ctx.transpose(values)); // [rows, headDim, kvHeads]
        Tensor kqv = ctx.mulMat(vt, p); // [headDim, n, heads]
        return ctx.reshape(ctx.cont(ctx.permute(kqv, 0, 2, 1, 3)), (long) hp.headDim() * hp.heads(), n);
    }

    // ---- PlanGraph ----

    @Override
    public GgmlContext ctx() {
        return ctx;
    }

    @Override
    public HyperParameters model() {
        return hp;
    }

    @Override
    public int layer() {
        return layer;
    }

    @Override
    public int tokens() {
        return pass.pass.batch();
    }

    @Override
    public int position() {
        return pass.pass.start();
    }

    @Override
    public Tensor cacheKeys() {
        return requireBuilt(requireWritten(cacheKeys));
    }

    @Override
    public Tensor cacheValues() {
        return requireBuilt(requireWritten(cacheValues));
    }

    @Override
    public java.util.OptionalInt topKColumnOrderFrom() {
        return pass.res.backend().topKColumnOrderFrom();
    }

    @Override
    public java.util.OptionalInt stableArgsortFrom() {
        return pass.res.backend().stableArgsortFrom();
    }

    @Override
    public Tensor cacheKeysOfEveryLayer() {
        return requireWritten(pass.cache.keysOfEveryLayer());
    }

    @Override
    public Tensor cacheValuesOfEveryLayer() {
        return requireWritten(pass.cache.valuesOfEveryLayer());
    }

    private Tensor requireWritten(Tensor t) {
        if (noFullCacheWrite != null) {
            throw new IllegalStateException("layer " + layer + "'s plan " + noFullCacheWrite + ", so it cannot read the full cache");
        }
        return t;
    }

    @Override
    public int keyRows() {
        return pass.keyRows;
    }

    @Override
    public Tensor causalMask() {
        return pass.mask;
    }

    @Override
    public int causalMaskTail() {
        // a decode step at position p masks rows p + 1 .. keyRows - 1, and keyRows pads p + 1 to the next
        // multiple of the padding (or the cache's end): fewer than one padding block, whichever p reuses the graph
        return tokens() == 1 ? Math.min(pass.keyRows, pass.options.kvPadding()) : pass.keyRows;
    }

    @Override
    public Tensor flashScoreBatch(AttendedRows read) {
        return pass.flashScoreBatch(read);
    }

    @Override
    public Tensor newKeys() {
        return requireBuilt(newKeys);
    }

    @Override
    public Tensor newValues() {
        return requireBuilt(newValues);
    }

    @Override
    public Tensor query() {
        return requireBuilt(query);
    }

    @Override
    public Tensor queryBeforeRope() {
        return requireBuilt(queryBeforeRope);
    }

    private static Tensor requireBuilt(Tensor t) {
        if (t == null) {
            throw new IllegalStateException("the layer's K/V exist once attend is called, not at ropePosition");
        }
        return t;
    }

    @Override
    public Tensor rowsView(Tensor cache, int from, int to) {
        return CacheRows.range(ctx, cache, from, to);
    }

    @Override
    public int paddedRows(int rows, int limit) {
        int pad = pass.options.kvPadding();
        long padded = ((long) rows + pad - 1) / pad * pad;
        return (int) Math.max(rows, Math.min(limit, padded));
    }

    @Override
    public Tensor paddingMask(int rows, int padded) {
        return pass.paddingMask(rows, padded);
    }

    @Override
    public void expand(Tensor t) {
        pass.g.expand(t);
    }

    @Override
    public AttentionPlan plan(int l) {
        return pass.pass.plans()[l];
    }

    @Override
    public int fromLayer() {
        return pass.pass.fromLayer();
    }

    @Override
    public int toLayer() {
        return pass.pass.toLayer();
    }

    @Override
    @SuppressWarnings("unchecked")
    public <P extends AttentionPlan> Tensor input(String name, GgmlType type, InputFill<P> fill, long... ne) {
        PassGraph.Bound bound = pass.bound;
        int l = layer;
        return pass.g.input(name, type, t -> fill.fill(t, (P) bound.plan(l), bound.pass().start()), ne);
    }

    @Override
    public <P extends AttentionPlan> Tensor layerIndex(String name, ToIntFunction<P> value, ToIntFunction<P> bound) {
        return pass.layerIndex(name, layer, value, bound);
    }

    @Override
    public <P extends AttentionPlan> Tensor layerIndices(String name, int width, Function<P, int[]> values,
                                                         ToIntFunction<P> bound) {
        return pass.layerIndices(name, width, layer, values, bound);
    }

    @Override
    public Tensor layerIndicesOfEveryLayer(String name) {
        return pass.layerIndicesOfEveryLayer(name);
    }

    @Override
    public Tensor stepInput(String name, GgmlType type, StepFill fill, long... ne) {
        return pass.stepInput(name, type, fill, ne);
    }

    @Override
    public <T extends StepPart> T stepPart(Class<T> kind, Function<PlanGraph, T> create) {
        return pass.stepPart(kind, () -> create.apply(this));
    }

    @Override
    public void onProbabilities(Consumer<Tensor> use) {
        probabilityUsers.add(use);
    }

    @Override
    public void onLogits(Consumer<Tensor> use) {
        logitUsers.add(use);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <P extends AttentionPlan> void afterCompute(AfterCompute<P> read) {
        int l = layer;
        pass.afterCompute.add(p -> read.read((P) p.plans()[l], p.start()));
    }

    @Override
    public Tensor rope(Tensor t, Tensor positions) {
        return pass.weights.rope(ctx, t, positions);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <P extends AttentionPlan> void whenLaunched(AfterCompute<P> note) {
        int l = layer;
        pass.whenLaunched.add(p -> note.read((P) p.plans()[l], p.start()));
    }
}
