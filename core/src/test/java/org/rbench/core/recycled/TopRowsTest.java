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
 * pooling, with padded and unpadded key rows, and with k beyond the rows that exist.
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
            return new RefreshPlan(request, (layer, rows) -> selected[layer] = rows).withProbabilities();
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
                int[] expected = ScoreSelection.topKByScore(ScoreSelection.maxPool(perKv[h], request.poolKernel()),
                        Math.min(request.k(), valid));
                assertArrayEquals(expected, selected[o.layer()][h], "layer " + o.layer() + " step " + o.step() + " KV head " + h);
            }
            compared.add(o.layer() + "/" + o.step());
            selected[o.layer()] = null;
        }
    }

    @ParameterizedTest
    @CsvSource({
            "MAX, 7, 8, 256", "MAX, 1, 8, 256", "FIRST, 7, 8, 256", "FIRST, 1, 5, 1", "MAX, 7, 5, 1",
            "MEAN, 1, 8, 256", "SUM, 7, 8, 1", "MAX, 7, 1000, 256", "FIRST, 3, 1000, 1"})
    void deviceSelectionEqualsHostSelection(GqaAggregation aggregation, int pool, int k, int padding) {
        EngineOptions options = EngineOptions.defaults(64).withCacheType(GgmlType.F32).withFlashAttention(false)
                .withKvPadding(padding);
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        Checker checker = new Checker(new TopRows(k, aggregation, pool), kvHeads);
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
}
