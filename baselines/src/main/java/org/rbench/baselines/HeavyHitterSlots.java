package org.rbench.baselines;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.ReusableState;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * H2O's state kept on the device, so that a decode step makes its decisions without a host
 * round trip (on a GPU, reading every layer's probabilities back and uploading every
 * layer's row indices cost more than the attention itself). Per layer and KV head there are
 * {@code budget + 1} slots, each holding a cache position, that position's K and V (in a
 * {@link CompactCache}, row = slot) and the attention it has accumulated; one slot is free,
 * the next token's: the one the last step evicted. A step (see
 * {@link Plan}) writes its token's position, K and V into the free slot
 * with a zero score, attends to every slot, adds its probabilities (summed, or averaged, over
 * each KV head's query heads), then frees the lowest-scored slot among those older than the
 * {@code recent} newest positions: the eviction of {@code HeavyHitterCache}, with ties broken
 * by ggml's argmax instead of by position (the first slot on the CPU; on CUDA any of the tied
 * slots, which only exact ties, e.g. scores still zero, can tell apart). Attention reads the compact cache as it is: no
 * gather of the kept rows out of the full cache per step.
 *
 * <p>The compact caches hold whole blocks of {@link #ROW_BLOCK} rows and a step reads its
 * slots as a full read of as many rows is read ({@link PlanGraph#leadingRows}: padded, the
 * rows past the slots masked). A read of {@code budget + 1} rows with no mask is what CUDA's
 * flash attention cannot give its vector kernel nor its GQA grouping (both need a mask and
 * a row count that is a multiple of 256): it then runs its tensor-core kernel once per query
 * head, which is where H2O's device form spent its time on an H200.
 *
 * <p>Positions are kept as F32 (exact below 2^24) so the graph can compare them with the
 * step's threshold. Shapes: positions and scores {@code [1, slots, kvHeads x layers]} (one-element
 * rows, so that set_rows writes one entry per KV head and layer), the free slots I32 {@code [1,
 * kvHeads x layers]}; a layer's are views of its part. Every layer of a step adds its
 * probabilities into its part of one {@code [1, slots, kvHeads x layers]} buffer (or, where flash
 * attention writes its logits, into one batch that the {@link Eviction} normalises and sums for all
 * layers at once); the decisions
 * (the new tokens' positions and zero scores, the accumulation, the eviction) are then made for
 * all layers at once after the last ({@link Eviction}): 10 nodes a step where a layer's own took
 * 10 a layer. A layer's decision depends on its own probabilities alone, so this is the same
 * arithmetic in the same order.
 *
 * <p>The next decode of an equal H2O on the engine takes the state over ({@link ReusableState},
 * {@link #allocate(AttentionContext, int, int, GqaAggregation)}): its start loads every layer's
 * slots whole ({@link #load}) and copies their rows in; the free slot's row is written before it
 * is read, the rows past the slots are masked, and a step's sums are written before they are added.
 */
public final class HeavyHitterSlots extends ReusableState {
    /** Compact caches hold a multiple of this many rows: llama.cpp's KV padding, CUDA flash attention's KQ stride. */
    public static final int ROW_BLOCK = 256;

    private final GgmlContext context;
    private final BackendBuffer buffer;
    /** F32 {@code [1, 1, kvHeads x layers]} zeros: the score a slot's new token starts from. */
    private final Tensor zeroScores;
    /** Every layer's, F32 {@code [1, slots, kvHeads x layers]} and I32 {@code [1, kvHeads x layers]}. */
    private final Tensor allPositions;
    private final Tensor allScores;
    private final Tensor allFreeSlots;
    /** A step's probabilities summed over each KV head's query heads, per layer: F32 {@code [1, slots, kvHeads x layers]}. */
    private final Tensor stepSums;
    /** Per layer, views of its part of the above. */
    private final Tensor[] positions;
    private final Tensor[] scores;
    private final Tensor[] freeSlot;
    private final Tensor[] stepSum;
    private final CompactCache[] kv;
    private final int budget;
    private final int recent;
    private final int kvHeads;
    private final GqaAggregation aggregation;
    private final int cacheRows;

    HeavyHitterSlots(Backend backend, CompactCache[] kv, int kvHeads, int budget, int recent, GqaAggregation aggregation,
                     int cacheRows) {
        int layers = kv.length;
        if (budget <= 0 || recent < 0 || recent > budget) {
            throw new IllegalArgumentException("device H2O needs 0 <= recent <= budget, got recent " + recent
                    + " of " + budget);
        }
        if (aggregation != GqaAggregation.SUM && aggregation != GqaAggregation.MEAN) {
            throw new IllegalArgumentException("device H2O sums or averages a KV head's query heads, not " + aggregation);
        }
        if (cacheRows >= 1 << 24) {
            throw new IllegalArgumentException("positions are kept as F32: a cache of " + cacheRows + " rows is too long");
        }
        this.budget = budget;
        this.recent = recent;
        this.kvHeads = kvHeads;
        this.aggregation = aggregation;
        this.cacheRows = cacheRows;
        for (CompactCache c : kv) {
            if (c.capacity() < budget + 1) {
                throw new IllegalArgumentException("H2O's compact caches hold at least budget + 1 = " + (budget + 1)
                        + " rows, got " + c.capacity());
            }
        }
        this.kv = kv.clone();
        positions = new Tensor[layers];
        scores = new Tensor[layers];
        freeSlot = new Tensor[layers];
        stepSum = new Tensor[layers];
        context = GgmlContext.forMetadata(4 * layers + 5, 0);
        long rows = (long) kvHeads * layers;
        // a new token's score before it is attended: zeros (the buffer is cleared below)
        zeroScores = context.newTensor(GgmlType.F32, 1, 1, rows).name("h2o_zero_scores");
        allPositions = context.newTensor(GgmlType.F32, 1, slots(), rows).name("h2o_positions");
        allScores = context.newTensor(GgmlType.F32, 1, slots(), rows).name("h2o_scores");
        allFreeSlots = context.newTensor(GgmlType.I32, 1, rows).name("h2o_free_slots");
        stepSums = context.newTensor(GgmlType.F32, 1, slots(), rows).name("h2o_step_sums");
        buffer = BackendBuffer.allocate(context, backend);
        buffer.clear(0);
        long perLayer = (long) slots() * kvHeads * Float.BYTES;
        for (int l = 0; l < layers; l++) {
            positions[l] = layerPart(allPositions, l, perLayer).name("h2o_positions_" + l);
            scores[l] = layerPart(allScores, l, perLayer).name("h2o_scores_" + l);
            stepSum[l] = layerPart(stepSums, l, perLayer).name("h2o_step_sum_" + l);
            freeSlot[l] = context.view(allFreeSlots, new long[] {1, kvHeads}, new long[] {allFreeSlots.nb(1)},
                    (long) l * kvHeads * Integer.BYTES).name("h2o_free_slot_" + l);
        }
    }

    /** Layer l's {@code [1, slots, kvHeads]} of an all-layers {@code [1, slots, kvHeads x layers]} tensor. */
    private Tensor layerPart(Tensor all, int layer, long perLayer) {
        return context.view(all, new long[] {1, slots(), kvHeads}, new long[] {all.nb(1), all.nb(2)}, layer * perLayer);
    }

    /**
     * The state of every layer, owning {@code kv} (one compact cache of at least
     * {@code budget + 1} rows per layer, the slots its first rows; closed with it).
     */
    public static HeavyHitterSlots allocate(Backend backend, CompactCache[] kv, int kvHeads, int budget, int recent,
                                            GqaAggregation aggregation, int cacheRows) {
        return new HeavyHitterSlots(backend, kv, kvHeads, budget, recent, aggregation, cacheRows);
    }

    /**
     * The state of every layer of the context's model, its compact caches from the context:
     * {@code budget + 1} rows rounded up to whole {@link #ROW_BLOCK}s. One that an equal H2O's
     * decode handed back to the context is taken over (its contents are the caller's to load).
     */
    public static HeavyHitterSlots allocate(AttentionContext context, int budget, int recent, GqaAggregation aggregation) {
        return context.reuse(List.of(HeavyHitterSlots.class, budget, recent, aggregation, context.cacheCapacity()),
                HeavyHitterSlots.class, () -> allocateNew(context, budget, recent, aggregation));
    }

    private static HeavyHitterSlots allocateNew(AttentionContext context, int budget, int recent, GqaAggregation aggregation) {
        int layers = context.hyperParameters().layers();
        CompactCache[] kv = new CompactCache[layers];
        try {
            for (int l = 0; l < layers; l++) {
                kv[l] = context.newCompactCache(cacheRowsFor(budget));
            }
            return allocate(context.backend(), kv, context.hyperParameters().kvHeads(), budget, recent, aggregation,
                    context.cacheCapacity());
        } catch (RuntimeException e) {
            for (CompactCache c : kv) {
                if (c != null) {
                    c.close();
                }
            }
            throw e;
        }
    }

    /**
     * A layer's state after the prefill: each KV head's {@code budget} kept positions and
     * their scores (e.g. from {@code HeavyHitterCache}); the last slot is the free one. The
     * kept rows' K and V still have to be copied into {@link #cache} rows [0, budget)
     * ({@link AttentionContext#copyRows}, in the same order).
     */
    public void load(int layer, int[][] keptPositions, float[][] keptScores) {
        float[] p = new float[slots() * kvHeads];
        float[] s = new float[slots() * kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            if (keptPositions[h].length != budget || keptScores[h].length != budget) {
                throw new IllegalArgumentException("KV head " + h + " keeps " + keptPositions[h].length + " positions and "
                        + keptScores[h].length + " scores; device H2O starts from a full budget of " + budget);
            }
            for (int i = 0; i < budget; i++) {
                int position = keptPositions[h][i];
                if (position < 0 || position >= cacheRows) {
                    throw new IndexOutOfBoundsException("position " + position + " is outside the cache of " + cacheRows);
                }
                p[h * slots() + i] = position;
                s[h * slots() + i] = keptScores[h][i];
            }
        }
        positions[layer].setFloats(p);
        scores[layer].setFloats(s);
        int[] free = new int[kvHeads];
        Arrays.fill(free, budget);
        freeSlot[layer].setInts(free);
    }

    /** The positions KV head h of a layer keeps now, ascending (read back; diagnostics and tests). */
    public int[] kept(int layer, int h) {
        return state(layer).kept(h);
    }

    /** A layer's slots as they are now, read back once (diagnostics and tests). */
    public LayerState state(int layer) {
        return new LayerState(positions[layer].getFloats(), scores[layer].getFloats(), freeSlot[layer].getInts(), slots());
    }

    /**
     * A layer's slots read back: per KV head {@code slots} positions and scores, and the free slot.
     * What it keeps is every slot but the free one, in position order.
     */
    public record LayerState(float[] positions, float[] scores, int[] free, int slots) {
        /** The positions KV head h keeps, ascending. */
        public int[] kept(int h) {
            int[] order = keptSlots(h);
            int[] out = new int[order.length];
            for (int i = 0; i < order.length; i++) {
                out[i] = (int) positions[h * slots + order[i]];
            }
            return out;
        }

        /** The accumulated score of each position {@link #kept} gives, in its order. */
        public float[] keptScores(int h) {
            int[] order = keptSlots(h);
            float[] out = new float[order.length];
            for (int i = 0; i < order.length; i++) {
                out[i] = scores[h * slots + order[i]];
            }
            return out;
        }

        /** KV head h's slots but the free one, by position (positions are exact in F32: below 2^24). */
        private int[] keptSlots(int h) {
            long[] byPosition = new long[slots - 1];
            int j = 0;
            for (int i = 0; i < slots; i++) {
                if (i != free[h]) {
                    byPosition[j++] = ((long) positions[h * slots + i] << 32) | i;
                }
            }
            Arrays.sort(byPosition);
            int[] out = new int[byPosition.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (int) byPosition[i];
            }
            return out;
        }
    }

    /** Rows of a compact cache holding {@code budget + 1} slots: whole {@link #ROW_BLOCK}s. */
    public static int cacheRowsFor(int budget) {
        return (budget + 1 + ROW_BLOCK - 1) / ROW_BLOCK * ROW_BLOCK;
    }

    /** The position in every slot of KV head h (the rows a step attended, once it has run). */
    public int[] slotPositions(int layer, int h) {
        float[] p = positions[layer].getFloats();
        int[] out = new int[slots()];
        for (int i = 0; i < slots(); i++) {
            out[i] = (int) p[h * slots() + i];
        }
        return out;
    }

    public int layers() {
        return positions.length;
    }

    public int slots() {
        return budget + 1;
    }

    public int budget() {
        return budget;
    }

    public int recent() {
        return recent;
    }

    public int kvHeads() {
        return kvHeads;
    }

    public GqaAggregation aggregation() {
        return aggregation;
    }

    public int cacheRows() {
        return cacheRows;
    }

    public Tensor positions(int layer) {
        return positions[layer];
    }

    public Tensor scores(int layer) {
        return scores[layer];
    }

    public Tensor freeSlot(int layer) {
        return freeSlot[layer];
    }

    /** Layer l's part of the step's summed probabilities (written by its plan, read by the step's {@link Eviction}). */
    Tensor stepSum(int layer) {
        return stepSum[layer];
    }

    /** The layer's K and V by slot. */
    public CompactCache cache(int layer) {
        return kv[layer];
    }

    /** The plan of one layer of a step: attend the layer's slots, decide in the step's graph. */
    public Plan plan(int layer) {
        return new Plan(this, layer, false, false);
    }

    /**
     * One layer of a step under H2O's device decisions: write the new token's position, K and V
     * into the slot the last step freed (with a zero score), attend every slot, add the step's
     * probabilities (summed, or averaged, over each KV head's query heads) to the slots' scores,
     * and free the lowest-scored slot not among the {@code recent} newest positions (those get
     * 1e30 added before the arg-min). No read-back, no upload but the step's position.
     */
    public record Plan(HeavyHitterSlots state, int layer, boolean probabilities, boolean query) implements AttentionPlan {
        public Plan {
            java.util.Objects.requireNonNull(state, "state");
            if (layer < 0 || layer >= state.layers()) {
                throw new IllegalArgumentException("layer " + layer + " outside the state's " + state.layers());
            }
        }

        @Override
        public Plan withProbabilities() {
            return new Plan(state, layer, true, query);
        }

        @Override
        public Plan withQuery() {
            return new Plan(state, layer, probabilities, true);
        }

        /** Every slot, the new token's included. */
        @Override
        public int rows(int position) {
            return state.slots();
        }

        /**
         * The new token's K/V go into the slot the last step freed, from the step's own rows, and no step of the
         * decode reads the full cache (the slots were filled from it at the start): its write would be a set_rows
         * a layer, K and V, that nothing reads.
         */
        @Override
        public boolean skipsFullCacheWrite() {
            return true;
        }

        @Override
        public void check(PlanCheck at) {
            if (layer != at.layer() || state.kvHeads() != at.model().kvHeads() || state.cacheRows() > at.cacheCapacity()) {
                throw at.fail("an H2O state for layer " + layer + ", " + state.kvHeads() + " KV heads and a cache of "
                        + state.cacheRows() + " rows");
            }
            at.requireHeadShape(state.cache(layer), "H2O's slot cache");
        }

        @Override
        public Object shape(int position) {
            return List.of(state, layer); // the state by identity: its tensors are the graph's
        }

        @Override
        public int[] attendedPositions(int kvHead, int position) {
            return state.slotPositions(layer, kvHead);
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            if (g.tokens() != 1) {
                throw new IllegalStateException("H2O's device decisions are made in decode steps (one token), not in a batch of "
                        + g.tokens());
            }
            GgmlContext ctx = g.ctx();
            // the new token's K/V into the slot the last step freed, one row per KV head
            Tensor free = state.freeSlot(layer);
            CompactCache slots = state.cache(layer);
            Tensor k = ctx.setRows(slots.keys(), ctx.permute(g.newKeys(), 0, 2, 1, 3), free);
            Tensor v = ctx.setRows(slots.values(), ctx.permute(g.newValues(), 0, 2, 1, 3), free);
            g.expand(k);
            g.expand(v);
            // padded and masked as a full read: see the class comment
            AttendedRows read = g.leadingRows(k, v, state.slots());
            // the step's decisions, every layer's at once after the last (made by the first layer asking)
            Eviction eviction = g.stepPart(Eviction.class, pg -> new Eviction(state, pg, read));
            eviction.attended(layer);
            // with the step's batch of flash attention's logits, the sums are the eviction's to make, for every layer at once
            g.onProbabilities(probs -> {
                if (!eviction.fromScoreBatch()) {
                    g.expand(ctx.into(groupSums(ctx, probs, state, g.model().heads(), g.model().kvHeads()), state.stepSum(layer)));
                }
            });
            return read;
        }
    }

    /**
     * Each slot's probability aggregated over its KV head's query heads, {@code [slots, columns / group]}: from
     * probabilities {@code [read rows, 1, columns]}, column c reading KV head c / group (one layer's query heads, or
     * several layers' side by side); the slots are the first rows (the rest is padding, probability 0). The group's
     * heads are added one after another in F32, as {@link GqaAggregation#aggregate} adds them on the host: a
     * sum_rows over rows of the group's few values (after a permute) took a block a row on CUDA, over a million
     * rows at Llama-3.1-8B's shapes (0.65 ms a step on an H100), and summed in another order.
     */
    static Tensor groupSums(GgmlContext ctx, Tensor probs, HeavyHitterSlots state, int heads, int kvHeads) {
        int slots = state.slots();
        int group = heads / kvHeads;
        long columns = probs.ne(2);
        long head = probs.nb(2);
        Tensor sums = null;
        for (int h = 0; h < group; h++) {
            // query head h of every KV head's group: [slots, columns / group]
            Tensor part = ctx.view(probs, new long[] {slots, columns / group}, new long[] {head * group}, h * head);
            sums = sums == null ? part : ctx.add(sums, part);
        }
        // a group of one is a view of the probabilities: copied, so that the result is an op a caller can compute
        // into the state (GgmlContext#into), as the adds are
        sums = group == 1 ? ctx.cont(sums) : sums;
        return state.aggregation() == GqaAggregation.MEAN ? ctx.scale(sums, 1f / group) : sums;
    }

    /**
     * Every layer's decisions of a step, made once after the last layer has attended: the new
     * token's position and zero score into each layer's free slot (they were not read before),
     * the step's sums added to the scores, and the slot to free next, per KV head and layer, the
     * lowest-scored one older than the recent window. Positions [1, slots, kvHeads x layers] are
     * written with one set_rows, one entry per row of the free slots. Runs after every layer's
     * K/V write read its free slot: the free slots' overwrite is the last of the step's attention nodes.
     */
    static final class Eviction implements org.rbench.core.attention.StepPart {
        private final HeavyHitterSlots state;
        private final Tensor position;
        private final Tensor threshold;
        private final java.util.BitSet attended = new java.util.BitSet();
        /**
         * Every layer's logits of its slots, where flash attention writes them ({@link PlanGraph#flashScoreBatch}):
         * normalised and summed per KV head here, once for all layers, where each layer would run three ops of its
         * own; null when each layer sums its own probabilities.
         */
        private final Tensor scoreBatch;
        private final int heads;
        private final int kvHeads;

        /** @param read the first layer's read of its slots, the shape of every layer's */
        Eviction(HeavyHitterSlots state, PlanGraph g, AttendedRows read) {
            this.state = state;
            this.heads = g.model().heads();
            this.kvHeads = g.model().kvHeads();
            // every layer of the graph is H2O's (finish checks it), so every layer writes its part
            this.scoreBatch = g.fromLayer() == 0 && g.toLayer() == state.layers() ? g.flashScoreBatch(read) : null;
            int rows = state.kvHeads() * state.layers();
            int recent = state.recent();
            this.position = g.stepInput("h2o_position", GgmlType.F32, (t, p) -> t.setFloats(filled(p, rows)), 1, 1, rows);
            this.threshold = g.stepInput("h2o_threshold", GgmlType.F32, (t, p) -> t.setFloats(filled(p - recent, rows)),
                    1, 1, rows);
        }

        void attended(int layer) {
            attended.set(layer);
        }

        boolean fromScoreBatch() {
            return scoreBatch != null;
        }

        @Override
        public void finish(PlanGraph.Finishing graph) {
            if (attended.cardinality() != state.layers()) {
                // the decisions cover every layer's state: one that did not attend would get last step's sums again
                throw new IllegalStateException("H2O's device decisions need every layer in the step's graph, got "
                        + attended.cardinality() + " of " + state.layers());
            }
            GgmlContext ctx = graph.ctx();
            int rows = state.kvHeads() * state.layers();
            if (scoreBatch != null) {
                // every layer's softmax and group sums in one op each: the same floats as each layer's, layer after layer
                Tensor probs = org.rbench.core.engine.AttentionMath.scoreBatchSoftmax(ctx, scoreBatch);
                graph.expand(ctx.into(groupSums(ctx, probs, state, heads, kvHeads), state.stepSums));
            }
            Tensor free = state.allFreeSlots;
            Tensor positions = ctx.setRows(state.allPositions, position, free);
            Tensor zeroed = ctx.setRows(state.allScores, state.zeroScores, free);
            Tensor accumulated = ctx.add(zeroed, state.stepSums);
            graph.expand(ctx.cpy(accumulated, state.allScores));
            Tensor recent = ctx.step(ctx.sub(positions, threshold)); // 1: among the recent newest
            // the lowest score is the highest of -(score + 1e30 x recent), made in one subtraction
            Tensor negatedEvictable = ctx.sub(ctx.scale(recent, -1e30f), accumulated);
            Tensor lowest = ctx.argmax(ctx.reshape(negatedEvictable, state.slots(), rows)); // I32 [kvHeads x layers]
            // Overwrites the free slots the layers' set_rows and this part's read: the positions' and
            // scores' writes precede it through the data (lowest depends on them), the layers' K/V
            // writes and their sums into the step's buffer through the node order (expanded first;
            // backends run nodes in order).
            graph.expand(ctx.cpy(lowest, free));
        }

        private static float[] filled(int value, int n) {
            float[] out = new float[n];
            Arrays.fill(out, value);
            return out;
        }
    }

    @Override
    protected void free() {
        for (CompactCache c : kv) {
            c.close();
        }
        buffer.close();
        context.close();
    }
}
