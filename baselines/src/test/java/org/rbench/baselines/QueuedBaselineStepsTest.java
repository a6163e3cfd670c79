package org.rbench.baselines;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The baselines that plan ahead ({@code AttentionPolicy.plansAhead}) decode the same tokens with
 * steps queued ahead ({@link Decoder#greedyAfterEach}: each planned and launched before the step
 * before is read, as on a GPU) as one step at a time, and the policies that decide in the step
 * graph let steps queue: their selections are noted at launch, not read after the compute.
 */
class QueuedBaselineStepsTest {
    private static final int PROMPT = 300;
    private static final int STEPS = 12;
    private static final int[] PROMPT_TOKENS = IntStream.range(0, PROMPT).map(i -> (i * 131 + 7) % 512).toArray();
    private static final int[] STEP_TOKENS = IntStream.range(0, STEPS).map(i -> (i * 29 + 3) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    private record Run(int[] tokens, float[] after, int queuedAhead) {
    }

    private static Run decode(Engine engine, String method, boolean queued) {
        engine.reset();
        AttentionPolicy policy = Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
        PrefillResult p = engine.prefill(PROMPT_TOKENS, policy.prefillRequest(), false);
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            int[] tokens = queued ? d.greedyAfterEach(STEP_TOKENS)
                    : Arrays.stream(STEP_TOKENS).map(t -> Greedy.argmax(d.step(t))).toArray();
            return new Run(tokens, d.step(STEP_TOKENS[0]), d.stepsQueuedAhead());
        } finally {
            policy.close();
        }
    }

    @ParameterizedTest
    @CsvSource({
            "'quest:k=64,page=16,dense=0', true",
            "'quest:k=64,page=16,dense=0,gqa=query', true",
            "'tidaldecode:k=64,select=0,reselect=1', true",
            "'oracle:k=32', true",
            "'h2o:heavy=32,recent=32,decide=device', true",
            "'h2o:heavy=32,recent=32,decide=device,gqa=mean', true",
            "'streamingllm:k=305', true", // the window starts to slide mid-decode: endStep copies the kept rows then
            "'h2o:heavy=32,recent=32,decide=host', false", // observes every step's probabilities
            "'streamingllm:k=64', true",
            "'streamingllm:sink=0,window=64', true",
            "'streamingllm:k=64,positions=original', false", // its ranges move: a graph built every step, which waits
            "'snapkv:k=64,window=8', false"}) // grows its compact caches in endStep: does not plan ahead
    void queuedStepsDecodeWhatStepsOneAtATimeDo(String method, boolean queues) {
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(512))) {
            Run one = decode(engine, method, false);
            Run queued = decode(engine, method, true);
            assertArrayEquals(one.tokens(), queued.tokens(), method + ": each step's greedy token");
            assertArrayEquals(one.after(), queued.after(), method + ": the logits of the step after");
            if (queues) {
                assertTrue(queued.queuedAhead() > 0, method + " queues steps ahead");
            } else {
                assertEquals(0, queued.queuedAhead(), method + " waits for every step");
            }
        }
    }
}
