package org.rbench.baselines.example;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;


import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's device-side example runs on the engine and reads k rows a layer. */
class TopScoresTest {
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    private static float[][] decode(AttentionPolicy policy, Decoder[] keep) {
        int[] prompt = IntStream.range(0, 100).map(i -> (i * 37 + 11) % 512).toArray();
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(128).withCacheType(GgmlType.F32).withFlashAttention(false))) {
            PrefillResult p = e.prefill(prompt);
            float[][] logits = new float[8][];
            try (Decoder d = e.decoder(policy, p.statistics())) {
                int t = Greedy.argmax(p.lastLogits());
                for (int s = 0; s < logits.length; s++) {
                    logits[s] = d.step(t);
                    t = Greedy.argmax(logits[s]);
                }
                keep[0] = d;
            }
            return logits;
        }
    }

    @Test
    void attendsKRowsPerLayerAndCoversToFullAttention() {
        TopScores.Factory factory = new TopScores.Factory();
        Decoder[] d = new Decoder[1];
        decode(factory.create(MethodSpec.parse("top-scores:k=16"), MODEL.weights().hyperParameters(), 100), d);
        assertEquals(16.0, d[0].meanAttendedRows(), 0.0);
        assertEquals(0, d[0].fullSteps());
        float[][] covering = decode(factory.create(MethodSpec.parse("top-scores:k=1000"), MODEL.weights().hyperParameters(), 100), d);
        float[][] full = decode(new FullAttention(), d);
        for (int s = 0; s < full.length; s++) {
            assertArrayEquals(full[s], covering[s], 0f, "step " + s);
        }
        assertTrue(d[0].graphsBuilt() >= 1);
    }
}
