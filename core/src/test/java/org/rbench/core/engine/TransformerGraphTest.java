package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ggml metadata pool that runs out aborts the JVM, so the graph's tensor budget must
 * bound the worst cases with room to spare (qwen3 has every optional tensor).
 */
class TransformerGraphTest {
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-qwen3", GgmlType.F32);

    private static void assertWithinBudget(TransformerGraph pass) {
        try (StepGraph g = pass.build()) {
            int used = g.tensorCount();
            assertTrue(used * 3 / 2 <= g.maxTensors, used + " tensors used of a budget of " + g.maxTensors);
        }
    }

    @Test
    void prefillWithEveryStatistic() {
        for (boolean flash : new boolean[] {true, false}) {
            try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(256).withFlashAttention(flash).withStatisticsBudget(4096))) {
                TransformerGraph pass = new TransformerGraph(e);
                pass.tokens = new int[64];
                pass.start = 100;
                pass.logits = TransformerGraph.Logits.ALL;
                pass.windowFrom = 0;
                pass.columnSums = true;
                pass.lastQuery = true;
                assertWithinBudget(pass);
            }
        }
    }

    /**
     * The layer's nodes in llama.cpp's order: Q, K and V, then the cache writes and attention.
     * In the other order a rope's kernel was followed at once by the cache write or by flash
     * attention, and on Hopper GPUs (ggml-cuda's programmatic dependent launch) the NEOX rope
     * of qwen2 and qwen3 then gave wrong results (session 6, H200).
     */
    @Test
    void noRopeIsFollowedDirectlyByACacheWriteOrAttention() {
        for (int n : new int[] {1, 64}) {
            try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(256))) {
                TransformerGraph pass = new TransformerGraph(e);
                pass.tokens = new int[n];
                pass.start = 100;
                pass.logits = TransformerGraph.Logits.LAST;
                try (StepGraph g = pass.build()) {
                    java.util.List<String> kernels = new java.util.ArrayList<>();
                    for (int i = 0; i < g.graph.nodeCount(); i++) {
                        String op = g.graph.node(i).opName();
                        if (!java.util.Set.of("RESHAPE", "VIEW", "PERMUTE", "TRANSPOSE", "NONE").contains(op)) {
                            kernels.add(op); // the nodes that launch work; views launch none
                        }
                    }
                    int ropes = 0;
                    for (int i = 0; i + 1 < kernels.size(); i++) {
                        if (kernels.get(i).equals("ROPE")) {
                            ropes++;
                            String next = kernels.get(i + 1);
                            assertTrue(!next.equals("SET_ROWS") && !next.equals("FLASH_ATTN_EXT"),
                                    "a rope followed by " + next + " at kernel " + (i + 1) + " of " + kernels);
                        }
                    }
                    assertTrue(ropes == 2 * MODEL.weights().hyperParameters().layers(), ropes + " ropes in " + kernels);
                }
            }
        }
    }

    @Test
    void decodeWithEveryPlanKindAndReadBack() {
        int layers = MODEL.weights().hyperParameters().layers();
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        for (boolean flash : new boolean[] {true, false}) {
            try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(256).withFlashAttention(flash));
                 CompactCache cache = e.newCompactCache(16)) {
                AttentionPlan[][] variants = {
                        {AttentionPlan.compact(cache, 3, 8).withProbabilities().withQuery()},
                        {AttentionPlan.gather(4, new int[4 * kvHeads]).withProbabilities().withQuery()},
                        {AttentionPlan.ranges(new int[] {0, 10, 20, 30, 40}, new int[] {5, 15, 25, 35, 51}).withProbabilities().withQuery()},
                        {AttentionPlan.full().withProbabilities().withQuery()},
                };
                for (AttentionPlan[] v : variants) {
                    AttentionPlan[] plans = new AttentionPlan[layers];
                    Arrays.fill(plans, v[0]);
                    TransformerGraph pass = new TransformerGraph(e);
                    pass.tokens = new int[] {1};
                    pass.start = 50;
                    pass.plans = plans;
                    pass.hiddenState = e.hiddenState();
                    assertWithinBudget(pass);
                }
            }
        }
    }
}
