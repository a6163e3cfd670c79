package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.ModelWeights;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * StreamingLLM with cache-index positions on a one-layer model, where a token's K/V depend
 * only on the token and its position: each decode step must equal full attention over
 * just the kept tokens, fed fresh in cache order (sinks, then the window, then the new token).
 */
class StreamingCachePositionsTest {
    @TempDir
    Path dir;

    /**
     * The start copies the window in runs of consecutive slots, at most two (the ring wraps once), each row
     * once and to its slot sink + row % window: whatever the window's phase.
     */
    @Test
    void theStartCopiesTheWindowInAtMostTwoRuns() {
        for (int window : new int[] {1, 2, 9, 4092}) {
            StreamingLlmCachePositions policy = new StreamingLlmCachePositions(4, window, "streamingllm");
            for (int position = 4 + window; position < 4 + 3 * window + 2; position++) {
                java.util.List<StreamingLlmCachePositions.WindowRun> runs = policy.windowRuns(position);
                assertTrue(runs.size() <= 2, runs.size() + " runs at position " + position + ", window " + window);
                int next = position - window + 1;
                for (StreamingLlmCachePositions.WindowRun run : runs) {
                    assertEquals(next, run.firstRow(), "runs in row order, none skipped");
                    for (int i = 0; i < run.rows(); i++) {
                        assertEquals(4 + (run.firstRow() + i) % window, run.firstSlot() + i, "row " + (run.firstRow() + i)
                                + "'s slot");
                    }
                    next += run.rows();
                }
                assertEquals(position, next, "every row of the window before the new token, window " + window);
            }
        }
    }

    @Test
    void eachStepEqualsFullAttentionOverTheKeptTokensAtTheirCacheIndices() throws Exception {
        LlamaCpp.initialise();
        Path file = dir.resolve("one-layer.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama3", GgmlType.F32).withLayers(1), file);
        int sink = 3, window = 9, prompt = 30, steps = 6;
        int[] tokens = IntStream.range(0, prompt + steps).map(i -> (i * 97 + 5) % 500 + 1).toArray();
        EngineOptions exact = EngineOptions.defaults(64).withCacheType(GgmlType.F32).withFlashAttention(false).withKvPadding(1);
        try (Backend backend = Backends.open("cpu", 1);
             ModelWeights weights = ModelWeights.load(file, backend);
             Engine engine = Engine.open(weights, exact);
             Engine reference = Engine.open(weights, exact)) {
            AttentionPolicy policy = Strategies.create("streamingllm:sink=" + sink + ",window=" + window,
                    weights.hyperParameters(), prompt);
            assertTrue(policy instanceof StreamingLlmCachePositions, "positions=cache is the default");
            PrefillResult p = engine.prefill(Arrays.copyOf(tokens, prompt), policy.prefillRequest(), false);
            try (Decoder d = engine.decoder(policy, p.statistics())) {
                for (int s = 0; s < steps; s++) {
                    int pos = prompt + s;
                    float[] mine = d.step(tokens[pos]);
                    // Kept: sinks [0, sink), window (pos - window, pos], in cache order.
                    int[] kept = new int[sink + window];
                    for (int i = 0; i < sink; i++) {
                        kept[i] = tokens[i];
                    }
                    for (int i = 0; i < window; i++) {
                        kept[sink + i] = tokens[pos - window + 1 + i];
                    }
                    reference.reset();
                    PrefillResult r = reference.prefill(Arrays.copyOf(kept, kept.length - 1));
                    float[] expected;
                    try (Decoder rd = reference.decoder(new FullAttention(), r.statistics())) {
                        expected = rd.step(kept[kept.length - 1]);
                    }
                    double max = 0;
                    for (int j = 0; j < mine.length; j++) {
                        max = Math.max(max, Math.abs(mine[j] - expected[j]));
                    }
                    assertTrue(max < 1e-3, "step " + s + ": max logit difference " + max);
                }
            }
            policy.close();
        }
    }
}
