package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** StreamingLLM and H2O on the engine: equal to full attention when the budget covers the context. */
class BaselinePoliciesTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 10;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    private record Run(List<float[]> logits, AttentionPolicy policy) {
    }

    private static Run decode(Engine engine, Supplier<AttentionPolicy> make) {
        engine.reset();
        AttentionPolicy policy = make.get();
        PrefillResult p = engine.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
        List<float[]> out = new ArrayList<>();
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            for (int s = 0; s < STEPS; s++) {
                out.add(d.step(TOKENS[PROMPT + s]));
            }
        }
        return new Run(out, policy);
    }

    private static double maxDiff(List<float[]> a, List<float[]> b) {
        double m = 0;
        for (int s = 0; s < a.size(); s++) {
            for (int j = 0; j < a.get(s).length; j++) {
                m = Math.max(m, Math.abs(a.get(s)[j] - b.get(s)[j]));
            }
        }
        return m;
    }

    private static AttentionPolicy make(String spec) {
        return Strategies.create(spec, MODEL.weights().hyperParameters(), PROMPT);
    }

    private static EngineOptions exact() {
        return EngineOptions.defaults(128).withCacheType(GgmlType.F32).withFlashAttention(false).withKvPadding(1);
    }

    @Test
    void budgetsCoveringTheContextEqualFullAttention() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> full = decode(e, FullAttention::new).logits();
            for (String spec : List.of("streamingllm:sink=4,window=60", "streamingllm:sink=4,window=60,positions=original",
                    "h2o:heavy=32,recent=32", "h2o:k=64,gqa=max")) {
                double d = maxDiff(full, decode(e, () -> make(spec)).logits());
                assertTrue(d < 1e-4, spec + ": max logit difference " + d);
            }
        }
    }

    @Test
    void smallBudgetsAttendOnlyTheirRows() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> full = decode(e, FullAttention::new).logits();
            assertTrue(maxDiff(full, decode(e, () -> make("streamingllm:sink=4,window=8")).logits()) > 1e-3);
            assertTrue(maxDiff(full, decode(e, () -> make("streamingllm:sink=4,window=8,positions=original")).logits()) > 1e-3);
            Run h2o = decode(e, () -> make("h2o:heavy=6,recent=6"));
            assertTrue(maxDiff(full, h2o.logits()) > 1e-3);
            int[] kept = ((H2o) h2o.policy()).kept(0, 0);
            assertTrue(kept.length == 12, "kept " + Arrays.toString(kept));
            int last = PROMPT + STEPS - 1;
            assertArrayEquals(IntStream.rangeClosed(last - 5, last).toArray(), Arrays.copyOfRange(kept, 6, 12),
                    "the 6 newest are kept");
        }
    }

    /**
     * H2O's decisions made in the step's graph (HeavyHitterSlots) against the host's
     * (HeavyHitterCache), on the CPU: the same kept positions in every layer and KV head after
     * every step, and the same logits (to 1e-4 with an F32 cache; with F16 and flash attention
     * to the accumulation order's 1e-2, the probabilities then coming from the grouped softmax).
     */
    @Test
    void decisionsOnTheDeviceEqualTheHosts() {
        // the last: the probabilities from flash attention's logits, as on the suite's CUDA build
        for (EngineOptions options : List.of(exact(), EngineOptions.defaults(128),
                EngineOptions.defaults(128).withFlashScores(EngineOptions.FlashScores.EMULATED))) {
            for (String h2o : List.of("h2o:heavy=6,recent=6", "h2o:heavy=9,recent=3,gqa=mean")) {
                try (Engine e = Engine.open(MODEL.weights(), options)) {
                    Run host = decode(e, () -> make(h2o + ",decide=host"));
                    Run device = decode(e, () -> make(h2o + ",decide=device"));
                    H2o onHost = (H2o) host.policy();
                    H2o onDevice = (H2o) device.policy();
                    assertTrue(onDevice.decidesOnDevice() && !onHost.decidesOnDevice());
                    var hp = MODEL.weights().hyperParameters();
                    for (int l = 0; l < hp.layers(); l++) {
                        for (int h = 0; h < hp.kvHeads(); h++) {
                            assertArrayEquals(onHost.kept(l, h), onDevice.kept(l, h), h2o + " layer " + l + " KV head " + h);
                            // and what each has accumulated (the decisions alone hardly depend on it in 10 steps)
                            float[] hostScores = onHost.keptScores(l, h);
                            float[] deviceScores = onDevice.keptScores(l, h);
                            for (int i = 0; i < hostScores.length; i++) {
                                assertEquals(hostScores[i], deviceScores[i], 1e-3 * Math.max(1, Math.abs(hostScores[i])),
                                        h2o + " layer " + l + " KV head " + h + " score of kept row " + i);
                            }
                        }
                    }
                    // The device form attends its slots in slot order, the host form its rows in position
                    // order: equal in F32, while an F16 cache's flash attention accumulates V in F16,
                    // where the order shows at ~1e-3 (1.4e-3 here).
                    double d = maxDiff(host.logits(), device.logits());
                    double limit = options.cacheType() == GgmlType.F32 ? 1e-4 : 1e-2;
                    assertTrue(d < limit, h2o + " (" + options.cacheType() + " cache, flash " + options.flashAttention()
                            + "): max logit difference " + d);
                }
            }
        }
    }

    /**
     * The device form's slots live in compact caches of whole 256-row blocks, read padded and
     * masked as a full read is: CUDA's flash attention has its vector kernel and GQA grouping
     * only for such reads (a read of budget + 1 unmasked rows ran once per query head). The
     * padding changes nothing: decisionsOnTheDeviceEqualTheHosts holds with it.
     */
    @Test
    void slotsAreReadAsWholePaddedBlocks() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            e.reset();
            H2o policy = (H2o) make("h2o:heavy=6,recent=6,decide=device");
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = e.decoder(policy, p.statistics())) {
                for (int s = 0; s < 3; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                for (int l = 0; l < MODEL.weights().hyperParameters().layers(); l++) {
                    assertEquals(HeavyHitterSlots.ROW_BLOCK, policy.slotCacheRows(l), "layer " + l);
                }
            }
        }
        assertEquals(256, HeavyHitterSlots.cacheRowsFor(255));
        assertEquals(512, HeavyHitterSlots.cacheRowsFor(256));
        assertEquals(4352, HeavyHitterSlots.cacheRowsFor(4096));
    }

    @Test
    void decisionsOnTheDeviceNeedAFullBudgetAndASumOrMean() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            IllegalArgumentException shortPrompt = assertThrows(IllegalArgumentException.class,
                    () -> decode(e, () -> make("h2o:heavy=32,recent=32,decide=device")));
            assertTrue(shortPrompt.getMessage().contains("prompt of at least"), shortPrompt.getMessage());
            // auto on the CPU decides on the host
            Run auto = decode(e, () -> make("h2o:heavy=6,recent=6"));
            assertTrue(!((H2o) auto.policy()).decidesOnDevice());
        }
        assertThrows(IllegalArgumentException.class,
                () -> Strategies.forSpec(MethodSpec.parse("h2o:k=64,gqa=max,decide=device")).create(
                        MethodSpec.parse("h2o:k=64,gqa=max,decide=device"), MODEL.weights().hyperParameters(), PROMPT));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("h2o:k=64,decide=gpu")));
    }

    @Test
    void specsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("streamingllm:sink=4,window=10,k=20")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("streamingllm:positions=index")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("h2o:heavy=-1,recent=2")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("h2o:hevy=2")));
        assertTrue(Strategies.all().keySet().containsAll(List.of("full", "recycled", "recycled-dynamic", "streamingllm", "h2o", "oracle")));
    }
}
