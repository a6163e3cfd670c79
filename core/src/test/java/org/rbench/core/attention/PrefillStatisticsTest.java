package org.rbench.core.attention;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Prefill statistics agree with what decoding the same tokens one by one observes. */
class PrefillStatisticsTest {
    private static final int L = 37;
    private static final int[] PROMPT = IntStream.range(0, L).map(i -> (i * 97 + 3) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-qwen2", GgmlType.F32);

    /** Small micro-batches and a tiny chunk budget so that batches and chunks are both exercised. */
    private static EngineOptions options(boolean flash) {
        return EngineOptions.defaults(64).withCacheType(GgmlType.F32).withFlashAttention(flash).withMicroBatch(8)
                .withStatisticsBudget(4 * 64 * 4 * 3);
    }

    /** Attention rows of each prompt token, observed by decoding the prompt one token at a time. */
    private static AttentionProbabilities[][] rowsByDecoding(boolean flash) {
        int layers = MODEL.weights().hyperParameters().layers();
        AttentionProbabilities[][] rows = new AttentionProbabilities[L][layers];
        try (Engine e = Engine.open(MODEL.weights(), options(flash))) {
            e.prefill(new int[] {PROMPT[0]});
            rows[0] = null;
            try (Decoder d = e.decoder(new AttentionPolicy() {
                @Override
                public String name() {
                    return "probe";
                }

                @Override
                public AttentionPlan plan(LayerStep at) {
                    return AttentionPlan.full().withProbabilities().withQuery();
                }

                @Override
                public void observe(LayerObservation o) {
                    rows[o.position()][o.layer()] = o.probabilities();
                }
            }, null)) {
                for (int i = 1; i < L; i++) {
                    d.step(PROMPT[i]);
                }
            }
        }
        return rows;
    }

    @Test
    void lastRowsMatchDecodingTheLastToken() {
        for (boolean flash : new boolean[] {false, true}) {
            AttentionProbabilities[][] decoded = rowsByDecoding(flash);
            try (Engine e = Engine.open(MODEL.weights(), options(flash))) {
                PrefillResult r = e.prefill(PROMPT, new PrefillRequest(3, false, false), false);
                for (int l = 0; l < MODEL.weights().hyperParameters().layers(); l++) {
                    AttentionProbabilities w = r.statistics().lastRows(l);
                    assertEquals(3, w.queries());
                    assertEquals(L, w.keys());
                    assertEquals(L - 3, w.firstQueryPosition());
                    for (int q = 0; q < 3; q++) {
                        int pos = L - 3 + q;
                        AttentionProbabilities want = decoded[pos][l];
                        for (int h = 0; h < w.heads(); h++) {
                            for (int k = 0; k < L; k++) {
                                float expected = k <= pos ? want.get(h, 0, k) : 0f;
                                assertEquals(expected, w.get(h, q, k), 1e-6, "layer " + l + " head " + h + " query " + pos + " key " + k);
                            }
                        }
                    }
                }
                assertNull(r.statistics().columnSums(0));
            }
        }
    }

    /** Window sums over a window that spans two micro-batches (of 8) equal the host's sums of the window's rows. */
    @Test
    void windowSumsAreTheSumOfTheWindowsRows() {
        int layers = MODEL.weights().hyperParameters().layers();
        int heads = MODEL.weights().hyperParameters().heads();
        int window = 11;
        for (boolean flash : new boolean[] {false, true}) {
            try (Engine e = Engine.open(MODEL.weights(), options(flash))) {
                PrefillResult r = e.prefill(PROMPT, new PrefillRequest(window, false, false, window), false);
                assertEquals(window, r.statistics().window());
                for (int l = 0; l < layers; l++) {
                    AttentionProbabilities rows = r.statistics().lastRows(l);
                    float[] sums = r.statistics().windowSums(l);
                    assertEquals(heads * L, sums.length);
                    for (int h = 0; h < heads; h++) {
                        for (int k = 0; k < L; k++) {
                            double s = 0;
                            for (int q = 0; q < window; q++) {
                                s += rows.get(h, q, k);
                            }
                            assertEquals(s, sums[h * L + k], 1e-5, "layer " + l + " head " + h + " key " + k);
                        }
                    }
                }
                PrefillResult none = e.prefill(new int[] {1}, PrefillRequest.NONE, false);
                assertNull(none.statistics().windowSums(0));
            }
        }
    }

    @Test
    void columnSumsAreTheSumOfAllRows() {
        int layers = MODEL.weights().hyperParameters().layers();
        int heads = MODEL.weights().hyperParameters().heads();
        for (boolean flash : new boolean[] {false, true}) {
            try (Engine e = Engine.open(MODEL.weights(), options(flash))) {
                PrefillResult r = e.prefill(PROMPT, new PrefillRequest(L, true, true), false);
                for (int l = 0; l < layers; l++) {
                    AttentionProbabilities all = r.statistics().lastRows(l);
                    float[] sums = r.statistics().columnSums(l);
                    assertEquals(heads * L, sums.length);
                    double total = 0;
                    for (int h = 0; h < heads; h++) {
                        for (int k = 0; k < L; k++) {
                            double s = 0;
                            for (int q = 0; q < L; q++) {
                                s += all.get(h, q, k);
                            }
                            assertEquals(s, sums[h * L + k], 1e-4, "layer " + l + " head " + h + " key " + k);
                            total += sums[h * L + k];
                        }
                    }
                    // Every query row sums to one.
                    assertEquals(heads * L, total, 1e-2);
                    QueryVectors q = r.statistics().lastQuery(l);
                    assertEquals(heads * MODEL.weights().hyperParameters().headDim(), q.afterRope().length);
                }
            }
        }
    }

    @Test
    void lastQueryEqualsTheDecodedQuery() {
        QueryVectors[] decoded = new QueryVectors[MODEL.weights().hyperParameters().layers()];
        try (Engine e = Engine.open(MODEL.weights(), options(true))) {
            e.prefill(Arrays.copyOf(PROMPT, L - 1));
            try (Decoder d = e.decoder(new AttentionPolicy() {
                @Override
                public String name() {
                    return "probe";
                }

                @Override
                public AttentionPlan plan(LayerStep at) {
                    return AttentionPlan.full().withQuery();
                }

                @Override
                public void observe(LayerObservation o) {
                    decoded[o.layer()] = o.query();
                }
            }, null)) {
                d.step(PROMPT[L - 1]);
            }
        }
        try (Engine e = Engine.open(MODEL.weights(), options(true))) {
            PrefillResult r = e.prefill(PROMPT, new PrefillRequest(0, false, true), false);
            for (int l = 0; l < decoded.length; l++) {
                float[] want = decoded[l].afterRope();
                float[] got = r.statistics().lastQuery(l).afterRope();
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-4);
                }
            }
        }
    }
}
