package org.rbench.core.recycled;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.ScoreSelection;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Rows selected on the device ({@link TopRows}) equal the host's selection
 * (RecycledCache#refresh's scoring) from the same step's probabilities: same positions, same
 * order (score descending, ties by position), for every aggregation, with and without
 * pooling, with windows that reach further forward or back than pool / 2, with padded and
 * unpadded key rows, and with k beyond the rows that exist.
 */
class TopRowsTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 6;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();

    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32); // GQA 2:1

    /** Asks for probabilities and top rows at every layer; compares them as they arrive. */
    private static final class Checker implements AttentionPolicy {
        final TopRows request;
        final int kvHeads;
        final List<String> compared = new ArrayList<>();
        final int[][][] selected = new int[64][][];

        Checker(TopRows request, int kvHeads) {
            this.request = request;
            this.kvHeads = kvHeads;
        }

        @Override
        public String name() {
            return "top-rows-check";
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            return new RefreshPlan(request, (layer, rows, validRows) -> selected[layer] = rows).withProbabilities();
        }

        @Override
        public void observe(LayerObservation o) {
            assertNotNull(selected[o.layer()], "top rows were asked for");
            AttentionProbabilities p = o.probabilities();
            int valid = o.position() + 1;
            float[][] rows = new float[p.heads()][];
            for (int h = 0; h < p.heads(); h++) {
                rows[h] = Arrays.copyOf(p.row(h, 0), valid);
            }
            // the host's selection: RecycledCache#refresh's scoring, in score order
            float[][] perKv = request.aggregation().aggregate(rows, kvHeads);
            for (int h = 0; h < kvHeads; h++) {
                int[] expected = ScoreSelection.topKByScore(ScoreSelection.maxPool(perKv[h], request.poolKernel() / 2, request.reach()),
                        Math.min(request.k(), valid));
                assertArrayEquals(expected, selected[o.layer()][h], "layer " + o.layer() + " step " + o.step() + " KV head " + h);
            }
            compared.add(o.layer() + "/" + o.step());
            selected[o.layer()] = null;
        }
    }

    @ParameterizedTest
    @CsvSource({
            "MAX, 7, 3, 8, 256", "MAX, 1, 0, 8, 256", "FIRST, 7, 3, 8, 256", "FIRST, 1, 0, 5, 1", "MAX, 7, 3, 5, 1",
            "MEAN, 1, 0, 8, 256", "SUM, 7, 3, 8, 1", "MAX, 7, 3, 1000, 256", "FIRST, 3, 1, 1000, 1",
            // windows that reach forward (or back) further than pool / 2
            "MAX, 7, 16, 8, 256", "MAX, 7, 16, 8, 1", "MAX, 1, 5, 6, 1", "FIRST, 3, 9, 1000, 256", "MEAN, 7, 0, 8, 1",
            "MAX, 1, 60, 8, 256"})
    void deviceSelectionEqualsHostSelection(GqaAggregation aggregation, int pool, int reach, int k, int padding) {
        EngineOptions options = EngineOptions.defaults(64).withCacheType(GgmlType.F32).withFlashAttention(false)
                .withKvPadding(padding);
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        Checker checker = new Checker(new TopRows(k, aggregation, pool, reach), kvHeads);
        try (Engine engine = Engine.open(MODEL.weights(), options)) {
            PrefillResult prefill = engine.prefill(Arrays.copyOf(TOKENS, PROMPT), PrefillRequest.NONE, false);
            try (Decoder d = engine.decoder(checker, prefill.statistics())) {
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
            }
        }
        assertEquals(STEPS * MODEL.weights().hyperParameters().layers(), checker.compared.size());
    }

    /**
     * The device's pooled scores spread a peak over exactly its window, [p - pool/2, p + reach]:
     * one query head, one peak at 9 of 40 rows, rows past 30 masked (padding).
     */
    @ParameterizedTest
    @CsvSource({"7, 3", "7, 16", "1, 8", "7, 0", "15, 7", "3, 40"})
    void deviceScoresSpreadAPeakOverItsWindow(int pool, int reach) {
        int rows = 40;
        int valid = 31;
        float[] probs = new float[rows];
        java.util.Arrays.fill(probs, 0, valid, 0.01f);
        probs[9] = 0.5f;
        float[] mask = new float[rows];
        java.util.Arrays.fill(mask, valid, rows, Float.NEGATIVE_INFINITY);
        float[] scores = deviceScores(probs, mask, new TopRows(4, GqaAggregation.MAX, pool, reach), 1, 1);
        for (int i = 0; i < rows; i++) {
            float want = i >= valid ? Float.NEGATIVE_INFINITY : i >= 9 - pool / 2 && i <= 9 + reach ? 0.5f : 0.01f;
            assertEquals(want, scores[i], "row " + i + " (pool " + pool + ", reach " + reach + ")");
        }
    }

    /**
     * With a query-head group, the device's scores are the host's (aggregate the group, then
     * max-pool the window) bit for bit, for every aggregation. Eight query heads on two KV heads,
     * random probabilities, rows past 50 padding.
     */
    @ParameterizedTest
    @CsvSource({"MAX, 7, 3", "MAX, 7, 9", "MAX, 1, 0", "MAX, 5, 0", "MEAN, 7, 3", "MEAN, 1, 0", "FIRST, 7, 5", "FIRST, 1, 0"})
    void deviceScoresOfAGroupEqualTheHosts(GqaAggregation aggregation, int pool, int reach) {
        int rows = 64;
        int valid = 50;
        int heads = 8;
        int kvHeads = 2;
        java.util.SplittableRandom random = new java.util.SplittableRandom(pool * 31L + reach);
        float[] probs = new float[rows * heads];
        float[][] host = new float[heads][valid];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < valid; i++) {
                probs[h * rows + i] = host[h][i] = (float) random.nextDouble();
            }
        }
        float[] mask = new float[rows];
        Arrays.fill(mask, valid, rows, Float.NEGATIVE_INFINITY);
        TopRows request = new TopRows(4, aggregation, pool, reach);
        float[] scores = deviceScores(probs, mask, request, heads, kvHeads);
        float[][] perKv = aggregation.aggregate(host, kvHeads);
        for (int h = 0; h < kvHeads; h++) {
            float[] want = request.pool(perKv[h]);
            for (int i = 0; i < rows; i++) {
                float expected = i < valid ? want[i] : Float.NEGATIVE_INFINITY;
                assertEquals(expected, scores[h * rows + i], aggregation + " KV head " + h + " row " + i);
            }
        }
    }

    /**
     * {@link TopRowsSelection#scores} computed on the test model's backend: {@code probs}
     * {@code [rows, 1, heads]} and {@code mask} {@code [rows]}; the scores {@code [rows, kvHeads]}.
     */
    private static float[] deviceScores(float[] probs, float[] mask, TopRows request, int heads, int kvHeads) {
        int rows = mask.length;
        try (org.rbench.llamacpp.GgmlContext data = org.rbench.llamacpp.GgmlContext.forMetadata(4, 0)) {
            org.rbench.llamacpp.Tensor p = data.newTensor(GgmlType.F32, rows, 1, heads);
            org.rbench.llamacpp.Tensor m = data.newTensor(GgmlType.F32, rows);
            try (org.rbench.llamacpp.BackendBuffer buffer = org.rbench.llamacpp.BackendBuffer.allocate(data, MODEL.backend());
                 org.rbench.llamacpp.GgmlContext ctx = org.rbench.llamacpp.GgmlContext.forMetadata(64, 64);
                 org.rbench.llamacpp.GraphAllocator allocator = new org.rbench.llamacpp.GraphAllocator(MODEL.backend())) {
                p.setFloats(probs);
                m.setFloats(mask);
                org.rbench.llamacpp.ComputeGraph graph = ctx.newGraph(64);
                org.rbench.llamacpp.Tensor out = ctx.cont(TopRowsSelection.scores(ctx, p, m, request, heads, kvHeads)).output();
                graph.expand(out);
                allocator.allocate(graph);
                MODEL.backend().compute(graph);
                assertEquals(rows, out.ne(0));
                assertEquals(kvHeads, out.ne(1));
                return out.getFloats();
            }
        }
    }
}
