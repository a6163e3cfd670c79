package org.rbench.core.recycled;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CacheRows;
import org.rbench.core.attention.Choice;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.FullPlan;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.StepPart;
import org.rbench.core.engine.AttentionMath;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * A full step that refreshes Recycled Attention's Cp: attend every cached row, and select
 * the top rows of this step's attention per KV head on the device ({@link TopRows}: the
 * group aggregated, max-pooled over its window): k + window candidates per KV head, by
 * ggml_top_k ({@link TopRowsSelection#candidates}; on CUDA the suite's radix select).
 *
 * <p>With a {@link DeviceCp} (and at most {@link TopRowsSelection#MOST_ORDERED_ON_DEVICE}
 * candidates) the refresh stays on the device: the candidates' ties are put in position order
 * there ({@link TopRowsSelection#slots}) and Cp's rows are copied from the cache into the
 * layer's compact cache in the step graph. Past K rows every slot is by score and the host reads
 * nothing back (the device Cp is told at the step's launch); where Cp covers the context
 * ({@link RecycledCache#coversContext}) the host reads the count of rows in position order and
 * their positions by score after the compute. Otherwise the
 * candidates and their scores cross to the host (k + window per KV head, where the
 * probabilities would be heads x context floats), whose ties are ordered there, and go to
 * {@link #sink} after the step's compute, highest score first, ties in position order.
 *
 * <p>Every refreshing layer of a step adds its scores to one batch, selected once
 * ({@link TopRowsSelection.Batch}).
 */
public record RefreshPlan(TopRows request, Sink sink, DeviceCp cp, boolean probabilities, boolean query) implements AttentionPlan {

    /** Receives a layer's selection: {@code [kvHeads][min(k, validRows)]} cache positions, of {@code validRows} rows. */
    public interface Sink {
        void selected(int layer, int[][] rows, int validRows);
    }

    /** Cp kept on the device: each layer's compact cache, filled in the step graph. */
    public interface DeviceCp {
        /** Every layer's compact cache, by layer (graphs are keyed by them, by identity). */
        List<CompactCache> caches();

        /**
         * Layer {@code layer}'s Cp holds {@code n} rows per KV head in the compact cache once the step
         * has computed (told when it is launched where nothing is read back, else after its compute), in
         * {@link RecycledCache#refreshSelected}'s slot order, and the cache's {@link
         * CompactCache#positions} say which: a read of them waits for the step. {@code positionOrdered[h]}
         * is KV head h's selection by score where its slots are in position order, else null.
         */
        void refreshed(int layer, int n, int[][] positionOrdered);

        /**
         * Whether the refresh copies Cp's rows into the compact caches (true) or writes only their positions
         * ({@link #positions}), the steps reading the rows where the full cache holds them ({@link InPlaceCpPlan}).
         */
        default boolean copiesRows() {
            return true;
        }

        /** Layer {@code layer}'s slot positions, I32 {@code [slots, kvHeads]}: its compact cache's, by default. */
        default Tensor positions(int layer) {
            return caches().get(layer).positions();
        }

        /**
         * Every layer's slot positions as one tensor, I32 {@code [slots, kvHeads, layers]} whose slice l is {@link
         * #positions}(l), or null (the default: each layer's lie apart). A refresh of every layer then writes them
         * with one copy, where it took a copy a layer.
         */
        default Tensor positionsOfEveryLayer() {
            return null;
        }

        /**
         * The compact caches as one stack ({@link CompactCache.Stack}: {@link #caches} are its layers, in order), or
         * null (the default): a refresh of every layer then gathers each kind's rows with one op.
         */
        default CompactCache.Stack stack() {
            return null;
        }

        /** What the refresh's graph writes, by identity (its graphs are keyed by it): the compact caches, by default. */
        default Object written() {
            return caches();
        }
    }

    public RefreshPlan {
        java.util.Objects.requireNonNull(request, "request");
        java.util.Objects.requireNonNull(sink, "sink");
    }

    /** A refresh whose selection crosses to the host, to {@code sink}. */
    public RefreshPlan(TopRows request, Sink sink) {
        this(request, sink, null, false, false);
    }

    /** A refresh that stays on the device where it can ({@code cp}), else goes to {@code sink}. */
    public RefreshPlan(TopRows request, Sink sink, DeviceCp cp) {
        this(request, sink, cp, false, false);
    }

    @Override
    public RefreshPlan withProbabilities() {
        return new RefreshPlan(request, sink, cp, true, query);
    }

    @Override
    public RefreshPlan withQuery() {
        return new RefreshPlan(request, sink, cp, probabilities, true);
    }

    @Override
    public int rows(int position) {
        return position + 1;
    }

    @Override
    public boolean readsWholeCache() {
        return true;
    }

    /** Scores, the batch's slot, Cp's copy (gathers, writes, positions) and a share of the selection. */
    @Override
    public int extraTensors() {
        return 32;
    }

    @Override
    public Object shape(int position) {
        // The candidate count follows the rows that exist until it reaches k + window; the sink is read per step.
        // A device Cp's graph writes its compact caches, so it is keyed by them.
        int valid = position + 1;
        Object candidates = valid >= request.k() + request.window() ? -1 : valid;
        return cp == null ? List.of(request, candidates) : List.of(request, candidates, cp.written(), cp.copiesRows());
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        return attend(g, null);
    }

    /**
     * The full read and the layer's share of the step's selection; with {@code fullStep} (a
     * {@link SimilarityCheckPlan}'s device choice) Cp's rows are written only where it takes
     * the full step.
     */
    AttendedRows attend(PlanGraph g, Choice fullStep) {
        if (g.tokens() != 1) {
            throw new IllegalStateException("top rows are selected in decode steps (one token), not in a batch of " + g.tokens());
        }
        Selection selection = g.stepPart(Selection.class, Selection::of);
        int layer = g.layer();
        Tensor keys = g.cacheKeys();
        Tensor values = g.cacheValues();
        // the padding's mask is added once to the whole batch (Selection#finish), and the window pooled
        // there too when every layer's is the same
        selection.maskWith(g.causalMask());
        // with flash attention's score batch, the probabilities are not this layer's to add: the batch's are
        // normalised and aggregated once, for every layer (Selection#finish)
        g.onProbabilities(probs -> selection.add(layer, selection.fromScoreBatch() ? null : selection.batchWindow() != null
                        ? TopRowsSelection.aggregated(g.ctx(), probs, request, g.model().heads(), g.model().kvHeads())
                        : TopRowsSelection.scores(g.ctx(), probs, null, request, g.model().heads(), g.model().kvHeads()),
                keys, values, fullStep));
        return FullPlan.readWholeCache(g);
    }

    /**
     * Cp's rows per KV head when this refresh, selecting {@code candidates} per KV head of
     * {@code validRows} rows, stays on the device; 0 when it goes to the host (no device Cp, or
     * more candidates than the device orders).
     */
    private int onDevice(int candidates, int validRows) {
        return cp != null && candidates <= TopRowsSelection.MOST_ORDERED_ON_DEVICE ? Math.min(request.k(), validRows) : 0;
    }

    /**
     * Cp's first selection, from the prefill's last token: that token's queries after RoPE
     * ({@code queries[layer]}, {@code heads x headDim}, as the prefill attended with them) against
     * the cache's first {@code rows} rows, scored and selected in a graph of its own exactly as a
     * refresh step selects, every layer refreshing; the selection goes where a refresh's goes (the
     * device Cp, or the sink). The probabilities stay on the device: read back, a long context's
     * are heads x rows floats a layer (537 MB for all 32 layers of Llama-3.1-8B at 131K), and
     * their selection on the host took longer than the decode it prepares.
     */
    void selectFromQueries(AttentionContext context, float[][] queries, int rows) {
        HyperParameters hp = context.hyperParameters();
        int layers = hp.layers();
        long queryLength = (long) hp.headDim() * hp.heads();
        if (queries.length != layers) {
            throw new IllegalArgumentException(queries.length + " layers' queries for a model of " + layers);
        }
        if (rows < 1 || rows > context.position()) {
            throw new IllegalArgumentException("Cp selects from 1 to " + context.position() + " cached rows, not " + rows);
        }
        int candidates = request.candidates(rows);
        int onDevice = onDevice(candidates, rows);
        // ordered as a refresh step orders them (Selection#of), with the sorts and top_k the backend allows
        TopRowsSelection.TieOrder tieOrder = Selection.tieOrder(context.backend().stableArgsortFrom(),
                context.backend().topKColumnOrderFrom(), rows, candidates, onDevice);
        try (GgmlContext holder = GgmlContext.forMetadata(1, 0)) {
            Tensor q = holder.newTensor(GgmlType.F32, queryLength, layers).name("start_queries");
            try (BackendBuffer buffer = BackendBuffer.allocate(holder, context.backend())) {
                float[] all = new float[Math.toIntExact(queryLength * layers)];
                for (int l = 0; l < layers; l++) {
                    if (queries[l].length != queryLength) {
                        throw new IllegalArgumentException("layer " + l + "'s query holds " + queries[l].length + " values, not "
                                + queryLength);
                    }
                    System.arraycopy(queries[l], 0, all, (int) (l * queryLength), (int) queryLength);
                }
                q.setFloats(all);
                Selection[] built = new Selection[1];
                context.computeOverCache((ctx, keys, values, expand) -> {
                    Selection selection = new Selection(ctx, expand, rows, rows, hp.kvHeads(), layers, candidates, onDevice,
                            tieOrder, onDevice > 0 ? cp : null);
                    selection.window = request; // every layer's the same: pooled once over the batch
                    if (onDevice > 0) {
                        selection.fullCache = context.cacheOfEveryLayer();
                    }
                    for (int l = 0; l < layers; l++) {
                        Tensor query = ctx.view(q, new long[] {queryLength}, new long[0], l * q.nb(1));
                        Tensor probs = AttentionMath.decodeSoftmax(ctx, CacheRows.range(ctx, keys.apply(l), 0, rows), query, null,
                                hp.attentionScale(), hp.kvHeads());
                        selection.add(l, TopRowsSelection.aggregated(ctx, probs, request, hp.heads(), hp.kvHeads()),
                                keys.apply(l), values.apply(l), null);
                    }
                    selection.finish(PlanGraph.Finishing.of(ctx, expand));
                    built[0] = selection;
                }, 48 * layers + 64, () -> {
                    AttentionPlan[] plans = new AttentionPlan[layers];
                    java.util.Arrays.fill(plans, this);
                    // the step part's life as the engine runs it (PassBuilder): told when launched, read after the
                    // compute only where it reads
                    built[0].whenLaunched(plans, rows - 1);
                    if (built[0].readsAfterCompute()) {
                        built[0].afterCompute(plans, rows - 1);
                    }
                });
            }
        }
    }

    /** The refresh a plan makes: its own, a device check's, or null. */
    static RefreshPlan of(AttentionPlan plan) {
        if (plan instanceof RefreshPlan r) {
            return r;
        }
        return plan instanceof SimilarityCheckPlan c ? c.refresh() : null;
    }

    /** The step's one batch of selections: every refreshing layer's scores, selected together. */
    static final class Selection implements StepPart {
        /** Candidates of all layers from which ordering their ties is worth the common pool's threads. */
        static final long PARALLEL_CANDIDATES = 1 << 16;

        private TopRowsSelection.Batch batch;
        private final int candidates;
        private final int kvHeads;
        /** Cp's rows per KV head when the refresh stays on the device, else 0. */
        private final int onDevice;
        /** The compact caches the graph writes when {@link #onDevice} (the building step's; a graph is keyed by them). */
        private final DeviceCp deviceCp;
        private final List<Integer> layers = new ArrayList<>();
        private final List<Tensor[]> cacheRows = new ArrayList<>();
        /** Per selecting layer, its device check's choice (Cp written only where it takes the full step), or null. */
        private final List<Choice> fullSteps = new ArrayList<>();
        /** The slots 0.. of Cp as F32, made once for every checking layer's write indices. */
        private Tensor slotIndices;
        private TopRowsSelection.Result result;
        private TopRowsSelection.Slots slots;
        /** The step's causal mask over the score rows (one for every layer), or null when none is needed. */
        private Tensor mask;
        /** The last rows outside which {@link #mask} is 0 in every step that reuses the graph (0: unknown, all rows). */
        private int maskTail;
        /**
         * The pooling window every layer shares, pooled once over the batch ({@link #batchWindow}); null
         * when layers pool their own scores before they join it.
         */
        private TopRows window;
        /**
         * The step's batch of flash attention's logits ({@link PlanGraph#flashScoreBatch}) when every layer of
         * the graph refreshes with the same request and writes its part of it: the batch's probabilities and
         * their aggregation are then one op each for all layers; null when each layer adds its own scores.
         */
        private Tensor scoreBatch;
        /** The full cache's keys and values of every layer ({@link PlanGraph#cacheKeysOfEveryLayer}), or null. */
        private Tensor[] fullCache;
        /** How Cp's slots put tied candidates in position order: what the backend's sorts and top_k allow. */
        private final TopRowsSelection.TieOrder tieOrder;
        /**
         * Whether Cp's rows per KV head are every row of the context ({@link RecycledCache#coversContext}): its slots
         * then in position order, and their positions by score read back for later evictions; else every slot by
         * score, known at the build, and the device Cp is told so when the step is launched, nothing read back.
         */
        private final boolean coversContext;
        /** With the slots on the device, how many rows (layer and KV head) have theirs in position order: F32 [1]. */
        private Tensor inPositionOrder;
        /** A layer's selections by score where no KV head's slots are in position order: every entry null. */
        private final int[][] noneInPositionOrder;

        /** Whether the layers' scores come from the step's {@link #scoreBatch}, not from each layer's {@link #add}. */
        boolean fromScoreBatch() {
            return scoreBatch != null;
        }

        /** The window the batch pools every layer's aggregated scores over, or null (each layer's come pooled). */
        TopRows batchWindow() {
            return window;
        }

        /** The selection of a step graph: its refreshing layers, the candidates the hungriest needs, one Cp size. */
        static Selection of(PlanGraph g) {
            int selecting = 0;
            int most = 0;
            RefreshPlan first = null;
            boolean uniform = true;
            boolean sameWindow = true;
            for (int l = g.fromLayer(); l < g.toLayer(); l++) {
                RefreshPlan r = RefreshPlan.of(g.plan(l));
                if (r != null) {
                    selecting++;
                    most = Math.max(most, r.request().candidates(g.position() + 1));
                    first = first == null ? r : first;
                    uniform &= r.cp() != null && r.cp() == first.cp() && r.request().equals(first.request());
                    sameWindow &= r.request().back() == first.request().back() && r.request().reach() == first.request().reach();
                }
            }
            // one Cp size for the whole batch, and a sort key that stays an exact float
            int onDevice = first != null && uniform ? first.onDevice(most, g.position() + 1) : 0;
            TopRowsSelection.TieOrder tieOrder = tieOrder(g.stableArgsortFrom(), g.topKColumnOrderFrom(), g.keyRows(), most,
                    onDevice);
            Selection s = new Selection(g.ctx(), g::expand, g.keyRows(), g.position() + 1, g.model().kvHeads(), selecting, most,
                    onDevice, tieOrder, onDevice > 0 ? first.cp() : null);
            s.window = first != null && sameWindow ? first.request() : null;
            s.maskTail = g.causalMaskTail();
            if (onDevice > 0) {
                s.fullCache = new Tensor[] {g.cacheKeysOfEveryLayer(), g.cacheValuesOfEveryLayer()};
            }
            // every layer a plain refresh (a check's may decline) with one request: the batch of flash attention's
            // logits, when this step has one, serves them all
            boolean allRefresh = selecting == g.toLayer() - g.fromLayer();
            for (int l = g.fromLayer(); l < g.toLayer() && allRefresh; l++) {
                allRefresh = g.plan(l) instanceof RefreshPlan r && r.request().equals(first.request());
            }
            if (allRefresh && s.window != null) {
                s.scoreBatch = g.flashScoreBatch();
            }
            return s;
        }

        /**
         * The fewest sorts that order {@code onDevice} slots from {@code candidates} a row of {@code rowLength} scores,
         * by what the backend guarantees ({@code stableFrom}: the row length from which its argsort is stable;
         * {@code columnOrderFrom}: from which its top_k writes in column order): one where its top_k writes in column
         * order and its sort of {@code onDevice} is stable, two where only its sort of the candidates is, else three
         * (and where nothing is ordered on the device, {@code onDevice} 0).
         */
        static TopRowsSelection.TieOrder tieOrder(java.util.OptionalInt stableFrom, java.util.OptionalInt columnOrderFrom,
                                                  long rowLength, int candidates, int onDevice) {
            if (onDevice < 1) {
                return TopRowsSelection.TieOrder.THREE_SORTS;
            }
            if (stableFrom.isPresent() && columnOrderFrom.isPresent() && onDevice >= stableFrom.getAsInt()
                    && rowLength >= columnOrderFrom.getAsInt()) {
                return TopRowsSelection.TieOrder.ONE_STABLE_SORT;
            }
            return stableFrom.isPresent() && candidates >= stableFrom.getAsInt() ? TopRowsSelection.TieOrder.TWO_STABLE_SORTS
                    : TopRowsSelection.TieOrder.THREE_SORTS;
        }

        /**
         * @param rows      the score rows of each layer (key rows, padding included)
         * @param validRows the rows of the context the selection picks from (every step reusing the graph picks from
         *                  as many, or, past K plus the window, from more than K)
         * @param selecting the layers that will {@link #add} their scores
         * @param onDevice  Cp's rows per KV head written in the graph into {@code deviceCp}'s caches, or 0 to
         *                  send the candidates to the host
         * @param tieOrder  how the slots are ordered ({@link #tieOrder}); with top_k in column order the batch
         *                  fetches exactly Cp's rows, not {@code candidates}: the tie at rank n is cut as the host cuts it
         */
        Selection(GgmlContext ctx, java.util.function.Consumer<Tensor> expand, long rows, long validRows, int kvHeads,
                  int selecting, int candidates, int onDevice, TopRowsSelection.TieOrder tieOrder, DeviceCp deviceCp) {
            this.candidates = tieOrder == TopRowsSelection.TieOrder.ONE_STABLE_SORT ? onDevice : candidates;
            this.coversContext = onDevice > 0 && RecycledCache.coversContext(onDevice, validRows);
            this.tieOrder = tieOrder;
            this.kvHeads = kvHeads;
            this.onDevice = onDevice;
            this.deviceCp = deviceCp;
            this.noneInPositionOrder = new int[kvHeads][];
            this.batch = new TopRowsSelection.Batch(ctx, expand, rows, kvHeads, selecting);
        }

        /** The mask every added layer's scores take (the same tensor for every layer of a step). */
        void maskWith(Tensor layerMask) {
            if (mask != null && layerMask != null && !mask.equals(layerMask)) {
                throw new IllegalStateException("the layers of one step selected over different masks");
            }
            mask = mask != null ? mask : layerMask;
        }

        /** A layer's share: its scores ({@code [rows, kvHeads]}; null when they come from the {@link #scoreBatch}) and its rows. */
        void add(int layer, Tensor scores, Tensor keys, Tensor values, Choice fullStep) {
            if ((scores == null) != fromScoreBatch()) {
                throw new IllegalStateException("layer " + layer + (scores == null ? " added no scores to a batch of its own"
                        : " added scores of its own to the step's score batch"));
            }
            layers.add(layer);
            cacheRows.add(new Tensor[] {keys, values});
            fullSteps.add(fullStep);
            if (scores != null) {
                batch.add(scores);
            }
        }

        @Override
        public void finish(PlanGraph.Finishing g) {
            if (fromScoreBatch()) {
                // every layer's logits, normalised per query head and aggregated per KV head, one op each: the same
                // floats as each layer's own softmax and aggregation, in columns layer after layer
                // (every layer's request is the window's: Selection#of)
                int all = layers.size();
                int heads = Math.toIntExact(scoreBatch.ne(2));
                Tensor probs = AttentionMath.scoreBatchSoftmax(g.ctx(), scoreBatch);
                batch = TopRowsSelection.Batch.of(g.ctx(), TopRowsSelection.aggregated(g.ctx(), probs, window, heads * all,
                        kvHeads * all), kvHeads, all);
            }
            if (maskTail > 0) {
                batch.maskOnlyTail(maskTail, g::expand);
            }
            if (onDevice == 0) {
                TopRowsSelection.Result top = batch.select(candidates, TopRowsSelection.Method.TOP_K, mask, window);
                result = new TopRowsSelection.Result(top.positions().name("top_rows").output(), top.scores().name("top_scores").output());
                g.expand(result.positions());
                g.expand(result.scores());
                return;
            }
            GgmlContext ctx = g.ctx();
            // the slots order the candidates themselves: no sort by score first; past the context's rows, by score alone
            TopRowsSelection.Result found = batch.candidates(candidates, mask, window);
            if (coversContext) {
                slots = TopRowsSelection.slots(ctx, found, onDevice, tieOrder);
            } else {
                Tensor byScore = TopRowsSelection.byScore(ctx, found, onDevice, tieOrder);
                slots = new TopRowsSelection.Slots(byScore, null, byScore);
            }
            Tensor positions = slots.positions(); // I32 [onDevice, kvHeads x layers], layer after layer
            Tensor every = positionsOfEveryLayer();
            if (every != null) {
                g.expand(ctx.cpy(ctx.reshape(positions, onDevice, kvHeads, layers.size()), every));
            }
            if (every != null && gatherEveryLayerAtOnce(ctx, g, positions)) {
                finishOutputs(g);
                return;
            }
            for (int slot = 0; slot < layers.size(); slot++) {
                Tensor rows = ctx.view(positions, new long[] {onDevice, kvHeads}, new long[] {positions.nb(1)},
                        (long) slot * kvHeads * positions.nb(1));
                Tensor[] kv = cacheRows.get(slot);
                Choice fullStep = fullSteps.get(slot);
                if (fullStep != null) {
                    Tensor rowPositions = ctx.view(positions, new long[] {1, onDevice, kvHeads},
                            new long[] {positions.nb(0), positions.nb(1)}, (long) slot * kvHeads * positions.nb(1));
                    writeIfChosen(ctx, g, deviceCp.caches().get(layers.get(slot)), kv, rows, rowPositions, fullStep);
                    continue;
                }
                // slot i takes row i of the selection: the gathered rows are the compact cache's first
                // rows, in the cache's own type (CacheRows: no F32 round trip); read in place, its positions alone
                if (deviceCp.copiesRows()) {
                    CompactCache cache = deviceCp.caches().get(layers.get(slot));
                    g.expand(copySelected(ctx, kv[0], rows, CacheRows.range(ctx, cache.keys(), 0, onDevice)));
                    g.expand(copySelected(ctx, kv[1], rows, CacheRows.range(ctx, cache.values(), 0, onDevice)));
                }
                if (every == null) {
                    Tensor kept = deviceCp.positions(layers.get(slot));
                    g.expand(ctx.cpy(rows, ctx.view(kept, new long[] {onDevice, kvHeads}, new long[] {kept.nb(1)}, 0)));
                }
            }
            finishOutputs(g);
        }

        /**
         * Where Cp covers the context: the slots' order flags and positions by score, named, marked for the read-back and
         * expanded; and the count of rows in position order, read first after the compute (every row's, but where a
         * selection is not every position after all: a score the device cannot order, such as NaN). Past K rows
         * nothing: every slot is by score.
         */
        private void finishOutputs(PlanGraph.Finishing g) {
            if (!coversContext) {
                return; // every slot by score: nothing to read
            }
            slots = new TopRowsSelection.Slots(slots.positions(), slots.positionOrder().name("top_rows_in_order").output(),
                    slots.byScore().name("top_rows_by_score").output());
            g.expand(slots.positionOrder());
            g.expand(slots.byScore());
            Tensor flags = slots.positionOrder();
            inPositionOrder = g.ctx().sumRows(g.ctx().reshape(flags, flags.elements(), 1)).name("top_rows_in_order_count").output();
            g.expand(inPositionOrder);
        }

        /**
         * Every layer's Cp rows gathered out of the full cache with one op a kind, straight into the compact caches'
         * stack ({@link CompactCache.Stack}), where the full cache is one tensor a kind, every layer refreshes in
         * order ({@link #positionsOfEveryLayer}) and Cp fills its caches: 2 gathers of 268 MB at Llama-3.1-8B shapes
         * and K=4096, where a gather a layer and kind would be 64 of 8.4 MB, each mostly a small kernel's ramp (9.3 us
         * on an H100). The gathers read the cache after every layer's write of this step because they are expanded
         * after them (graph order). False, adding nothing, where that does not hold.
         */
        private boolean gatherEveryLayerAtOnce(GgmlContext ctx, PlanGraph.Finishing g, Tensor positions) {
            CompactCache.Stack stack = deviceCp.stack();
            if (fullCache == null || fullCache[0] == null || fullCache[1] == null || stack == null || !deviceCp.copiesRows()) {
                return false;
            }
            Tensor keysTo = stack.keysOfEveryLayer();
            Tensor valuesTo = stack.valuesOfEveryLayer();
            int count = layers.size();
            if (fullCache[0].ne(3) != count || keysTo.ne(3) != count || keysTo.ne(1) != onDevice
                    || !CacheRows.canGatherInto(fullCache[0], keysTo) || !CacheRows.canGatherInto(fullCache[1], valuesTo)) {
                return false;
            }
            Tensor rows = ctx.reshape(positions, onDevice, kvHeads, count);
            g.expand(CacheRows.gatherInto(ctx, fullCache[0], rows, keysTo));
            g.expand(CacheRows.gatherInto(ctx, fullCache[1], rows, valuesTo));
            return true;
        }

        /**
         * {@link DeviceCp#positionsOfEveryLayer}, where this selection writes all of it: every layer in order, each
         * layer's Cp as many slots as it selects, and no check's choice (which writes some layers' elsewhere); else null.
         */
        private Tensor positionsOfEveryLayer() {
            Tensor every = deviceCp.positionsOfEveryLayer();
            if (every == null || every.ne(0) != onDevice || every.ne(1) != kvHeads || every.ne(2) != layers.size()) {
                return null;
            }
            for (int slot = 0; slot < layers.size(); slot++) {
                if (layers.get(slot) != slot || fullSteps.get(slot) != null) {
                    return null;
                }
            }
            return every;
        }

        /**
         * The selected {@code rows} of a full-cache tensor into a compact cache's first rows
         * {@code to}: gathered straight into them where they are the whole compact cache (Cp
         * filled, the usual case: one op a tensor, no copy of 4096 x 8 rows a layer after it), else
         * gathered and copied.
         */
        private static Tensor copySelected(GgmlContext ctx, Tensor cache, Tensor rows, Tensor to) {
            return CacheRows.canGatherInto(cache, to) ? CacheRows.gatherInto(ctx, cache, rows, to)
                    : ctx.cpy(CacheRows.gather(ctx, cache, rows), to);
        }

        /**
         * A check's refresh: Cp's new rows written where the device chose the full step, and
         * otherwise to the compact cache's spare rows ({@link CompactCache#spareRows}: a checking
         * policy's caches have K of them, past Cp's), row i to its own (writes of every row to one
         * spare row collide: 4 ms a check step on an H200 at 8B shapes), so that the recycled
         * step's Cp stays as it is; the positions the same way, their I32 bits copied as F32
         * (set_rows takes F32 rows: a copy, no arithmetic). {@code rowPositions}: {@code rows} as
         * {@code [1, n, kvHeads]}.
         */
        private void writeIfChosen(GgmlContext ctx, PlanGraph.Finishing g, CompactCache cache, Tensor[] kv, Tensor rows,
                                   Tensor rowPositions, Choice fullStep) {
            int spare = cache.capacity();
            if (cache.spareRows() < onDevice) {
                throw new IllegalStateException("a checking layer's compact cache needs " + onDevice + " spare rows, has "
                        + cache.spareRows());
            }
            if (slotIndices == null) {
                slotIndices = ctx.arange(0, onDevice, 1);
            }
            // row i of the selection to slot i (take), or to spare row spare + i (leave)
            Tensor target = ctx.cast(ctx.add(slotIndices, ctx.scale(fullStep.leave(), spare)), GgmlType.I32);
            g.expand(writeRows(ctx, cache.keys(), CacheRows.gather(ctx, kv[0], rows), target));
            g.expand(writeRows(ctx, cache.values(), CacheRows.gather(ctx, kv[1], rows), target));
            Tensor kept = cache.positions();
            Tensor keptBits = ctx.bitcast(ctx.reshape(kept, 1, kept.ne(0), kept.ne(1)), GgmlType.F32);
            g.expand(ctx.setRows(keptBits, ctx.bitcast(rowPositions, GgmlType.F32), target));
        }

        /**
         * set_rows of gathered rows {@code [headDim, n, kvHeads]} into a compact cache: F16 rows as they are,
         * BF16 rows as F16 bits (set_rows takes F32 or F16), the F32 of a quantized cache's gather quantized.
         */
        private static Tensor writeRows(GgmlContext ctx, Tensor cache, Tensor gathered, Tensor target) {
            if (cache.type() == GgmlType.BF16) {
                return ctx.setRows(ctx.bitcast(cache, GgmlType.F16), ctx.bitcast(gathered, GgmlType.F16), target);
            }
            return ctx.setRows(cache, gathered, target);
        }

        /**
         * Cp's new rows are ordered on the host after the compute, or told to the device Cp: when the step is launched
         * where every slot is by score and no layer's device check may decline its refresh (then nothing is read, and
         * the next step queues behind this one), else after the compute.
         */
        @Override
        public boolean readsAfterCompute() {
            return !tellsAtLaunch();
        }

        private boolean tellsAtLaunch() {
            return onDevice > 0 && !coversContext && fullSteps.stream().allMatch(java.util.Objects::isNull);
        }

        @Override
        public void whenLaunched(AttentionPlan[] plans, int position) {
            if (tellsAtLaunch()) {
                tellDeviceCp(plans);
            }
        }

        @Override
        public void afterCompute(AttentionPlan[] plans, int position) {
            if (onDevice > 0) {
                tellDeviceCp(plans);
            } else {
                orderOnHost(plans, position);
            }
        }

        /** Whether a layer's device check declined its refresh: Cp kept as it was, the refresh not handed on. */
        private static boolean declinedRefresh(AttentionPlan plan, int layer) {
            return plan instanceof SimilarityCheckPlan check && !check.outcome().fullStep(layer);
        }

        /**
         * Tells every refreshed layer's Cp its rows. Where Cp covers the context (after the compute), the count of rows
         * in position order is read, and where it is not 0 one float per KV head of every layer says whether its slots
         * are positions 0..n-1 in order; only for those are its positions by score read (the host evicts the
         * lowest-scored first). Else every slot is by score, and nothing is read.
         */
        private void tellDeviceCp(AttentionPlan[] plans) {
            // where every slot is by score, nothing read, and each layer told as little as can be (a refresh's host
            // work runs once in S steps, in code the JIT has not compiled yet)
            float[] inOrder = inPositionOrder == null || inPositionOrder.getFloats()[0] == 0 ? null
                    : slots.positionOrder().getFloats();
            int[] byScore = null;
            for (int slot = 0; slot < layers.size(); slot++) {
                int layer = layers.get(slot);
                if (declinedRefresh(plans[layer], layer)) {
                    continue;
                }
                int[][] ordered = noneInPositionOrder;
                if (inOrder != null) {
                    ordered = new int[kvHeads][];
                    for (int h = 0; h < kvHeads; h++) {
                        int row = slot * kvHeads + h;
                        if (inOrder[row] != 0) {
                            byScore = byScore == null ? slots.byScore().getInts() : byScore;
                            ordered[h] = java.util.Arrays.copyOfRange(byScore, row * onDevice, (row + 1) * onDevice);
                        }
                    }
                }
                RefreshPlan.of(plans[layer]).cp().refreshed(layer, onDevice, ordered);
            }
        }

        /**
         * Each layer's rows per KV head, read back in two transfers for all layers (not two per
         * layer: at 32 layers the per-transfer latency added up), ties put in position order, cut
         * to k. The layers' KV heads are independent, so many candidates are ordered in parallel:
         * at 32 x 8 heads of 4,103 candidates this was the largest host cost of a full step on one
         * thread. A few thousand are ordered in microseconds, less than waking the pool's threads.
         */
        private void orderOnHost(AttentionPlan[] plans, int position) {
            TopRowsSelection.Candidates all = TopRowsSelection.Candidates.read(result.positions(), result.scores(), candidates);
            int[][][] rows = new int[layers.size()][kvHeads][];
            java.util.stream.IntStream heads = java.util.stream.IntStream.range(0, layers.size() * kvHeads);
            if ((long) layers.size() * kvHeads * candidates >= PARALLEL_CANDIDATES) {
                heads = heads.parallel();
            }
            heads.forEach(i -> {
                int slot = i / kvHeads;
                int h = i % kvHeads;
                TopRows request = RefreshPlan.of(plans[layers.get(slot)]).request();
                // the batch selected as many candidates as its hungriest layer needs; this layer
                // takes its own count of the (descending) prefix, as if it had been selected alone
                rows[slot][h] = all.ordered(slot * kvHeads + h, request.candidates(position + 1), request.k());
            });
            for (int slot = 0; slot < layers.size(); slot++) {
                int layer = layers.get(slot);
                if (!declinedRefresh(plans[layer], layer)) {
                    RefreshPlan.of(plans[layer]).sink().selected(layer, rows[slot], position + 1);
                }
            }
        }
    }
}
