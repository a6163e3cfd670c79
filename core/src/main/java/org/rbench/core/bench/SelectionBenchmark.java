package org.rbench.core.bench;

import org.rbench.core.attention.CacheRows;
import org.rbench.core.engine.AttentionMath;
import org.rbench.core.engine.KvCache;
import org.rbench.core.recycled.TopRows;
import org.rbench.core.recycled.TopRowsSelection;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * Device time of the pieces of a Recycled Attention full step, each piece a graph of its own
 * over the same random cache and query of one layer, computed repeatedly: where a full step's
 * cost beyond a full-attention step goes, on a machine without a profiler. Flash attention
 * alone is what every step computes; the selection's pieces then build on each other (the
 * explicit K^T q softmax; plus the query group's aggregation; plus the selection), so differences
 * of their medians are the pieces' costs. The selection (ggml_top_k, then a sort of the
 * candidates) is timed of this layer's rows alone (pooled and masked), and as the engine selects,
 * in one batch with the rows of {@code layers} layers (here the same scores copied into every
 * layer's slot, which costs as much), pooled and masked once over the batch, both ways ({@link TopRowsSelection.Method}: top_k, the CPU's;
 * a sort of every row, the GPU's), with and without the ties put in position order. The batch
 * pieces include one layer's scoring and the batch's assembly; a refresh's selection after its
 * softmax and pool is also timed stage by stage from aggregated rows made beforehand (top_k alone,
 * the candidates, their ties ordered), so that no other work hides in the differences.
 *
 * @see TopRowsSelection
 */
public final class SelectionBenchmark {
    /** One layer's attention shape: cached rows attended, query heads, KV heads, head dimension. */
    public record Shape(int rows, int heads, int kvHeads, int headDim) {
        public Shape {
            if (rows < 2 || heads < 1 || kvHeads < 1 || heads % kvHeads != 0 || headDim < 2) {
                throw new IllegalArgumentException("bad attention shape: " + rows + " rows, " + heads + " heads, "
                        + kvHeads + " KV heads, head dim " + headDim);
            }
        }
    }

    /**
     * Median and spread of one piece's compute time in milliseconds, and what it comes to in
     * a step of all layers ({@code stepMs}: the median times the layers for a one-layer
     * piece; for the batched selection, the scores of every layer plus one selection of the batch).
     */
    public record Timing(String piece, double medianMs, double minMs, double maxMs, int repeats, double stepMs) {
    }

    /**
     * The timings, and each selection's candidates per KV head after ties are put in position
     * order: of the layer alone, and of its slot in the batch by top_k and by sorting; where the
     * backend's flash attention writes its logits ({@link Backend#flashAttentionWritesScores}), the
     * layer's selection from those ({@code flashSelection}) and the largest difference of their
     * probabilities from the K^T q softmax's ({@code flashProbabilityDifference}); else null and NaN.
     */
    public record Result(List<Timing> timings, int[][] aloneSelection, int[][] batchedSelection, int[][] sortedSelection,
                         int[][] flashSelection, double flashProbabilityDifference) {
    }

    /** Padding of the attended rows, as the engine's default (llama.cpp's 256). */
    private static final int PAD = 256;

    /** -inf as an F16 bit pattern: the padding rows of the mask. */
    private static final short HALF_NEGATIVE_INFINITY = (short) 0xFC00;

    private SelectionBenchmark() {
    }

    /** Stops the benchmark where slots ordered {@code how} differ from the three sorts' ({@code expected}). */
    private static void requireSameSlots(int[] expected, int[] actual, String how) {
        if (!Arrays.equals(expected, actual)) {
            throw new IllegalStateException("the slots ordered by " + how + " differ from the three sorts' in "
                    + differing(expected, actual) + " of " + expected.length);
        }
    }

    /** Entries where {@code a} and {@code b} (as long as {@code a}) differ. */
    private static int differing(int[] a, int[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] != b[i] ? 1 : 0;
        }
        return n;
    }

    public static Result run(Backend backend, Shape shape, TopRows request, int layers, int repeats, long seed) {
        if (repeats < 1 || layers < 1) {
            throw new IllegalArgumentException("repeats and layers must be at least 1, got " + repeats + " and " + layers);
        }
        int valid = shape.rows();
        int rows = (valid + PAD - 1) / PAD * PAD;
        int capacity = rows + PAD; // the engine's cache is larger than the rows a step reads
        // the padding rows a decode step's mask can hold, all a batch's mask is added to (PlanGraph#causalMaskTail)
        int maskTail = Math.min(rows, PAD);
        int m = request.candidates(valid);
        try (GgmlContext data = GgmlContext.forMetadata(6, 0)) {
            Tensor keys = data.newTensor(GgmlType.F16, shape.headDim(), capacity, shape.kvHeads()).name("k");
            Tensor values = data.newTensor(GgmlType.F16, shape.headDim(), capacity, shape.kvHeads()).name("v");
            Tensor query = data.newTensor(GgmlType.F32, shape.headDim(), 1, shape.heads()).name("q");
            Tensor mask = data.newTensor(GgmlType.F16, rows, 1).name("mask");
            // every layer's logits, as flash attention writes a refresh's batch of them (PlanGraph#flashScoreBatch)
            Tensor scoreBatch = data.newTensor(GgmlType.F32, rows, 1, shape.heads(), layers).name("score_batch");
            // every layer's aggregated probabilities side by side, as the batch's softmax and GQA pool leave them
            Tensor aggregatedBatch = data.newTensor(GgmlType.F32, rows, (long) shape.kvHeads() * layers).name("aggregated_batch");
            try (BackendBuffer buffer = BackendBuffer.allocate(data, backend)) {
                fill(keys, values, query, mask, valid, seed);
                randomise(scoreBatch, new SplittableRandom(seed + 1));
                aggregatedBatch.setFloats(probabilityLike(new SplittableRandom(seed + 2), rows * shape.kvHeads() * layers));
                List<Timing> timings = new ArrayList<>();
                float scale = (float) (1 / Math.sqrt(shape.headDim()));
                Piece flash = (ctx, g) -> {
                    Tensor fa = ctx.flashAttnExt(query, rowsView(ctx, keys, rows), rowsView(ctx, values, rows), mask, scale, 0f, 0f);
                    ctx.setFlashAttnPrecision(fa, GgmlContext.PREC_F32);
                    return new Tensor[] {fa};
                };
                timings.add(time(backend, "flash attention (computed by every step)", flash, repeats, layers, null));
                float[][] compared = new float[2][];
                Piece softmax = (ctx, g) -> new Tensor[] {probabilities(ctx, keys, query, mask, rows, scale)};
                timings.add(time(backend, "K^T q softmax", softmax, repeats, layers, out -> compared[0] = out[0].getFloats()));
                int[][] flashSelection = null;
                if (backend.flashAttentionWritesScores()) {
                    // the same probabilities from the logits flash attention writes as it reads the keys
                    Piece written = (ctx, g) -> new Tensor[] {flashProbabilities(ctx, g, backend, keys, values, query, mask, rows, scale)};
                    timings.add(time(backend, "flash attention writing its scores, softmax of them", written, repeats, layers,
                            out -> compared[1] = out[0].getFloats()));
                    int[][][] picked = new int[1][][];
                    Piece flashAlone = (ctx, g) -> {
                        TopRowsSelection.Result r = TopRowsSelection.select(ctx, TopRowsSelection.scores(ctx,
                                flashProbabilities(ctx, g, backend, keys, values, query, mask, rows, scale), mask, request,
                                shape.heads(), shape.kvHeads()), m);
                        return new Tensor[] {r.positions(), r.scores()};
                    };
                    timings.add(time(backend, "flash attention's scores ... + top rows of this layer", flashAlone, repeats, layers,
                            out -> picked[0] = byKvHead(out[0].getInts(), out[1].getFloats(), m, 0, shape.kvHeads(), request.k())));
                    flashSelection = picked[0];
                }
                // a step's layer: its scores aggregated (the batch of all layers pools and masks them once)
                Piece scores = (ctx, g) -> new Tensor[] {TopRowsSelection.aggregated(ctx,
                        probabilities(ctx, keys, query, mask, rows, scale), request, shape.heads(), shape.kvHeads())};
                Timing scoring = time(backend, "softmax + GQA aggregation", scores, repeats, layers, null);
                timings.add(scoring);
                // a refresh normalises every layer's heads in one softmax, rows x (heads x layers) logits, and
                // aggregates each KV head's group in one op (RefreshPlan.Selection#finish)
                Piece batchScores = (ctx, g) -> new Tensor[] {TopRowsSelection.aggregated(ctx,
                        AttentionMath.scoreBatchSoftmax(ctx, scoreBatch), request, shape.heads() * layers, shape.kvHeads() * layers)};
                timings.add(time(backend, "softmax + GQA aggregation of " + layers + " layers at once", batchScores, repeats, 1,
                        null));
                int[][][] selections = new int[1 + TopRowsSelection.Method.values().length][][];
                Piece alone = (ctx, g) -> {
                    TopRowsSelection.Result r = TopRowsSelection.select(ctx, TopRowsSelection.scores(ctx,
                            probabilities(ctx, keys, query, mask, rows, scale), mask, request, shape.heads(), shape.kvHeads()), m);
                    return new Tensor[] {r.positions(), r.scores()};
                };
                timings.add(time(backend, "softmax ... + top rows of this layer", alone, repeats, layers,
                        out -> selections[0] = byKvHead(out[0].getInts(), out[1].getFloats(), m, 0, shape.kvHeads(), request.k())));
                // one layer's scores in every slot of a batch of all layers, as the engine fills it
                BiFunction<GgmlContext, PieceGraph, TopRowsSelection.Batch> filledBatch = (ctx, g) -> {
                    Tensor s = scores.apply(ctx, g)[0];
                    TopRowsSelection.Batch batch = new TopRowsSelection.Batch(ctx, g::expand, rows, shape.kvHeads(), layers);
                    for (int l = 0; l < layers; l++) {
                        batch.add(s);
                    }
                    return batch;
                };
                // the batch selected both ways (TopRowsSelection.Method), with and without the ties put in position
                // order on the device, as a refresh that stays there does
                int slot = layers - 1;
                // a batch piece selects for every layer once; its step adds the other layers' scoring
                java.util.function.UnaryOperator<Timing> inStep = t -> new Timing(t.piece(), t.medianMs(), t.minMs(), t.maxMs(),
                        t.repeats(), t.medianMs() + (layers - 1) * scoring.medianMs());
                for (TopRowsSelection.Method how : TopRowsSelection.Method.values()) {
                    String name = "softmax ... + top rows of " + layers + " layers at once, " + how.name().toLowerCase(java.util.Locale.ROOT);
                    Piece batched = (ctx, g) -> {
                        TopRowsSelection.Result r = filledBatch.apply(ctx, g).maskOnlyTail(maskTail, g::expand)
                            .select(m, how, mask, request);
                        return new Tensor[] {r.positions(), r.scores()};
                    };
                    int index = 1 + how.ordinal();
                    Timing batch = time(backend, name, batched, repeats, 1,
                            out -> selections[index] = byKvHead(out[0].getInts(), out[1].getFloats(), m, slot, shape.kvHeads(),
                                    request.k()));
                    timings.add(inStep.apply(batch));
                    if (m <= TopRowsSelection.MOST_ORDERED_ON_DEVICE) {
                        // a refresh orders top_k's candidates as they come (RefreshPlan.Selection#finish); a sort's come ordered
                        Piece slots = (ctx, g) -> {
                            TopRowsSelection.Batch b = filledBatch.apply(ctx, g).maskOnlyTail(maskTail, g::expand);
                            TopRowsSelection.Slots sl = TopRowsSelection.slots(ctx, how == TopRowsSelection.Method.TOP_K
                                    ? b.candidates(m, mask, request) : b.select(m, how, mask, request), Math.min(request.k(), m));
                            return new Tensor[] {sl.positions(), sl.positionOrder()};
                        };
                        Timing ordered = time(backend, name + ", ties ordered", slots, repeats, 1, null);
                        timings.add(inStep.apply(ordered));
                    }
                }
                // a refresh's selection after its softmax and pool, stage by stage, from a batch of aggregated
                // probabilities made beforehand (no layer's scoring in these pieces): top_k alone; the candidates
                // (mask, window pool, top_k, their scores: RefreshPlan.Selection#finish); those with ties ordered
                timings.add(time(backend, "top_k alone of " + layers + " layers' aggregated rows", (ctx, g) ->
                        new Tensor[] {ctx.topK(aggregatedBatch, m)}, repeats, 1, null));
                java.util.function.BiFunction<GgmlContext, PieceGraph, TopRowsSelection.Result> batchCandidates = (ctx, g) ->
                        TopRowsSelection.Batch.of(ctx, aggregatedBatch, shape.kvHeads(), layers).maskOnlyTail(maskTail, g::expand)
                                .candidates(m, mask, request);
                Piece candidates = (ctx, g) -> {
                    TopRowsSelection.Result r = batchCandidates.apply(ctx, g);
                    return new Tensor[] {r.positions(), r.scores()};
                };
                timings.add(time(backend, "candidates of " + layers + " layers' aggregated rows (mask, window pool, top_k)",
                        candidates, repeats, 1, null));
                if (m <= TopRowsSelection.MOST_ORDERED_ON_DEVICE) {
                    int[][] slotPositions = new int[2][];
                    Piece ordered = (ctx, g) -> {
                        TopRowsSelection.Slots sl = TopRowsSelection.slots(ctx, batchCandidates.apply(ctx, g), Math.min(request.k(), m));
                        return new Tensor[] {sl.positions(), sl.positionOrder()};
                    };
                    timings.add(time(backend, "candidates of " + layers + " layers' aggregated rows, ties ordered", ordered,
                            repeats, 1, out -> slotPositions[0] = out[0].getInts()));
                    // where the backend sorts these rows stably, the refresh orders them with two sorts: timed, and held
                    // to the three sorts' slots (the pooled scores tie in runs)
                    java.util.OptionalInt stableFrom = backend.stableArgsortFrom();
                    if (stableFrom.isPresent() && m >= stableFrom.getAsInt()) {
                        Piece stable = (ctx, g) -> {
                            TopRowsSelection.Slots sl = TopRowsSelection.slots(ctx, batchCandidates.apply(ctx, g),
                                    Math.min(request.k(), m), TopRowsSelection.TieOrder.TWO_STABLE_SORTS);
                            return new Tensor[] {sl.positions(), sl.positionOrder()};
                        };
                        timings.add(time(backend, "candidates of " + layers + " layers' aggregated rows, ties ordered by two stable sorts",
                                stable, repeats, 1, out -> slotPositions[1] = out[0].getInts()));
                        requireSameSlots(slotPositions[0], slotPositions[1], "two stable sorts");
                    }
                    // where top_k writes its candidates in column order besides, Cp's n of them and one stable sort
                    int n = Math.min(request.k(), m);
                    java.util.OptionalInt columnOrderFrom = backend.topKColumnOrderFrom();
                    if (stableFrom.isPresent() && n >= stableFrom.getAsInt() && columnOrderFrom.isPresent()
                            && rows >= columnOrderFrom.getAsInt()) {
                        Piece one = (ctx, g) -> {
                            TopRowsSelection.Result r = TopRowsSelection.Batch.of(ctx, aggregatedBatch, shape.kvHeads(), layers)
                                    .maskOnlyTail(maskTail, g::expand).candidates(n, mask, request);
                            TopRowsSelection.Slots sl = TopRowsSelection.slots(ctx, r, n, TopRowsSelection.TieOrder.ONE_STABLE_SORT);
                            return new Tensor[] {sl.positions(), sl.positionOrder()};
                        };
                        int[][] onePositions = new int[1][];
                        timings.add(time(backend, "Cp's candidates of " + layers + " layers' aggregated rows in column order,"
                                + " ties ordered by one stable sort", one, repeats, 1, out -> onePositions[0] = out[0].getInts()));
                        requireSameSlots(slotPositions[0], onePositions[0], "top_k in column order and one stable sort");
                    }
                }
                double difference = Double.NaN;
                if (compared[1] != null) {
                    difference = 0;
                    for (int i = 0; i < compared[0].length; i++) {
                        difference = Math.max(difference, Math.abs(compared[0][i] - compared[1][i]));
                    }
                }
                return new Result(List.copyOf(timings), selections[0], selections[1], selections[2], flashSelection, difference);
            }
        }
    }

    /** ggml_top_k of each column on its own, the results joined: the piece the batched top-k is compared with. */
    private static Tensor topKHeadByHead(GgmlContext ctx, Tensor scores, int k) {
        Tensor joined = null;
        for (long c = 0; c < scores.ne(1); c++) {
            Tensor top = ctx.topK(ctx.view(scores, new long[] {scores.ne(0), 1}, new long[] {scores.nb(1)}, c * scores.nb(1)), k);
            joined = joined == null ? top : ctx.concat(joined, top, 1);
        }
        return joined;
    }

    /**
     * Device time of the ways a sparse step selects and reads rows, one layer of {@code shape}
     * (its rows: the cache's rows scored): the top {@code k} of each KV head's scores (argsort
     * of all KV heads at once, ggml_top_k at once, and ggml_top_k head by head), the top
     * {@code k / page} pages of {@code rows / page} page scores the same three ways, and the
     * gather of {@code k} rows per KV head from an F16 cache (get_rows to F32 and a cast back
     * to F16, as bytes through an I32 bitcast, and as {@code k / page} whole pages), each
     * beside flash attention over k contiguous cache rows (what a compact cache costs).
     */
    public static List<Timing> reads(Backend backend, Shape shape, int k, int page, int layers, int repeats, long seed) {
        if (k < page || k > shape.rows() || page < 1 || repeats < 1) {
            throw new IllegalArgumentException("need page <= k <= rows and repeats >= 1, got k=" + k + ", page=" + page);
        }
        int rows = shape.rows() / page * page;
        int kvHeads = shape.kvHeads();
        int pages = rows / page;
        int pagesRead = k / page;
        int capacity = rows;
        try (GgmlContext data = GgmlContext.forMetadata(8, 0)) {
            Tensor keys = data.newTensor(GgmlType.F16, shape.headDim(), capacity, kvHeads).name("k");
            Tensor values = data.newTensor(GgmlType.F16, shape.headDim(), capacity, kvHeads).name("v");
            Tensor query = data.newTensor(GgmlType.F32, shape.headDim(), 1, shape.heads()).name("q");
            Tensor mask = data.newTensor(GgmlType.F16, k, 1).name("mask");
            Tensor rowScores = data.newTensor(GgmlType.F32, rows, kvHeads).name("row_scores");
            Tensor pageScores = data.newTensor(GgmlType.F32, pages, kvHeads).name("page_scores");
            Tensor rowIndices = data.newTensor(GgmlType.I32, k, kvHeads).name("row_indices");
            Tensor pageIndices = data.newTensor(GgmlType.I32, pagesRead, kvHeads).name("page_indices");
            try (BackendBuffer buffer = BackendBuffer.allocate(data, backend)) {
                fill(keys, values, query, mask, k, seed);
                SplittableRandom random = new SplittableRandom(seed + 1);
                rowScores.setFloats(randomFloats(random, rows * kvHeads));
                pageScores.setFloats(randomFloats(random, pages * kvHeads));
                int[] r = new int[k * kvHeads];
                for (int i = 0; i < r.length; i++) {
                    r[i] = random.nextInt(capacity);
                }
                rowIndices.setIndices(r, capacity);
                int[] p = new int[pagesRead * kvHeads];
                for (int i = 0; i < p.length; i++) {
                    p[i] = random.nextInt(pages);
                }
                pageIndices.setIndices(p, pages);
                float scale = (float) (1 / Math.sqrt(shape.headDim()));
                List<Timing> timings = new ArrayList<>();
                for (Object[] sort : new Object[][] {{rowScores, k, "rows"}, {pageScores, pagesRead, "pages"}}) {
                    Tensor scores = (Tensor) sort[0];
                    int count = (Integer) sort[1];
                    String what = " of " + scores.ne(0) + " " + sort[2] + " x " + kvHeads;
                    timings.add(time(backend, "argsort" + what + ", first " + count, (ctx, g) -> new Tensor[] {
                            ctx.cont(ctx.view(ctx.argsort(scores, GgmlContext.SORT_DESC), new long[] {count, kvHeads},
                                    new long[] {scores.ne(0) * 4}, 0))}, repeats, layers, null));
                    timings.add(time(backend, "top_k" + what + ", " + count, (ctx, g) -> new Tensor[] {ctx.topK(scores, count)},
                            repeats, layers, null));
                    timings.add(time(backend, "top_k" + what + ", " + count + ", head by head",
                            (ctx, g) -> new Tensor[] {topKHeadByHead(ctx, scores, count)},
                            repeats, layers, null));
                }
                Piece compact = (ctx, g) -> new Tensor[] {attend(ctx, query, rowsView(ctx, keys, k), rowsView(ctx, values, k), mask, scale)};
                timings.add(time(backend, "flash attention over " + k + " cache rows", compact, repeats, layers, null));
                Piece converted = (ctx, g) -> new Tensor[] {attend(ctx, query,
                        ctx.cast(ctx.getRows(keys, rowIndices), GgmlType.F16), ctx.cast(ctx.getRows(values, rowIndices), GgmlType.F16),
                        mask, scale)};
                timings.add(time(backend, "gather " + k + " rows (F32, cast) + attention", converted, repeats, layers, null));
                Piece bytes = (ctx, g) -> new Tensor[] {attend(ctx, query,
                        org.rbench.core.attention.CacheRows.gather(ctx, keys, rowIndices),
                        org.rbench.core.attention.CacheRows.gather(ctx, values, rowIndices), mask, scale)};
                timings.add(time(backend, "gather " + k + " rows (bytes) + attention", bytes, repeats, layers, null));
                Piece whole = (ctx, g) -> new Tensor[] {attend(ctx, query,
                        org.rbench.core.attention.CacheRows.pages(ctx, keys, pageIndices, page),
                        org.rbench.core.attention.CacheRows.pages(ctx, values, pageIndices, page), mask, scale)};
                timings.add(time(backend, "gather " + pagesRead + " pages of " + page + " (bytes) + attention", whole, repeats,
                        layers, null));
                return List.copyOf(timings);
            }
        }
    }

    private static Tensor attend(GgmlContext ctx, Tensor query, Tensor keys, Tensor values, Tensor mask, float scale) {
        Tensor fa = ctx.flashAttnExt(query, keys, values, mask, scale, 0f, 0f);
        ctx.setFlashAttnPrecision(fa, GgmlContext.PREC_F32);
        return fa;
    }

    /** Positive values over many orders of magnitude (e^-20 to 1), as probabilities are: the radix select's bins see their spread. */
    private static float[] probabilityLike(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.exp(-20 * random.nextDouble());
        }
        return v;
    }

    private static float[] randomFloats(SplittableRandom random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextDouble(-1, 1);
        }
        return v;
    }

    /** Builds a piece's graph from the shared inputs; returns its outputs. */
    private interface Piece extends BiFunction<GgmlContext, PieceGraph, Tensor[]> {
    }

    private static Timing time(Backend backend, String name, Piece piece, int repeats, int layers,
                               java.util.function.Consumer<Tensor[]> check) {
        try (PieceGraph g = new PieceGraph(); GraphAllocator allocator = new GraphAllocator(backend)) {
            Tensor[] outputs = piece.apply(g.ctx, g);
            for (Tensor t : outputs) {
                g.expand(t.output());
            }
            allocator.allocate(g.graph);
            for (int i = 0; i < 3; i++) { // warm-up: first-use costs (kernel loading, pools)
                backend.compute(g.graph);
            }
            double[] ms = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                backend.compute(g.graph);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            if (check != null) {
                check.accept(outputs);
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = sorted[repeats / 2];
            return new Timing(name, median, sorted[0], sorted[repeats - 1], repeats, median * layers);
        }
    }

    private static Tensor rowsView(GgmlContext ctx, Tensor cache, int rows) {
        return CacheRows.range(ctx, cache, 0, rows);
    }

    /** The engine's softmax of a decode step over the first {@code rows} keys: [rows, 1, heads]. */
    private static Tensor probabilities(GgmlContext ctx, Tensor keys, Tensor query, Tensor mask, int rows, float scale) {
        return AttentionMath.decodeSoftmax(ctx, rowsView(ctx, keys, rows), query, mask, scale, (int) keys.ne(2));
    }

    /**
     * {@link #probabilities} from flash attention's own logits: the attention computed with a scores
     * tensor it writes (expanded first, so the softmax reads it after), softmax of those.
     */
    private static Tensor flashProbabilities(GgmlContext ctx, PieceGraph g, Backend backend, Tensor keys, Tensor values,
                                             Tensor query, Tensor mask, int rows, float scale) {
        Tensor scores = ctx.newTensor(GgmlType.F32, rows, 1, query.ne(2)).name("fa_scores");
        Tensor fa = ctx.flashAttnExtScoring(query, rowsView(ctx, keys, rows), rowsView(ctx, values, rows), mask, scale, scores, backend);
        if (fa == null) {
            throw new IllegalStateException(backend.name() + " does not write flash attention's scores at " + rows + " rows");
        }
        ctx.setFlashAttnPrecision(fa, GgmlContext.PREC_F32);
        g.expand(fa);
        return ctx.softMaxExt(scores, null, 1f, 0f);
    }

    /** One layer's candidates (slot {@code slot} of a batch, m per row) per KV head, ties ordered, cut to k. */
    private static int[][] byKvHead(int[] positions, float[] scores, int m, int slot, int kvHeads, int k) {
        TopRowsSelection.Candidates candidates = new TopRowsSelection.Candidates(positions, scores, m);
        int[][] out = new int[kvHeads][];
        for (int h = 0; h < kvHeads; h++) {
            out[h] = candidates.ordered(slot * kvHeads + h, m, k);
        }
        return out;
    }

    private static void fill(Tensor keys, Tensor values, Tensor query, Tensor mask, int valid, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (Tensor t : new Tensor[] {keys, values, query}) {
            randomise(t, random);
        }
        try (Arena arena = Arena.ofConfined()) {
            long rows = mask.ne(0);
            MemorySegment m = arena.allocate(rows * 2, 64);
            for (long r = 0; r < rows; r++) {
                m.setAtIndex(ValueLayout.JAVA_SHORT, r, r < valid ? (short) 0 : HALF_NEGATIVE_INFINITY);
            }
            mask.write(m, 0);
        }
    }

    /** Fills {@code t} (F16 or F32) with values uniform in [-1, 1) drawn from {@code random}. */
    private static void randomise(Tensor t, SplittableRandom random) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(t.bytes(), 64);
            KvCache.randomise(block, t.type(), random);
            t.write(block, 0);
        }
    }

    /** One piece's graph: a metadata-only context and the graph in it. */
    private static final class PieceGraph implements AutoCloseable {
        final GgmlContext ctx = GgmlContext.forMetadata(4096, 4096);
        final org.rbench.llamacpp.ComputeGraph graph = ctx.newGraph(4096);

        void expand(Tensor t) {
            graph.expand(t);
        }

        @Override
        public void close() {
            ctx.close();
        }
    }
}
