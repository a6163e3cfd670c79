package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Attention-mass recall and top-K overlap, measured against a shadow full attention. */
class MassRecallDiagnosticsTest {
    private static final int PROMPT = 60;
    private static final int STEPS = 8;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    private static double[] diagnose(String spec) {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            AttentionPolicy policy = Strategies.create(spec, MODEL.weights().hyperParameters(), PROMPT);
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = e.decoder(policy, p.statistics()).withDiagnostics()) {
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                return new double[] {d.meanMassRecall(), d.meanTopKOverlap()};
            } finally {
                policy.close();
            }
        }
    }

    @Test
    void fullAndCoveringBudgetsRecallEverything() {
        for (String spec : new String[] {"full", "recycled:k=128,s=4", "h2o:k=128", "streamingllm:k=128"}) {
            double[] r = diagnose(spec);
            assertEquals(1.0, r[0], 1e-4, spec + " recall");
            assertEquals(1.0, r[1], 1e-9, spec + " overlap");
        }
    }

    @Test
    void smallBudgetsRecallPartOfTheMass() {
        for (String spec : new String[] {"recycled:k=8,s=50", "h2o:k=8", "streamingllm:k=8", "streamingllm:k=8,positions=original"}) {
            double[] r = diagnose(spec);
            assertTrue(r[0] > 0 && r[0] < 0.999, spec + " recall " + r[0]);
            assertTrue(r[1] >= 0 && r[1] <= 1, spec + " overlap " + r[1]);
        }
    }

    /** H2O's device decisions attend the same rows as the host's: the same recall and overlap. */
    @Test
    void h2oDecidingOnTheDeviceRecallsWhatTheHostDoes() {
        double[] host = diagnose("h2o:k=8,decide=host");
        double[] device = diagnose("h2o:k=8,decide=device");
        assertTrue(host[0] < 0.999, "a budget of 8 misses some mass: " + host[0]);
        assertEquals(host[0], device[0], 1e-5, "recall");
        assertEquals(host[1], device[1], 1e-9, "overlap");
    }
}
