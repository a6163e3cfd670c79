package org.rbench.core.engine;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.Strategies;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Steps queued ahead ({@link Decoder#greedyAfterEach}: planned and launched before the step before
 * is read, as on a GPU) compute what steps one at a time compute: each step's greedy token, the
 * logits of the step after the run and the step count are the same, for policies that plan
 * ahead, one that does not, and steps whose plans read back (refreshes covering the context,
 * layer-by-layer checks) or hand their result on at the launch (refreshes past K rows).
 */
class QueuedStepsTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 13;
    private static final int[] PROMPT_TOKENS = IntStream.range(0, PROMPT).map(i -> (i * 37 + 11) % 512).toArray();
    private static final int[] STEP_TOKENS = IntStream.range(0, STEPS).map(i -> (i * 53 + 5) % 512).toArray();

    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    /** Full attention, planned the same way but not declared safe to plan ahead. */
    private static final class FullNotAhead implements AttentionPolicy {
        @Override
        public String name() {
            return "full-not-ahead";
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            return AttentionPlan.full();
        }
    }

    private record Run(int[] tokens, float[] after, int steps, int queuedAhead, int timed) {
    }

    private static Run decode(Engine engine, String method, boolean queued) {
        engine.reset();
        AttentionPolicy policy = method.equals("full-not-ahead") ? new FullNotAhead()
                : Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
        PrefillResult p = engine.prefill(PROMPT_TOKENS, policy.prefillRequest(), false);
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            int[] tokens;
            if (queued) {
                tokens = d.greedyAfterEach(STEP_TOKENS);
            } else {
                tokens = Arrays.stream(STEP_TOKENS).map(d::stepGreedyInGraph).toArray();
            }
            int timed = d.timings().steps();
            float[] after = d.step(STEP_TOKENS[0]);
            return new Run(tokens, after, d.steps(), d.stepsQueuedAhead(), timed);
        }
    }

    private record Generated(int[] tokens, int handed, int steps, int queuedAhead) {
    }

    /** Greedy generation from the prompt's pick, {@code fed}: on the device and queued ahead (else one step at a time). */
    private static Generated generate(Engine engine, String method, boolean fed, int stopAfter) {
        engine.reset();
        AttentionPolicy policy = method.equals("full-not-ahead") ? new FullNotAhead()
                : Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
        PrefillResult p = engine.prefill(PROMPT_TOKENS, policy.prefillRequest(), false);
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            int first = Greedy.argmax(p.lastLogits());
            java.util.List<Integer> got = new java.util.ArrayList<>();
            java.util.function.IntPredicate accept = t -> {
                got.add(t);
                return got.size() < stopAfter;
            };
            int handed = fed ? d.generateFed(first, STEPS, accept) : d.generateGreedy(first, STEPS, accept);
            return new Generated(got.stream().mapToInt(Integer::intValue).toArray(), handed, d.steps(), d.stepsQueuedAhead());
        }
    }

    /**
     * A generation fed on the device, each step queued before the host reads the token it feeds,
     * hands on the tokens of one fed step by step; stopped early, it has computed at most one step
     * past the stop.
     */
    @ParameterizedTest
    @CsvSource({
            "full",
            "full-not-ahead",
            "'recycled:k=16,s=4'",
            "'recycled-dynamic:k=8,qc=4,threshold=0.99'",
            "'recycled-dynamic:k=8,qc=2,threshold=0.99,decide=device'"})
    void aGenerationFedOnTheDeviceHandsOnTheTokensOfOneFedByTheHost(String method) {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            Generated host = generate(engine, method, false, Integer.MAX_VALUE);
            Generated fed = generate(engine, method, true, Integer.MAX_VALUE);
            assertArrayEquals(host.tokens(), fed.tokens(), method);
            assertEquals(STEPS, fed.handed());
            assertEquals(STEPS, fed.steps());
            assertEquals(0, host.queuedAhead(), "the CPU's generateGreedy waits for every pick");
            assertEquals(!method.equals("full-not-ahead"), fed.queuedAhead() > 0, method + ": " + fed.queuedAhead() + " queued");
            assertTrue(IntStream.of(host.tokens()).distinct().count() > 1, "the generation moves: " + Arrays.toString(host.tokens()));
            Generated stopped = generate(engine, method, true, 5);
            assertArrayEquals(Arrays.copyOf(host.tokens(), 5), stopped.tokens(), method + ": stopped at the fifth");
            assertEquals(5, stopped.handed());
            assertTrue(stopped.steps() == 5 || stopped.steps() == 6, method + ": at most one step past the stop, "
                    + stopped.steps());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "full, true",
            "full-not-ahead, false",
            "'recycled:k=16,s=4', true",
            "'recycled:k=46,s=4', true",
            "'recycled-dynamic:k=8,qc=4,threshold=0.99', true",
            "'recycled-dynamic:k=8,qc=2,threshold=0.99,decide=device', true"})
    void queuedStepsComputeWhatStepsOneAtATimeDo(String method, boolean overlaps) {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            Run one = decode(engine, method, false);
            Run queued = decode(engine, method, true);
            assertArrayEquals(one.tokens(), queued.tokens(), method + ": each step's greedy token");
            assertArrayEquals(one.after(), queued.after(), method + ": the logits of the step after the run");
            assertEquals(STEPS + 1, queued.steps());
            assertEquals(STEPS, queued.timed(), "every queued step is timed once");
            assertEquals(0, one.queuedAhead());
            if (overlaps) {
                assertTrue(queued.queuedAhead() > 0, method + " queues steps ahead: " + queued.queuedAhead());
                assertTrue(queued.queuedAhead() < STEPS, method + " waits at least for the first step's graph build");
            } else {
                assertEquals(0, queued.queuedAhead(), method + " does not plan ahead: each step waits");
            }
            assertTrue(IntStream.of(one.tokens()).distinct().count() > 1, "the steps differ: " + Arrays.toString(one.tokens()));
        }
    }
    /**
     * A refresh that selects fewer rows than the context holds (K past the prompt) reads nothing back: the device Cp
     * is told its slots are by score when the step is launched, and the step after it queues behind it, so that a
     * step waits only to build a graph (a refresh that reads back makes the step after it wait).
     */
    @Test
    void aRefreshPastKRowsLetsTheNextStepQueue() {
        String method = "recycled:k=16,s=4";
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            engine.reset();
            AttentionPolicy policy = Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
            PrefillResult p = engine.prefill(PROMPT_TOKENS, policy.prefillRequest(), false);
            try (Decoder d = engine.decoder(policy, p.statistics())) {
                d.greedyAfterEach(STEP_TOKENS);
                // the first step has none before it to queue behind; every other waits only where it builds a graph
                int waited = STEPS - 1 - d.stepsQueuedAhead();
                assertEquals(d.graphsBuilt() - 1, waited, method + ": steps that waited, all but the first to build a graph");
            }
        }
    }
}
