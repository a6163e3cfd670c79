package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullPlan;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.QueryVectors;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.SystemProperties;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.ModelSpec;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quest's semantics: the graph pieces on hand-made tensors (page bounds over a page's rows,
 * the score bound U = sum_i max(q_i M_i, q_i m_i) for query components of either sign, the
 * current page first and pages past it never, the page-row lookup), and on the engine every
 * selecting layer's pages against the host's choice from the same step's bounds and query,
 * the dense first layers full, and bounds kept up step by step equal to bounds computed
 * afresh from the cache.
 */
class QuestTest {
    private static final int PROMPT = 100;
    private static final int[] TOKENS = IntStream.range(0, 200).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel GQA = CpuModel.of(() -> TestModels.spec("tiny-llama-3-layers",
            ModelSpec.preset("tiny-llama", GgmlType.F32).withLayers(3))); // GQA 2:1
    @RegisterExtension
    static final CpuModel MHA = CpuModel.of(() -> TestModels.spec("tiny-llama-3-layers-mha",
            ModelSpec.preset("tiny-llama", GgmlType.F32).withLayers(3).withHeads(4, 4, 64)));

    // ---- graph pieces on hand-made tensors ----

    private static float key(int h, int r, int i) {
        return ((h * 31 + r * 7 + i * 13) % 11) - 5f;
    }

