package org.rbench.core.recycled;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.ScoreSelection;
import org.rbench.core.testing.CpuBackend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TopRowsSelection#select}: the first m candidates of every row by descending score,
 * found without sorting the whole row (a full step's rows are the context: sorting them was
 * most of a refresh step's cost), and the same candidates a full sort gives.
 */
class TopRowsSelectionTest {
    private static final int ROWS = 300;
    private static final int COLUMNS = 4;

    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    private record Selected(int[] positions, float[] scores, List<String> ops, List<long[]> sortShapes) {
    }

    /** Runs select(scores, m) on the CPU; also lists the graph's ops and the shape of every sort in it. */
    private static Selected select(float[] scores, int m) {
        try (GgmlContext data = GgmlContext.forMetadata(2, 0)) {
            Tensor input = data.newTensor(GgmlType.F32, ROWS, COLUMNS);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(64, 64);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                input.setFloats(scores);
                ComputeGraph graph = ctx.newGraph(64);
                TopRowsSelection.Result r = TopRowsSelection.select(ctx, input, m);
                Tensor positions = ctx.cont(r.positions()).output();
                Tensor top = ctx.cont(r.scores()).output();
                graph.expand(positions);
                graph.expand(top);
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                List<String> ops = new ArrayList<>();
                List<long[]> sorts = new ArrayList<>();
                for (int i = 0; i < graph.nodeCount(); i++) {
                    Tensor node = graph.node(i);
                    ops.add(node.opName());
                    if (node.opName().equals("ARGSORT")) {
                        sorts.add(node.shape());
                    }
                }
                assertEquals(m, positions.ne(1));
                assertEquals(COLUMNS, positions.ne(2));
                return new Selected(positions.getInts(), top.getFloats(), ops, sorts);
            }
        }
    }

    private record DeviceSlots(int[] slots, float[] positionOrder, int[] byScore) {
    }

    /**
     * slots(..., n) on the CPU of the candidates found {@code how}: {@code CANDIDATES}, top_k's in no order (what a
     * refresh orders), or select(scores, m, TOP_K | SORT)'s by descending score.
     */
    private static DeviceSlots slots(float[] scores, int m, int n, String how) {
        return slots(scores, m, n, how, false);
    }

    /** {@link #slots(float[], int, int, String)}, ordered by two stable sorts where {@code stable}. */
    private static DeviceSlots slots(float[] scores, int m, int n, String how, boolean stable) {
        try (GgmlContext data = GgmlContext.forMetadata(2, 0)) {
            Tensor input = data.newTensor(GgmlType.F32, ROWS, COLUMNS);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(128, 64);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                input.setFloats(scores);
                ComputeGraph graph = ctx.newGraph(128);
                TopRowsSelection.Result found = how.equals("CANDIDATES") ? TopRowsSelection.candidates(ctx, input, m)
                        : TopRowsSelection.select(ctx, input, m, TopRowsSelection.Method.valueOf(how));
                TopRowsSelection.Slots s = TopRowsSelection.slots(ctx, found, n,
                        stable ? TopRowsSelection.TieOrder.TWO_STABLE_SORTS : TopRowsSelection.TieOrder.THREE_SORTS);
                Tensor slots = s.positions().output();
                Tensor order = s.positionOrder().output();
                Tensor byScore = s.byScore().output();
                graph.expand(slots);
                graph.expand(order);
                graph.expand(byScore);
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                assertEquals(n, slots.ne(0));
                assertEquals(COLUMNS, slots.ne(1));
                return new DeviceSlots(slots.getInts(), order.getFloats(), byScore.getInts());
            }
        }
    }

    /**
     * The device's slots equal the host's (RecycledCache#refreshSelected of topKByScore): ties
     * in position order, and position order for a selection of exactly 0..n-1. Columns:
     * distinct scores; max-pooled plateaus; the n highest at positions 0..n-1 in shuffled
     * order; tie runs of 7 with a masked tail. The candidates in no order (top_k's, as a refresh
     * orders them), or by descending score (found by top_k or by a sort of every row).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"20, 27, CANDIDATES", "1, 8, CANDIDATES", "5, 5, CANDIDATES",
            "40, 47, CANDIDATES", "1, 1, CANDIDATES", "20, 27, TOP_K", "1, 8, TOP_K", "5, 5, TOP_K", "40, 47, TOP_K",
            "1, 1, TOP_K", "20, 27, SORT", "1, 8, SORT", "5, 5, SORT", "40, 47, SORT", "1, 1, SORT"})
    void slotsOnTheDeviceEqualTheHosts(int n, int m, String how) {
        slotsEqualTheHosts(n, m, how, false);
    }

    /**
     * Two sorts order the slots as three where the sort is stable. ggml-cpu sorts a row of at most 16 by insertion
     * (libstdc++'s std::sort below its threshold), which is stable, so these rows exercise the graph here; on CUDA,
     * {@code rbench bench-select} holds the stable sorts' slots to the three sorts' on rows of a refresh's size.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"1, 8, CANDIDATES", "5, 5, CANDIDATES", "1, 1, CANDIDATES", "8, 15, CANDIDATES",
            "1, 8, TOP_K", "8, 15, TOP_K", "8, 15, SORT"})
    void twoStableSortsOrderTheSlotsAsTheHostDoes(int n, int m, String how) {
        slotsEqualTheHosts(n, m, how, true);
    }

    /**
     * Top_k's n candidates in column order (those above the cut by ascending position, then those at it, lowest first:
     * the suite's CUDA top_k, Backend#topKColumnOrderFrom) need one stable sort. Made here as that top_k writes them;
     * ggml-cpu sorts rows of at most 16 by insertion, which is stable.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 5, 8, 16})
    void oneStableSortOrdersTopKsCandidatesInColumnOrder(int n) {
        Random random = new Random(11 + n);
        int[] positions = new int[n * COLUMNS];
        float[] scores = new float[n * COLUMNS];
        int[][] expected = new int[COLUMNS][];
        for (int c = 0; c < COLUMNS; c++) {
            float[] column = new float[ROWS];
            for (int i = 0; i < ROWS; i++) {
                column[i] = switch (c) {
                    case 0 -> random.nextFloat();
                    case 1 -> (float) Math.floor(random.nextFloat() * 4);        // ties everywhere, at the cut too
                    case 2 -> i < n ? 2 + random.nextFloat() : random.nextFloat(); // the n highest are 0..n-1
                    default -> i >= ROWS - 30 ? Float.NEGATIVE_INFINITY : i / 7;
                };
            }
            int[] byScore = ScoreSelection.topKByScore(column, n);
            boolean inOrder = Arrays.stream(byScore).max().getAsInt() == n - 1;
            expected[c] = inOrder ? java.util.stream.IntStream.range(0, n).toArray() : byScore;
            float cut = column[byScore[n - 1]];
            int at = 0;
            for (int i = 0; i < ROWS; i++) {
                if (column[i] > cut) {
                    positions[c * n + at] = i;
                    scores[c * n + at++] = column[i];
                }
            }
            for (int i = 0; i < ROWS && at < n; i++) {
                if (column[i] == cut) {
                    positions[c * n + at] = i;
                    scores[c * n + at++] = column[i];
                }
            }
        }
        try (GgmlContext data = GgmlContext.forMetadata(2, 0)) {
            Tensor p = data.newTensor(GgmlType.I32, 1, n, COLUMNS);
            Tensor v = data.newTensor(GgmlType.F32, 1, n, COLUMNS);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(128, 64);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                p.setInts(positions);
                v.setFloats(scores);
                ComputeGraph graph = ctx.newGraph(128);
                TopRowsSelection.Slots sl = TopRowsSelection.slots(ctx, new TopRowsSelection.Result(p, v), n,
                        TopRowsSelection.TieOrder.ONE_STABLE_SORT);
                Tensor slots = sl.positions().output();
                graph.expand(slots);
                graph.expand(sl.positionOrder().output());
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                int[] got = slots.getInts();
                for (int c = 0; c < COLUMNS; c++) {
                    assertArrayEquals(expected[c], Arrays.copyOfRange(got, c * n, (c + 1) * n), "column " + c);
                }
            }
        }
    }

    @Test
    void oneSortTakesExactlyCpsCandidates() {
        try (GgmlContext ctx = GgmlContext.forMetadata(16, 0)) {
            Tensor p = ctx.newTensor(GgmlType.I32, 1, 9, COLUMNS);
            Tensor v = ctx.newTensor(GgmlType.F32, 1, 9, COLUMNS);
            assertThrows(IllegalArgumentException.class, () -> TopRowsSelection.slots(ctx, new TopRowsSelection.Result(p, v), 8,
                    TopRowsSelection.TieOrder.ONE_STABLE_SORT));
        }
    }

    private static void slotsEqualTheHosts(int n, int m, String how, boolean stable) {
        Random random = new Random(5 + n);
        float[] scores = new float[ROWS * COLUMNS];
        for (int c = 0; c < COLUMNS; c++) {
            float[] column = new float[ROWS];
            for (int i = 0; i < ROWS; i++) {
                column[i] = switch (c) {
                    case 0, 1 -> random.nextFloat();
                    case 2 -> i < n ? 2 + random.nextFloat() : random.nextFloat();
                    default -> i >= ROWS - 30 ? Float.NEGATIVE_INFINITY : i / 7;   // tie runs of 7, the highest at the end
                };
            }
            if (c == 1) {
                column = ScoreSelection.maxPool(column, 7);
            }
            System.arraycopy(column, 0, scores, c * ROWS, ROWS);
        }
        DeviceSlots d = slots(scores, m, n, how, stable);
        for (int c = 0; c < COLUMNS; c++) {
            float[] column = Arrays.copyOfRange(scores, c * ROWS, (c + 1) * ROWS);
            int[] byScore = ScoreSelection.topKByScore(column, n);
            boolean inOrder = Arrays.stream(byScore).max().getAsInt() == n - 1;
            int[] expected = inOrder ? java.util.stream.IntStream.range(0, n).toArray() : byScore;
            if ((c == 1 || c == 3) && m - n < 7) {
                // the tie run at rank n may go on past the candidates, which then hold an arbitrary part of
                // it (so they would for the host): the engine fetches a pooling window more than n for this
                continue;
            }
            assertArrayEquals(expected, Arrays.copyOfRange(d.slots(), c * n, (c + 1) * n), "column " + c);
            assertArrayEquals(byScore, Arrays.copyOfRange(d.byScore(), c * n, (c + 1) * n), "column " + c + " by score");
            assertEquals(inOrder ? 1f : 0f, d.positionOrder()[c], "column " + c);
        }
    }

    /**
     * Ordering the ties gathers once: on a GPU each gather of m x rows single values is m x rows
     * thread blocks (ggml-cuda's get_rows), which cost more than a sort of the same values.
     */
    /**
     * A refresh whose layers' logits sit in one batch (flash attention's, on the suite's CUDA build)
     * normalises and aggregates them once for all layers: the batch's scores are each layer's own
     * softmax and aggregation, column for column, so the selection is the same.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(org.rbench.core.attention.GqaAggregation.class)
    void aScoreBatchOfAllLayersEqualsEachLayersOwnScores(org.rbench.core.attention.GqaAggregation aggregation) {
        int rows = 64;
        int heads = 4;
        int kvHeads = 2;
        int layers = 3;
        TopRows request = new TopRows(8, aggregation, 3, 1);
        float[] logits = new float[rows * heads * layers];
        Random random = new Random(7);
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) random.nextGaussian() * 3;
        }
        try (GgmlContext data = GgmlContext.forMetadata(2, 0)) {
            Tensor batch = data.newTensor(GgmlType.F32, rows, 1, heads, layers);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(256, 256);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                batch.setFloats(logits);
                ComputeGraph graph = ctx.newGraph(256);
                // each layer's own: its slot's softmax, aggregated, copied into the batch
                TopRowsSelection.Batch perLayer = new TopRowsSelection.Batch(ctx, graph::expand, rows, kvHeads, layers);
                for (int l = 0; l < layers; l++) {
                    Tensor slot = ctx.view(batch, new long[] {rows, 1, heads}, new long[] {batch.nb(1), batch.nb(2)}, l * batch.nb(3));
                    perLayer.add(TopRowsSelection.aggregated(ctx, ctx.softMaxExt(ctx.cont(slot), null, 1f, 0f), request, heads,
                            kvHeads));
                }
                // all layers at once
                Tensor probs = ctx.softMaxExt(ctx.reshape(batch, rows, 1, (long) heads * layers), null, 1f, 0f);
                TopRowsSelection.Batch whole = TopRowsSelection.Batch.of(ctx,
                        TopRowsSelection.aggregated(ctx, probs, request, heads * layers, kvHeads * layers), kvHeads, layers);
                TopRowsSelection.Result a = perLayer.select(request.candidates(rows), TopRowsSelection.Method.TOP_K, null, request);
                TopRowsSelection.Result b = whole.select(request.candidates(rows), TopRowsSelection.Method.TOP_K, null, request);
                Tensor[] outs = {ctx.cont(a.scores()).output(), ctx.cont(b.scores()).output(), ctx.cont(a.positions()).output(),
                        ctx.cont(b.positions()).output()};
                for (Tensor t : outs) {
                    graph.expand(t);
                }
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                assertArrayEquals(outs[0].getFloats(), outs[1].getFloats());
                int m = request.candidates(rows);
                TopRowsSelection.Candidates ca = new TopRowsSelection.Candidates(outs[2].getInts(), outs[0].getFloats(), m);
                TopRowsSelection.Candidates cb = new TopRowsSelection.Candidates(outs[3].getInts(), outs[1].getFloats(), m);
                for (int row = 0; row < kvHeads * layers; row++) {
                    assertArrayEquals(ca.ordered(row, m, request.k()), cb.ordered(row, m, request.k()), "KV head row " + row);
                }
            }
        }
    }

    /**
     * A batch whose mask is 0 outside its last rows (a decode step's padding, PlanGraph#causalMaskTail) adds
     * it to those rows alone, in the pooled scores' memory: the same candidates and scores as the mask added
     * to every row, and the only add in the graph is as long as the tail. Masked rows straddle the pooling
     * window's reach, so a row the pool filled from a valid neighbour must still lose.
     */
    @Test
    void aMaskAddedToItsTailAloneSelectsAsTheWholeMask() {
        int rows = 96;
        int tail = 32;
        int valid = 80; // rows 80..95 are padding: masked, and pooled from rows 77..79
        int kvHeads = 2;
        int layers = 3;
        TopRows request = new TopRows(10, org.rbench.core.attention.GqaAggregation.MAX, 7);
        int m = request.candidates(valid);
        float[] values = new float[rows * kvHeads * layers];
        Random random = new Random(13);
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat();
        }
        for (int c = 0; c < kvHeads * layers; c++) {
            values[c * rows + valid - 1] = 5f; // the highest score at the last valid row: the pool spreads it into padding
        }
        float[] mask = new float[rows];
        Arrays.fill(mask, valid, rows, Float.NEGATIVE_INFINITY);
        try (GgmlContext data = GgmlContext.forMetadata(2, 0)) {
            Tensor all = data.newTensor(GgmlType.F32, rows, (long) kvHeads * layers);
            Tensor maskTensor = data.newTensor(GgmlType.F16, rows, 1);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(64, 64);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                all.setFloats(values);
                maskTensor.setHalfs(mask);
                ComputeGraph graph = ctx.newGraph(64);
                TopRowsSelection.Result whole = TopRowsSelection.Batch.of(ctx, all, kvHeads, layers)
                        .candidates(m, maskTensor, request);
                TopRowsSelection.Result tailOnly = TopRowsSelection.Batch.of(ctx, all, kvHeads, layers)
                        .maskOnlyTail(tail, graph::expand).candidates(m, maskTensor, request);
                Tensor[] outs = {ctx.cont(whole.positions()).output(), ctx.cont(whole.scores()).output(),
                        ctx.cont(tailOnly.positions()).output(), ctx.cont(tailOnly.scores()).output()};
                for (Tensor t : outs) {
                    graph.expand(t);
                }
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                TopRowsSelection.Candidates a = new TopRowsSelection.Candidates(outs[0].getInts(), outs[1].getFloats(), m);
                TopRowsSelection.Candidates b = new TopRowsSelection.Candidates(outs[2].getInts(), outs[3].getFloats(), m);
                for (int row = 0; row < kvHeads * layers; row++) {
                    int[] expected = a.ordered(row, m, request.k());
                    assertArrayEquals(expected, b.ordered(row, m, request.k()), "KV head row " + row);
                    assertTrue(Arrays.stream(expected).allMatch(p -> p < valid), "row " + row + " selected padding: "
                            + Arrays.toString(expected));
                }
                List<long[]> adds = new ArrayList<>();
                for (int i = 0; i < graph.nodeCount(); i++) {
                    if (graph.node(i).opName().equals("ADD")) {
                        adds.add(graph.node(i).shape());
                    }
                }
                assertEquals(2, adds.size(), "one add for the whole mask, one for its tail");
                assertTrue(adds.stream().anyMatch(sh -> sh[0] == tail), "the tail's add covers " + tail + " rows: "
                        + adds.stream().map(Arrays::toString).toList());
            }
        }
    }

    /**
     * A refresh's batch (flash attention's logits of every layer, as RefreshPlan.Selection#finish selects them)
     * puts its softmax, the plane's reshape, the group's max pool and the window's max pool one after another in
     * the graph, the group's pool read by the window's alone: the four nodes the suite's CUDA build runs as one
     * kernel (native/patches/ggml-cuda-split-soft-max.diff, ggml_cuda_should_fuse_soft_max_group_max_pool).
     */
    @Test
    void aRefreshBatchsSoftmaxAndPoolsComeInTheOrderTheGpuFuses() {
        int rows = 512;
        int heads = 4;
        int kvHeads = 2;
        int layers = 3;
        TopRows request = new TopRows(16, org.rbench.core.attention.GqaAggregation.MAX, 7);
        try (GgmlContext ctx = GgmlContext.forMetadata(128, 128)) {
            Tensor scoreBatch = ctx.newTensor(GgmlType.F32, rows, 1, heads, layers);
            Tensor mask = ctx.newTensor(GgmlType.F16, rows, 1);
            ComputeGraph graph = ctx.newGraph(128);
            Tensor probs = org.rbench.core.engine.AttentionMath.scoreBatchSoftmax(ctx, scoreBatch);
            TopRowsSelection.Result r = TopRowsSelection.Batch.of(ctx,
                            TopRowsSelection.aggregated(ctx, probs, request, heads * layers, kvHeads * layers), kvHeads, layers)
                    .maskOnlyTail(64, graph::expand).candidates(request.candidates(rows), mask, request);
            graph.expand(r.positions());
            graph.expand(r.scores());
            List<String> ops = new ArrayList<>();
            for (int i = 0; i < graph.nodeCount(); i++) {
                ops.add(graph.node(i).opName());
            }
            int at = ops.indexOf("SOFT_MAX");
            assertTrue(at >= 0, "no softmax in " + ops);
            assertEquals(List.of("SOFT_MAX", "RESHAPE", "POOL_2D", "POOL_2D"), ops.subList(at, Math.min(ops.size(), at + 4)),
                    "the batch's nodes: " + ops);
            Tensor window = graph.node(at + 3);
            assertEquals(graph.node(at), graph.node(at + 1).source(0), "the reshape is the softmax's");
            assertEquals(graph.node(at + 1), graph.node(at + 2).source(0), "the group's pool reads the reshape");
            assertEquals(graph.node(at + 2), window.source(0), "the window pools the group's maxima");
            int readers = 0;
            for (int i = 0; i < graph.nodeCount(); i++) {
                for (int j = 0; j < 10; j++) { // GGML_MAX_SRC
                    readers += graph.node(at + 2).equals(graph.node(i).source(j)) ? 1 : 0;
                }
            }
            assertEquals(1, readers, "the group's maxima are read by the window's pool alone");
            assertEquals(rows, window.ne(0), "as many positions out as in (a symmetric window)");
        }
    }

    /**
     * The slots sort the candidates (m a row) three times, not four (the candidates need no sort by score first); twice
     * where the sort is stable (by position, then by descending score); once where top_k's n come in column order.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"THREE_SORTS, 27, 3", "TWO_STABLE_SORTS, 27, 2", "ONE_STABLE_SORT, 20, 1"})
    void slotsSortTheCandidatesAsFewTimesAsTheTieOrderAllows(TopRowsSelection.TieOrder how, int m, int expected) {
        try (GgmlContext ctx = GgmlContext.forMetadata(128, 64)) {
            Tensor positions = ctx.newTensor(GgmlType.I32, 1, m, COLUMNS);
            Tensor scores = ctx.newTensor(GgmlType.F32, 1, m, COLUMNS);
            ComputeGraph graph = ctx.newGraph(128);
            TopRowsSelection.Slots s = TopRowsSelection.slots(ctx, new TopRowsSelection.Result(positions, scores), 20, how);
            graph.expand(s.positions());
            graph.expand(s.positionOrder());
            graph.expand(s.byScore());
            int sorts = 0;
            for (int i = 0; i < graph.nodeCount(); i++) {
                if (graph.node(i).opName().equals("ARGSORT")) {
                    sorts++;
                    assertEquals(m, graph.node(i).ne(0), "a sort of the candidates, m a row");
                }
            }
            assertEquals(expected, sorts, "sorts in the tie ordering");
        }
    }

    @Test
    void sortsOnlyTheCandidatesNotTheWholeRow() {
        float[] scores = new float[ROWS * COLUMNS];
        Random random = new Random(3);
        for (int i = 0; i < scores.length; i++) {
            scores[i] = random.nextFloat();
        }
        int m = 12;
        Selected s = select(scores, m);
        assertTrue(s.ops().contains("TOP_K"), "the candidates come from ggml_top_k: " + s.ops());
        for (long[] shape : s.sortShapes()) {
            assertTrue(shape[0] <= m, "a sort of " + shape[0] + " entries per row, more than the " + m + " candidates");
        }
    }

    /**
     * Every column's first m candidates equal the host's ranking (score descending, ties by
     * position) once ties are put in position order, as the refresh does: distinct scores,
     * max-pooled plateaus that straddle the cut, and a masked (-inf) tail.
     */
    @Test
    void candidatesAreTheTopOnesInDescendingOrder() {
        Random random = new Random(11);
        float[] scores = new float[ROWS * COLUMNS];
        for (int c = 0; c < COLUMNS; c++) {
            float[] column = new float[ROWS];
            for (int i = 0; i < ROWS; i++) {
                column[i] = random.nextFloat();
            }
            if (c % 2 == 1) {
                column = ScoreSelection.maxPool(column, 7); // plateaus of equal scores
            }
            if (c == 3) {
                Arrays.fill(column, ROWS - 40, ROWS, Float.NEGATIVE_INFINITY); // padding past the valid rows
            }
            System.arraycopy(column, 0, scores, c * ROWS, ROWS);
        }
        int k = 20;
        int m = k + 7;
        Selected s = select(scores, m);
        for (int c = 0; c < COLUMNS; c++) {
            float[] column = Arrays.copyOfRange(scores, c * ROWS, (c + 1) * ROWS);
            int[] expected = ScoreSelection.topKByScore(column, k);
            for (int i = 1; i < m; i++) {
                assertTrue(s.scores()[c * m + i] <= s.scores()[c * m + i - 1], "column " + c + ": scores not descending at " + i);
            }
            for (int i = 0; i < m; i++) {
                assertEquals(column[s.positions()[c * m + i]], s.scores()[c * m + i], "column " + c + " candidate " + i);
            }
            assertArrayEquals(expected, ScoreSelection.orderTies(s.positions(), s.scores(), c * m, m, k), "column " + c);
        }
    }
}
