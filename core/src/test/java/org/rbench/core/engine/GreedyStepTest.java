package org.rbench.core.engine;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The greedy token picked in the step graph ({@link Decoder#stepGreedy} on a GPU) is the one
 * reading the logits back and taking {@link Greedy#argmax} gives, step for step, under
 * whole-step graphs and under a schedule that builds a step layer by layer (a query-similarity
 * check).
 */
class GreedyStepTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 12;
    private static final int[] PROMPT_TOKENS = IntStream.range(0, PROMPT).map(i -> (i * 37 + 11) % 512).toArray();

    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    /** A greedy decode from the prompt: each step feeds the token the previous one picked. */
    private static int[] decode(Engine engine, String method, boolean onDevice) {
        engine.reset();
        AttentionPolicy policy = Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
        PrefillResult p = engine.prefill(PROMPT_TOKENS, policy.prefillRequest(), false);
        int[] tokens = new int[STEPS];
        int next = Greedy.argmax(p.lastLogits());
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            for (int s = 0; s < STEPS; s++) {
                tokens[s] = next;
                next = onDevice ? d.stepGreedyInGraph(next) : Greedy.argmax(d.step(next));
            }
        }
        return tokens;
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "recycled:k=16,s=4", "recycled-dynamic:k=8,qc=2,threshold=0.99"})
    void theDevicesPickIsTheHostsArgmax(String method) {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            int[] host = decode(engine, method, false);
            int[] device = decode(engine, method, true);
            assertArrayEquals(host, device, method);
            assertTrue(IntStream.of(host).distinct().count() > 1, "the decode moves: " + Arrays.toString(host));
        }
    }

    /**
     * {@link Decoder#advance} computes the step as {@link Decoder#step} does, without reading its
     * logits: a decode that advances through some tokens then steps gives the logits of one that
     * stepped through all, and the step counts, under whole-step graphs and layer-by-layer checks.
     */
    @ParameterizedTest
    @ValueSource(strings = {"full", "recycled:k=16,s=4", "recycled-dynamic:k=8,qc=2,threshold=0.99"})
    void advancingComputesWhatSteppingDoes(String method) {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            float[][] last = new float[2][];
            int[] steps = new int[2];
            for (int run = 0; run < 2; run++) {
                engine.reset();
                AttentionPolicy policy = Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
                PrefillResult p = engine.prefill(PROMPT_TOKENS, policy.prefillRequest(), false);
                try (Decoder d = engine.decoder(policy, p.statistics())) {
                    for (int s = 0; s < STEPS - 1; s++) {
                        int token = PROMPT_TOKENS[s];
                        if (run == 0) {
                            d.step(token);
                        } else {
                            d.advance(token);
                        }
                    }
                    last[run] = d.step(PROMPT_TOKENS[STEPS - 1]);
                    steps[run] = d.steps();
                }
            }
            assertArrayEquals(last[0], last[1], method);
            assertArrayEquals(new int[] {STEPS, STEPS}, steps);
        }
    }
}