    @Test
    void pageBoundsAreEachPagesMaxAndMinOverItsRows() {
        int dim = 2;
        int page = 4;
        int rows = 8;
        int kvHeads = 2;
        float[] keys = new float[dim * rows * kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < dim; i++) {
                    keys[(h * rows + r) * dim + i] = key(h, r, i);
                }
            }
        }
        // per KV head and page: M above -m (2 dim values)
        float[] expected = new float[2 * dim * 2 * kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            for (int p = 0; p < 2; p++) {
                for (int i = 0; i < dim; i++) {
                    float hi = Float.NEGATIVE_INFINITY;
                    float lo = Float.POSITIVE_INFINITY;
                    for (int r = p * page; r < (p + 1) * page; r++) {
                        hi = Math.max(hi, key(h, r, i));
                        lo = Math.min(lo, key(h, r, i));
                    }
                    expected[(h * 2 + p) * 2 * dim + i] = hi;
                    expected[(h * 2 + p) * 2 * dim + dim + i] = -lo;
                }
            }
        }
        try (CpuGraph g = new CpuGraph(GQA.backend())) {
            Tensor k = g.floats(keys, dim, rows, kvHeads);
            // one page at a time (a completing step's form: its rows each gathered twice, times the signs, pooled)
            Tensor signs = g.floats(Quest.querySigns(dim, 2 * kvHeads), dim, 2, 2 * kvHeads);
            Tensor[] pagesTwice = new Tensor[2];
            for (int p = 0; p < 2; p++) {
                float[] twice = new float[dim * 2 * page * kvHeads];
                for (int h = 0; h < kvHeads; h++) {
                    for (int r = 0; r < 2 * page; r++) {
                        for (int i = 0; i < dim; i++) {
                            twice[(h * 2 * page + r) * dim + i] = key(h, p * page + r / 2, i);
                        }
                    }
                }
                pagesTwice[p] = g.floats(twice, dim, 2 * page, kvHeads);
            }
            float[] out = g.compute(ctx -> new Tensor[] {Quest.pageBounds(ctx, k, page)})[0];
            assertArrayEquals(expected, out, "M above -m");
            // gives the same bounds
            for (int p = 0; p < 2; p++) {
                Tensor rowsTwice = pagesTwice[p];
                float[] onePage = g.compute(ctx -> new Tensor[] {Quest.completedPageBounds(ctx, rowsTwice, signs, page)})[0];
                for (int h = 0; h < kvHeads; h++) {
                    for (int i = 0; i < 2 * dim; i++) {
                        assertEquals(expected[(h * 2 + p) * 2 * dim + i], onePage[h * 2 * dim + i], "page " + p + ", head " + h);
                    }
                }
            }
        }
    }

    /** A completed page's rows for the gather: each position twice in a row, per KV head, within the cache. */
    @Test
    void aCompletedPagesRowsComeEachTwicePerKvHead() {
        HyperParameters hp = GQA.weights().hyperParameters();
        int page = 4;
        int capacity = 40;
        try (Quest.Pages pages = new Quest.Pages(GQA.backend(), hp, 1, capacity, page, GqaChoice.MAX, GgmlType.F32, 1)) {
            int[] rows = pages.rowsTwice(3);
            int[] expected = new int[2 * page * hp.kvHeads()];
            for (int h = 0; h < hp.kvHeads(); h++) {
                for (int r = 0; r < 2 * page; r++) {
                    expected[h * 2 * page + r] = 3 * page + r / 2;
                }
            }
            assertArrayEquals(expected, rows);
            assertEquals(39, pages.rowsTwice(9)[2 * page - 1], "the last page's last row is the cache's last");
            assertThrows(IllegalArgumentException.class, () -> pages.rowsTwice(10), "past the cache's pages");
            assertThrows(IllegalArgumentException.class, () -> pages.rowsTwice(-1));
        }
    }

    @ParameterizedTest
    @EnumSource(GqaChoice.class)
    void pageScoresBoundEachProductByTheMatchingBound(GqaChoice gqa) {
        int dim = 3;
        int pages = 3;
        int kvHeads = 2;
        int heads = 4;
        int group = heads / kvHeads;
        float[] max = new float[dim * pages * kvHeads];
        float[] min = new float[max.length];
        for (int h = 0; h < kvHeads; h++) {
            for (int p = 0; p < pages; p++) {
                for (int i = 0; i < dim; i++) {
                    int at = (h * pages + p) * dim + i;
                    min[at] = key(h, p, i);
                    max[at] = min[at] + ((h + p + i) % 3) + (i == 1 ? 4 : 0);
                }
            }
        }
        // every query head has positive, negative and zero components
        float[][] q = {{1, -2, 0}, {-1, 3, 0.5f}, {0, -1, 2}, {-3, 0, -1}};
        float[] flatQ = new float[dim * heads];
        for (int h = 0; h < heads; h++) {
            System.arraycopy(q[h], 0, flatQ, h * dim, dim);
        }
        // U per query head: sum_i max(q_i M_i, q_i m_i)
        float[][] u = new float[heads][pages];
        for (int h = 0; h < heads; h++) {
            int kv = h / group;
            for (int p = 0; p < pages; p++) {
                for (int i = 0; i < dim; i++) {
                    int at = (kv * pages + p) * dim + i;
                    u[h][p] += Math.max(q[h][i] * max[at], q[h][i] * min[at]);
                }
            }
        }
        float[] expected;
        if (gqa == GqaChoice.QUERY) {
            expected = new float[pages * heads];
            for (int h = 0; h < heads; h++) {
                System.arraycopy(u[h], 0, expected, h * pages, pages);
            }
        } else {
            expected = new float[pages * kvHeads];
            for (int kv = 0; kv < kvHeads; kv++) {
                for (int p = 0; p < pages; p++) {
                    float a = u[kv * group][p];
                    float b = u[kv * group + 1][p];
                    expected[kv * pages + p] = gqa == GqaChoice.MAX ? Math.max(a, b) : (a + b) / 2;
                }
            }
        }
        // the device layout: M above -m per KV head and page
        float[] stacked = new float[2 * max.length];
        for (int at = 0; at < max.length / dim; at++) {
            for (int i = 0; i < dim; i++) {
                stacked[at * 2 * dim + i] = max[at * dim + i];
                stacked[at * 2 * dim + dim + i] = -min[at * dim + i];
            }
        }
        try (CpuGraph g = new CpuGraph(GQA.backend())) {
            Tensor bounds = g.floats(stacked, 2 * dim, pages, kvHeads);
            Tensor query = g.floats(flatQ, dim, heads, 1);
            Tensor signs = g.floats(Quest.querySigns(dim, heads), dim, 2, heads);
            float[] out = g.compute(ctx -> new Tensor[] {Quest.pageScores(ctx, bounds, query, signs, kvHeads, gqa)})[0];
            assertArrayEquals(expected, out, 1e-6f);
        }
        // one product by hand: q = (1, -2, 0), M = (2, 1, .), m = (-1, -3, .) gives 1*2 + (-2)(-3) = 8
        assertEquals(8f, Math.max(1 * 2f, 1 * -1f) + Math.max(-2 * 1f, -2 * -3f), 0f);
    }

    @Test
    void theCurrentPageComesFirstAndPagesPastItAreNeverChosen() {
        int pages = 5;
        // column 0: page 3 (current) scores lowest but comes first; page 4 (not begun) scores highest
        float[] scores = {5, 1, 3, 0, 9, /* column 1 */ 1, 7, 4, -10, 20};
        try (CpuGraph g = new CpuGraph(GQA.backend())) {
            Tensor s = g.floats(scores, pages, 2);
            Tensor mask = g.floats(Quest.pageMask(pages, 3), pages, 1);
            Tensor current = g.ints(new int[] {3, 3}, 1, 2);
            float[] out = g.compute(ctx -> new Tensor[] {Quest.topPages(ctx, s, mask, current, 3)})[0];
            assertEquals(3f, out[0]);
            assertEquals(3f, out[3]);
            // the others in no particular order: the best two before the current page
            float[] others0 = {out[1], out[2]};
            float[] others1 = {out[4], out[5]};
            Arrays.sort(others0);
            Arrays.sort(others1);
            assertArrayEquals(new float[] {0, 2}, others0);
            assertArrayEquals(new float[] {1, 2}, others1);
            // one page read: only the current one
            assertArrayEquals(new float[] {3, 3}, g.compute(ctx -> new Tensor[] {Quest.topPages(ctx, s, mask, current, 1)})[0]);
        }
    }

    @Test
    void aPagesRowsAreLookedUpPerColumn() {
        int page = 2;
        int pages = 3;
        int[] table = new int[page * pages * 2];
        for (int h = 0; h < 2; h++) {
            for (int r = 0; r < page * pages; r++) {
                table[h * page * pages + r] = 100 * h + r;
            }
        }
        try (CpuGraph g = new CpuGraph(GQA.backend())) {
            Tensor t = g.ints(table, page * pages, 2);
            Tensor top = g.ints(new int[] {2, 0, 1, 2}, 2, 2);
            float[] out = g.compute(ctx -> new Tensor[] {Quest.pageRows(ctx, t, top, page)})[0];
            assertArrayEquals(new float[] {4, 5, 0, 1, 102, 103, 104, 105}, out);
        }
    }

    @Test
    void theMaskStopsAtTheCurrentPage() {
        assertArrayEquals(new float[] {0, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, Quest.pageMask(3, 1));
    }

    // ---- the policy ----

    @Test
    void specsAreCheckedAndTheBudgetCountsPages() {
        HyperParameters hp = GQA.weights().hyperParameters();
        assertThrows(IllegalArgumentException.class, () -> Strategies.create("quest:k=8", hp, PROMPT)); // k < page
        assertThrows(IllegalArgumentException.class, () -> Strategies.create("quest:k=64,dense=3", hp, PROMPT));
        assertThrows(IllegalArgumentException.class, () -> Strategies.create("quest:k=64,gqa=first", hp, PROMPT));
        assertThrows(IllegalArgumentException.class, () -> Strategies.create("quest:k=64,sink=4", hp, PROMPT));
        Quest q = (Quest) Strategies.create("quest:k=50,dense=1", hp, PROMPT);
        assertEquals(3, q.pagesRead()); // 50 / 16 pages: the current one and 2 others
        assertTrue(!q.selects(47), "48 rows fit in 3 pages");
        assertTrue(!q.selects(49), "k = 50 covers 50 rows");
        assertTrue(q.selects(50), "51 rows in 4 pages");
        Quest defaults = (Quest) Strategies.create("quest", withLayers(hp, 32), PROMPT);
        assertEquals(256, defaults.pagesRead());
    }

    static HyperParameters withLayers(HyperParameters hp, int layers) {
        return new HyperParameters(hp.architecture(), hp.embedding(), layers, hp.heads(), hp.kvHeads(), hp.headDim(),
                hp.feedForward(), hp.contextLength(), hp.vocabSize(), hp.rmsEps(), hp.ropeTheta(), hp.ropeFreqScale(),
                hp.ropeOriginalContext(), hp.ropeFrequencyFactors());
    }

    /** Records the query of every selecting layer and checks its pages against the host's choice after each step. */
    private static final class Probe implements AttentionPolicy {
        final Quest quest;
        final int dense;
        final GqaChoice gqa;
        final AttentionPlan[] plans = new AttentionPlan[8];
        final QueryVectors[] queries = new QueryVectors[8];
        int checked;

        Probe(Quest quest, int dense, GqaChoice gqa) {
            this.quest = quest;
            this.dense = dense;
            this.gqa = gqa;
        }

        @Override
        public String name() {
            return "probe:" + quest.name();
        }

        @Override
        public void start(AttentionContext context, PrefillStatistics prefill) {
            quest.start(context, prefill);
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            AttentionPlan p = quest.plan(at);
            plans[at.layer()] = p;
            if (at.layer() < dense) {
                assertInstanceOf(FullPlan.class, p, "dense layer " + at.layer());
            } else {
                assertInstanceOf(Quest.Plan.class, p, "selecting layer " + at.layer());
            }
            return p instanceof Quest.Plan ? p.withQuery() : p;
        }

        @Override
        public void observe(LayerObservation o) {
            queries[o.layer()] = o.query();
        }

        @Override
        public void endStep(int step, int position, int token) {
            for (int l = dense; l < GQA.weights().hyperParameters().layers(); l++) {
                check(l, (Quest.Plan) plans[l], position);
            }
            quest.endStep(step, position, token);
        }

        private void check(int layer, Quest.Plan plan, int position) {
            HyperParameters hp = GQA.weights().hyperParameters();
            int page = 16;
            int current = position / page;
            int group = hp.heads() / hp.kvHeads();
            // the pages before the current one are complete and scored; the current page's bounds are
            // made when it completes (it is always read, and pages from it on are masked)
            float[][][][] bounds = quest.pages().bounds(layer, current + 1);
            float[] q = queries[layer].afterRope();
            double[][] u = new double[hp.heads()][current + 1];
            for (int h = 0; h < hp.heads(); h++) {
                for (int p = 0; p < current; p++) {
                    float[] max = bounds[0][h / group][p];
                    float[] min = bounds[1][h / group][p];
                    for (int i = 0; i < hp.headDim(); i++) {
                        assertTrue(max[i] >= min[i], "M >= m");
                        double qi = q[h * hp.headDim() + i];
                        u[h][p] += Math.max(qi * max[i], qi * min[i]);
                    }
                }
            }
            int[][] read = quest.pages().pagesRead(layer);
            assertEquals(gqa == GqaChoice.QUERY ? hp.heads() : hp.kvHeads(), read.length);
            for (int c = 0; c < read.length; c++) {
                double[] score = new double[current + 1];
                for (int p = 0; p <= current; p++) {
                    if (gqa == GqaChoice.QUERY) {
                        score[p] = u[c][p];
                    } else {
                        double a = u[c * group][p];
                        double b = u[c * group + 1][p];
                        score[p] = gqa == GqaChoice.MAX ? Math.max(a, b) : (a + b) / 2;
                    }
                }
                int[] pages = read[c];
                assertEquals(plan.pagesRead(), pages.length);
                assertEquals(current, pages[0], "the current page comes first");
                Set<Integer> chosen = new HashSet<>();
                for (int i = 1; i < pages.length; i++) {
                    assertTrue(pages[i] >= 0 && pages[i] < current, "page " + pages[i] + " exists and is not the current");
                    assertTrue(chosen.add(pages[i]), "page " + pages[i] + " read twice");
                }
                double worstChosen = chosen.stream().mapToDouble(p -> score[p]).min().orElseThrow();
                double bestLeft = IntStream.range(0, current).filter(p -> !chosen.contains(p)).mapToDouble(p -> score[p])
                        .max().orElse(Double.NEGATIVE_INFINITY);
                assertTrue(worstChosen >= bestLeft - 1e-4 * (1 + Math.abs(bestLeft)), "layer " + layer + " position " + position
                        + " column " + c + ": chose pages " + chosen + " (worst " + worstChosen + ") over one scoring " + bestLeft);
            }
            // what the plan reports: whole pages per KV head, the current page's valid rows
            for (int h = 0; h < hp.kvHeads(); h++) {
                int[] attended = plan.attendedPositions(h, position);
                for (int r = current * page; r <= position; r++) {
                    assertTrue(Arrays.binarySearch(attended, r) >= 0, "row " + r + " of the current page");
                }
                assertTrue(Arrays.stream(attended).allMatch(r -> r <= position));
            }
            assertEquals(plan.pagesRead() * page * (gqa == GqaChoice.QUERY ? group : 1), plan.rows(position));
            checked++;
        }

        @Override
        public void close() {
            quest.close();
        }
    }

    @ParameterizedTest
    @EnumSource(GqaChoice.class)
    void everyStepReadsTheCurrentPageAndTheBestBoundedOthers(GqaChoice gqa) {
        int steps = 20;
        Probe probe = new Probe((Quest) Strategies.create("quest:k=48,dense=1,gqa=" + gqa, GQA.weights().hyperParameters(), PROMPT),
                1, gqa);
        try (Engine engine = Engine.open(GQA.weights(), EngineOptions.defaults(256))) {
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            try (Decoder d = engine.decoder(probe, null).withDiagnostics()) {
                for (int s = 0; s < steps; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                assertTrue(d.meanMassRecall() > 0 && d.meanMassRecall() < 1, "recall " + d.meanMassRecall());
                assertEquals((PROMPT + 0.5 + steps / 2.0 + 2 * 48 * (gqa == GqaChoice.QUERY ? 2 : 1)) / 3,
                        d.meanAttendedRows(), 1e-9);
            }
        }
        assertEquals(steps * 2, probe.checked);
    }

    @Test
    void boundsKeptUpStepByStepEqualBoundsComputedFromTheCache() {
        HyperParameters hp = GQA.weights().hyperParameters();
        String spec = "quest:k=32,dense=1";
        int steps = 30; // the kept bounds start pages at 112 and 128
        try (Engine engine = Engine.open(GQA.weights(), EngineOptions.defaults(256))) {
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            Quest kept = (Quest) Strategies.create(spec, hp, PROMPT);
            Quest fresh = (Quest) Strategies.create(spec, hp, PROMPT);
            int position = PROMPT + steps;
            int token = TOKENS[position];
            try (Decoder a = engine.decoder(kept, null)) {
                for (int s = 0; s < steps; s++) {
                    a.step(TOKENS[PROMPT + s]);
                }
                try (KvSnapshot before = engine.snapshot()) {
                    a.step(token); // bounds updated page by page since step 0
                    engine.restore(before);
                    try (Decoder b = engine.decoder(fresh, null)) {
                        b.step(token); // bounds computed from the cache at its start
                        int pages = position / 16; // the complete ones: the current page's are made when it completes
                        assertSameBounds(fresh, kept, pages, hp);
                    }
                }
            }
        }
    }

    /**
     * The nodes a steady step (no page completes) adds to a full-attention step, per selecting layer: the query
     * stacked on its negation (a product by the signs, a relu), the page product, the GQA max, the page mask, the
     * top_k, the current page put first, and K and V's pages gathered. On a GPU each is a kernel a layer, so this
     * count is the step's fixed cost beside its reads; it pins it.
     */
    @Test
    void aSteadyStepAddsNineNodesASelectingLayer() {
        HyperParameters hp = GQA.weights().hyperParameters();
        int steps = 6; // positions 100..105: the page of 96..111 completes at none of them
        EngineOptions options = EngineOptions.defaults(256).withCacheType(GgmlType.F16).withFlashAttention(true);
        StepGraph full = lastStepGraph(options, "full", steps);
        StepGraph quest = lastStepGraph(options, "quest:k=48,dense=1", steps);
        java.util.Map<String, Integer> added = quest.opsBeyond(full);
        int selecting = hp.layers() - 1;
        assertEquals(java.util.Map.of("CONCAT", selecting, "GET_ROWS", 2 * selecting, "MUL", selecting, "MUL_MAT",
                selecting, "POOL_2D", selecting, "ADD", selecting, "TOP_K", selecting, "UNARY", selecting), added,
                "ops a steady Quest step adds to a full step's (" + selecting + " selecting layers)");
        // the GQA max pool, the page mask's add and the top_k in a row, each read by the next alone, what they read
        // kept to the graph's end: ggml-cuda runs the three as one kernel (native/patches/ggml-cuda-radix-top-k.diff)
        assertEquals(selecting, quest.fusableSelections(), "max pools, mask adds and top_ks ggml-cuda can run as one kernel");
        // and the concat that puts the current page first, next in order, the top_k's only reader: written by that
        // kernel too
        assertEquals(selecting, quest.fusableCurrentPages(), "concats of the current page ggml-cuda writes in the top_k");
        // the query's product by the signs read by its relu alone, next in order: one kernel on ggml-cuda
        // (native/patches/ggml-cuda-fuse-mul-relu.diff)
        assertEquals(selecting, quest.fusableQueryParts() - full.fusableQueryParts(),
                "products by the signs and relus ggml-cuda can run as one kernel");
    }

    /**
     * A prompt of whole pages: the start made the bounds of every page before the first step's, so that step (whose
     * new token starts a page) makes none again, and its graph is a steady step's. A later step that starts a page
     * does make the bounds of the page it completes.
     */
    @Test
    void theFirstStepAfterAPromptOfWholePagesMakesNoBoundsAgain() {
        StepGraph first = stepGraphAfterWholePages(1);
        StepGraph steady = stepGraphAfterWholePages(2);
        assertEquals(steady.ops(), first.ops(), "the first step after a prompt of whole pages is a steady step");
        StepGraph completing = stepGraphAfterWholePages(17); // its new token, at 112, starts a page
        assertEquals(steady.ops().getOrDefault("SET_ROWS", 0) + GQA.weights().hyperParameters().layers() - 1,
                completing.ops().getOrDefault("SET_ROWS", 0), "a step that completes a page writes its bounds in every selecting layer");
    }

    /**
     * {@code -Drbench.keepStartMemory=true} keeps the memory of the start's graph over the cache (Quest's bounds of
     * the prompt's pages) for the next start, and {@code false} frees it after each start: the same logits bit for
     * bit, through two decoders' starts on one engine.
     */
    @Test
    void keepingTheStartsMemoryChangesNoLogit() {
        EngineOptions options = EngineOptions.defaults(256).withCacheType(GgmlType.F32).withFlashAttention(false);
        HyperParameters hp = GQA.weights().hyperParameters();
        int steps = 20; // pages complete at 112 and 128
        float[][][] logits = new float[2][2 * steps][];
        SystemProperties.restoring("rbench.keepStartMemory", () -> {
            for (int keep = 0; keep < 2; keep++) {
                System.setProperty("rbench.keepStartMemory", Boolean.toString(keep == 1));
                try (Engine engine = Engine.open(GQA.weights(), options)) {
                    for (int d = 0; d < 2; d++) { // a second decoder's start, over a longer prompt, reuses the first's memory
                        int prompt = PROMPT + 24 * d;
                        engine.reset();
                        engine.prefill(Arrays.copyOf(TOKENS, prompt));
                        try (Decoder decoder = engine.decoder(Strategies.create("quest:k=32,dense=1", hp, prompt), null)) {
                            for (int s = 0; s < steps; s++) {
                                logits[keep][d * steps + s] = decoder.step(TOKENS[prompt + s]);
                            }
                        }
                    }
                }
            }
        });
        for (int s = 0; s < 2 * steps; s++) {
            assertArrayEquals(logits[0][s], logits[1][s], "step " + s);
        }
    }

    /**
     * A step that completes a page adds four nodes a selecting layer to a steady step's: the page's rows gathered
     * each twice (their indices uploaded, the same for every layer), their product by the signs (k above -k), the
     * max pool (M above -m) and the write into the bounds. On a GPU each is a kernel a layer, paid every 16 tokens.
     */
    @Test
    void aStepThatCompletesAPageAddsFourNodesASelectingLayer() {
        StepGraph steady = stepGraphAfterWholePages(2);
        StepGraph completing = stepGraphAfterWholePages(17); // its new token, at 112, starts a page
        java.util.Map<String, Integer> added = completing.opsBeyond(steady);
        int selecting = GQA.weights().hyperParameters().layers() - 1;
        assertEquals(java.util.Map.of("GET_ROWS", selecting, "MUL", selecting, "POOL_2D", selecting, "SET_ROWS", selecting),
                added, "ops a completing step adds to a steady step's (" + selecting + " selecting layers)");
    }

    /**
     * A step graph seen: the counts of its ops that compute, and its GQA max pools, mask adds and top_ks that
     * ggml-cuda can run as one kernel.
     */
    private record StepGraph(java.util.Map<String, Integer> ops, int fusableSelections, int fusableCurrentPages,
            int fusableQueryParts) {
        /** The nodes of {@code g} that read {@code t}. */
        private static int readers(ComputeGraph g, Tensor t) {
            int readers = 0;
            for (int i = 0; i < g.nodeCount(); i++) {
                for (int s = 0; s < Tensor.MAX_SOURCES; s++) {
                    Tensor source = g.node(i).source(s);
                    if (source != null && source.address().equals(t.address())) {
                        readers++;
                    }
                }
            }
            return readers;
        }

        /** Of each op, how many more this graph has than {@code base} (ops with as many left out). */
        java.util.Map<String, Integer> opsBeyond(StepGraph base) {
            java.util.Map<String, Integer> added = new java.util.TreeMap<>();
            for (String op : ops.keySet()) {
                int more = ops.get(op) - base.ops.getOrDefault(op, 0);
                if (more != 0) {
                    added.put(op, more);
                }
            }
            return added;
        }

        /** Ops that only relabel memory: no kernel of their own. */
        private static final Set<String> NO_KERNEL = Set.of("VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE");

        static StepGraph of(ComputeGraph g) {
            java.util.Map<String, Integer> ops = new java.util.TreeMap<>();
            for (int i = 0; i < g.nodeCount(); i++) {
                String op = g.node(i).opName();
                if (!NO_KERNEL.contains(op)) {
                    ops.merge(op, 1, Integer::sum);
                }
            }
            int fusable = 0;
            int currentPages = 0;
            for (int i = 0; i + 2 < g.nodeCount(); i++) {
                // a max pool read by the add alone, the add by the top_k alone, next in order; the pool's source and
                // the mask kept to the graph's end, the pool and the add intermediate
                Tensor pool = g.node(i);
                Tensor add = g.node(i + 1);
                Tensor topK = g.node(i + 2);
                Tensor read = pool.source(0);
                Tensor kept = read == null || read.viewSource() == null ? read : read.viewSource();
                if (pool.opName().equals("POOL_2D") && add.opName().equals("ADD") && topK.opName().equals("TOP_K")
                        && add.source(0).address().equals(pool.address())
                        && topK.source(0).address().equals(add.address()) && kept.isOutput()
                        && add.source(1).isOutput() && !pool.isOutput() && !add.isOutput()) {
                    fusable++;
                    Tensor concat = i + 3 < g.nodeCount() ? g.node(i + 3) : null;
                    if (concat != null && concat.opName().equals("CONCAT") && concat.source(1).address().equals(topK.address())
                            && !topK.isOutput() && readers(g, topK) == 1) {
                        currentPages++;
                    }
                }
            }
            // a MUL read by the UNARY next in order and by no other node, not an output
            int mulUnary = 0;
            for (int i = 0; i + 1 < g.nodeCount(); i++) {
                Tensor mul = g.node(i);
                Tensor unary = g.node(i + 1);
                if (mul.opName().equals("MUL") && unary.opName().equals("UNARY") && !mul.isOutput()
                        && unary.source(0).address().equals(mul.address()) && readers(g, mul) == 1) {
                    mulUnary++;
                }
            }
            return new StepGraph(ops, fusable, currentPages, mulUnary);
        }
    }

    /**
     * The graph of step {@code steps} of {@code quest:k=48,dense=1} after a prompt of six whole pages of 16 (F16 cache,
     * flash attention): step 1 follows the start, step 17's new token (at 112) starts a page.
     */
    private static StepGraph stepGraphAfterWholePages(int steps) {
        EngineOptions options = EngineOptions.defaults(256).withCacheType(GgmlType.F16).withFlashAttention(true);
        return lastStepGraph(options, "quest:k=48,dense=1", 96, steps);
    }

    /** The graph of the last of {@code steps} decode steps. */
    private static StepGraph lastStepGraph(EngineOptions options, String method, int steps) {
        return lastStepGraph(options, method, PROMPT, steps);
    }

    /** The graph of the last of {@code steps} decode steps after a prompt of {@code prompt} tokens. */
    private static StepGraph lastStepGraph(EngineOptions options, String method, int prompt, int steps) {
        StepGraph[] seen = new StepGraph[1];
        AttentionPolicy policy = Strategies.create(method, GQA.weights().hyperParameters(), prompt);
        try (Engine engine = Engine.open(GQA.weights(), options)) {
            engine.prefill(Arrays.copyOf(TOKENS, prompt));
            try (Decoder d = engine.decoder(policy, null)) {
                for (int s = 0; s < steps - 1; s++) {
                    d.step(TOKENS[prompt + s]);
                }
                engine.observeStepGraphs(g -> seen[0] = StepGraph.of(g));
                d.step(TOKENS[prompt + steps - 1]);
            } finally {
                engine.observeStepGraphs(null);
            }
        } finally {
            policy.close();
        }
        return seen[0];
    }

    /**
     * Over an F16 cache, bounds kept in F16 ({@code bounds=f16}) are the F32 bounds bit for bit: the
     * maximum and minimum of F16 keys are F16 values. A step then reads half the bytes for them.
     * {@code auto} keeps F32 on the CPU, whose score product would round the query to F16.
     */
    @Test
    void f16BoundsAreTheF32BoundsOverAnF16Cache() {
        HyperParameters hp = GQA.weights().hyperParameters();
        int steps = 30;
        int pages = (PROMPT + steps) / 16; // the complete ones
        String[] types = {"f32", "f16", "auto"};
        float[][][][][] bounds = new float[types.length][][][][];
        double[] extra = new double[types.length];
        for (int i = 0; i < types.length; i++) {
            Quest quest = (Quest) Strategies.create("quest:k=32,dense=1,bounds=" + types[i], hp, PROMPT);
            try (Engine engine = Engine.open(GQA.weights(), EngineOptions.defaults(256))) {
                engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
                try (Decoder d = engine.decoder(quest, null)) {
                    for (int s = 0; s < steps; s++) {
                        d.step(TOKENS[PROMPT + s]);
                    }
                    GgmlType expected = types[i].equals("f16") ? GgmlType.F16 : GgmlType.F32;
                    assertEquals(expected, quest.pages().bounds(1).type(), types[i] + " on the CPU");
                    bounds[i] = quest.pages().bounds(1, pages);
                    extra[i] = d.meanExtraBytes();
                }
            }
        }
        for (int which = 0; which < 2; which++) {
            for (int h = 0; h < hp.kvHeads(); h++) {
                for (int p = 0; p < pages; p++) {
                    assertArrayEquals(bounds[0][which][h][p], bounds[1][which][h][p], (which == 0 ? "M" : "m") + " of KV head "
                            + h + " page " + p);
                }
            }
        }
        assertTrue(extra[1] < extra[0], "F16 bounds count fewer bytes: " + extra[1] + " against " + extra[0]);
        assertEquals(extra[0], extra[2], 1e-9, "auto is F32 here");
    }

    /**
     * A GPU step scores its pages rounded up to whole blocks of 64 (ggml-cuda's tensor-core product
     * takes bounds of a multiple of 32 pages; others went to cuBLAS). The bounds hold the cache's
     * pages rounded up to whole blocks, so a step at the cache's end scores whole blocks too.
     */
    @Test
    void scoredPagesAreRoundedUpToWholeBlocks() {
        int block = Quest.GPU_SCORED_PAGE_BLOCK;
        // `bench --ctx 32768 --tokens 50`: a cache of 33,024 rows, 2,064 pages of 16, not a multiple of 32
        int bounded = Quest.boundPages(2064, block);
        assertEquals(2112, bounded);
        assertEquals(2112, Quest.scoredPages(33024, 16, bounded, block), "the last key rows score whole blocks");
        assertEquals(2048, Quest.scoredPages(32768, 16, bounded, block));
        assertEquals(8192, Quest.scoredPages(131072, 16, Quest.boundPages(8208, block), block));
        assertEquals(2064, Quest.scoredPages(33024, 16, Quest.boundPages(2064, 1), 1), "the CPU scores the pages the rows reach");
        assertEquals(22, Quest.scoredPages(256, 12, 100, 1), "a partial page is scored (and masked)");
        assertEquals(2064, Quest.boundPages(2064, 1));
    }

    /** The GPU pads, the CPU does not; RBENCH_QUEST_SCORED_PAGE_BLOCK (here its property) sets either, for A/Bs. */
    @Test
    void theScoredPageBlockIsTheBackendsUnlessSet() {
        SystemProperties.restoring("rbench.questScoredPageBlock", () -> {
            System.clearProperty("rbench.questScoredPageBlock");
            if (System.getenv("RBENCH_QUEST_SCORED_PAGE_BLOCK") == null) {
                assertEquals(Quest.GPU_SCORED_PAGE_BLOCK, Quest.defaultScoredPageBlock(true));
                assertEquals(1, Quest.defaultScoredPageBlock(false));
            }
            System.setProperty("rbench.questScoredPageBlock", "1");
            assertEquals(1, Quest.defaultScoredPageBlock(true));
            System.setProperty("rbench.questScoredPageBlock", "32");
            assertEquals(32, Quest.defaultScoredPageBlock(false));
            for (String bad : new String[] {"0", "-4", "many", "4097"}) {
                System.setProperty("rbench.questScoredPageBlock", bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Quest.defaultScoredPageBlock(true));
                assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            }
        });
    }

    /**
     * Scoring pages past those the graph's rows reach (masked, as every page from the current one
     * on) changes nothing: the same pages are read and the logits are equal bit for bit, through the
     * step that first outgrows the budget (its graph makes every page's bounds, the padding's too)
     * and the steps that complete a page.
     */
    @ParameterizedTest
    @CsvSource({"1024, 40", "256, 40"}) // 256 key rows reach 16 pages: padded within the cache's 64, or past its 16
    void paddedScoredPagesChooseTheSamePages(int cacheRows, int block) {
        HyperParameters hp = GQA.weights().hyperParameters();
        int steps = 30; // selection starts at position 112 (k=112: 7 pages); pages complete at 112 and 128
        EngineOptions options = EngineOptions.defaults(cacheRows).withCacheType(GgmlType.F32).withFlashAttention(false);
        float[][][] logits = new float[2][steps][];
        int[][][] read = new int[2][][];
        int[] blocks = {1, block};
        for (int b = 0; b < 2; b++) {
            Quest quest = new Quest(112, 16, 1, GqaChoice.MAX, Quest.Bounds.F32, blocks[b], "quest:k=112,dense=1");
            try (Engine engine = Engine.open(GQA.weights(), options)) {
                engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
                try (Decoder d = engine.decoder(quest, null)) {
                    for (int s = 0; s < steps; s++) {
                        logits[b][s] = d.step(TOKENS[PROMPT + s]);
                    }
                    assertEquals(Quest.boundPages(cacheRows / 16, blocks[b]), quest.pages().bounds(2).ne(1), "bound pages");
                    read[b] = new int[hp.kvHeads()][];
                    for (int h = 0; h < hp.kvHeads(); h++) {
                        read[b][h] = quest.pages().attended(2, h, PROMPT + steps - 1);
                    }
                }
            }
        }
        for (int s = 0; s < steps; s++) {
            assertArrayEquals(logits[0][s], logits[1][s], "step " + s);
        }
        for (int h = 0; h < hp.kvHeads(); h++) {
            assertArrayEquals(read[0][h], read[1][h], "rows KV head " + h + " read");
        }
    }

    /** The first {@code pages} pages' bounds (M and m) of every selecting layer (dense=1) are equal, bit for bit. */
    private static void assertSameBounds(Quest expected, Quest actual, int pages, HyperParameters hp) {
        for (int l = 1; l < hp.layers(); l++) {
            float[][][][] x = expected.pages().bounds(l, pages);
            float[][][][] y = actual.pages().bounds(l, pages);
            for (int which = 0; which < 2; which++) {
                for (int h = 0; h < hp.kvHeads(); h++) {
                    for (int p = 0; p < pages; p++) {
                        assertArrayEquals(x[which][h][p], y[which][h][p],
                                "layer " + l + (which == 0 ? " M" : " m") + " KV head " + h + " page " + p);
                    }
                }
            }
        }
    }

    /**
     * A context that outgrows the budget while decoding gets its pages' bounds in that step's
     * graph; one that starts past the budget, at the policy's start (as the reference makes them
     * in its prefill). Both hold the same bounds.
     */
    @Test
    void boundsMadeWhenDecodingOutgrowsTheBudgetEqualThoseMadeAtTheStart() {
        HyperParameters hp = GQA.weights().hyperParameters();
        String spec = "quest:k=112,dense=1"; // 7 pages: selection starts at position 112
        try (Engine engine = Engine.open(GQA.weights(), EngineOptions.defaults(256))) {
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            Quest grown = (Quest) Strategies.create(spec, hp, PROMPT);
            Quest started = (Quest) Strategies.create(spec, hp, PROMPT);
            try (Decoder a = engine.decoder(grown, null)) {
                for (int s = 0; s < 12; s++) {
                    a.step(TOKENS[PROMPT + s]);
                    assertFalse(grown.selects(PROMPT + s), "position " + (PROMPT + s) + " is within the budget");
                }
                a.step(TOKENS[PROMPT + 12]); // position 112: the first selecting step makes the bounds
                assertTrue(grown.selects(PROMPT + 12));
                try (Decoder b = engine.decoder(started, null)) { // starts at 113: the start makes them
                    assertSameBounds(grown, started, 112 / 16, hp);
                    assertTrue(b.startNanos() > 0);
                }
            }
        }
    }

    /**
     * The start makes its bounds a chunk of pages at a time, so that its graph's memory stays small at any context:
     * chunks of 2 pages (pages 0-1, 2-3, 4-5, then 6 alone) and of 4 (0-3, then a short 4-6, whose complete pages
     * are compared) give the bounds one chunk gives, bit for bit.
     */
    @Test
    void theStartsBoundsMadeAChunkOfPagesAtATimeEqualThoseMadeAtOnce() {
        HyperParameters hp = GQA.weights().hyperParameters();
        String spec = "quest:k=32,dense=1";
        int prompt = PROMPT; // pages 0-5 complete, page 6 current: the start makes 7 pages' bounds
        for (int chunk : new int[] {2, 4}) {
            for (GgmlType cacheType : new GgmlType[] {GgmlType.F32, GgmlType.F16}) {
                EngineOptions options = EngineOptions.defaults(256).withCacheType(cacheType)
                        .withFlashAttention(cacheType == GgmlType.F16);
                try (Engine engine = Engine.open(GQA.weights(), options)) {
                    engine.prefill(Arrays.copyOf(TOKENS, prompt));
                    Quest whole = (Quest) Strategies.create(spec, hp, prompt);
                    Quest chunked = ((Quest) Strategies.create(spec, hp, prompt)).startChunkPages(chunk);
                    try (Decoder a = engine.decoder(whole, null);
                         Decoder b = engine.decoder(chunked, null)) { // open together: each has bounds of its own
                        assertNotSame(whole.pages(), chunked.pages());
                        assertSameBounds(whole, chunked, prompt / 16, hp);
                    }
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ((Quest) Strategies.create(spec, hp, prompt)).startChunkPages(0));
    }

    /** A chunk of the start keeps its F32 rows within 32 MiB, at least one page: 512 pages at Llama-3.1-8B shapes. */
    @Test
    void aChunkOfTheStartIsAsManyPagesAsFitItsBytes() {
        assertEquals(512, Quest.startChunkPages(16, 128, 8), "16 x 128 x 8 x 4 bytes a page");
        assertEquals(1024, Quest.startChunkPages(16, 64, 8));
        assertEquals(1, Quest.startChunkPages(1 << 20, 128, 8), "a page larger than a chunk is a chunk");
    }

    /**
     * The step's logits equal those of the same step with each selecting layer's pages' rows
     * gathered as host rows: the device reads exactly those rows, masking the current page's
     * rows past the new token (per query head through the flat row list with {@code gqa=query},
     * which without GQA is one query head per KV head). A cache of whole pages (256 rows) has its
     * pages gathered whole at page 16 (pages divide the 256-row cache), row by row at page 12.
     */
    @ParameterizedTest
    @CsvSource({"gqa, MAX, 16", "mha, QUERY, 16", "gqa, MAX, 12", "mha, QUERY, 12"})
    void aSelectingLayerAttendsExactlyTheChosenPagesRows(String heads, GqaChoice gqa, int page) {
        ModelWeights model = heads.equals("mha") ? MHA.weights() : GQA.weights();
        HyperParameters hp = model.hyperParameters();
        Quest quest = (Quest) Strategies.create("quest:k=48,dense=1,page=" + page + ",gqa=" + gqa, hp, PROMPT);
        EngineOptions options = EngineOptions.defaults(256).withCacheType(GgmlType.F32).withFlashAttention(false);
        int steps = 13; // the last step's current page holds 2 rows (112, 113)
        try (Engine engine = Engine.open(model, options)) {
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            try (Decoder d = engine.decoder(quest, null)) {
                for (int s = 0; s < steps; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                int position = PROMPT + steps;
                int token = TOKENS[position];
                try (KvSnapshot before = engine.snapshot()) {
                    float[] logits = d.step(token);
                    // the same step with each selecting layer's rows gathered as host rows
                    AttentionPlan[] plans = new AttentionPlan[hp.layers()];
                    plans[0] = AttentionPlan.full();
                    for (int l = 1; l < hp.layers(); l++) {
                        int perHead = (48 / page - 1) * page + position % page + 1;
                        int[] rows = new int[perHead * hp.kvHeads()];
                        for (int h = 0; h < hp.kvHeads(); h++) {
                            int[] attended = quest.pages().attended(l, h, position);
                            assertEquals(perHead, attended.length);
                            System.arraycopy(attended, 0, rows, h * perHead, perHead);
                        }
                        plans[l] = AttentionPlan.gather(perHead, rows);
                    }
                    engine.restore(before);
                    try (Decoder reference = engine.decoder(new TidalDecodeTest.Fixed(plans), null)) {
                        float[] expected = reference.step(token);
                        for (int i = 0; i < expected.length; i++) {
                            assertEquals(expected[i], logits[i], 1e-4f, "logit " + i);
                        }
                    }
                }
            }
        }
    }
}
