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
class PassBuilderTest {
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-qwen3", GgmlType.F32);

    private static void assertWithinBudget(Engine e, Pass pass) {
        try (PassGraph g = PassBuilder.build(e.graphResources(), pass)) {
            int used = g.graph().tensorCount();
            assertTrue(used * 3 / 2 <= g.graph().maxTensors, used + " tensors used of a budget of " + g.graph().maxTensors);
        }
    }

    @Test
    void prefillWithEveryStatistic() {
        int layers = MODEL.weights().hyperParameters().layers();
        for (boolean flash : new boolean[] {true, false}) {
            try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(256).withFlashAttention(flash).withStatisticsBudget(4096))) {
                assertWithinBudget(e, Pass.prefill(new int[64], 100, Pass.Logits.ALL, layers, 0, true, 32, true));
            }
        }
    }

    /**
     * The layer's nodes in llama.cpp's order: Q, K and V, then the cache writes and attention.
     * In the other order a rope's kernel is followed at once by the cache write or by flash
     * attention, and on Hopper GPUs (ggml-cuda's programmatic dependent launch) the NEOX rope
     * of qwen2 and qwen3 then gives wrong results.
     */
    @Test
    void noRopeIsFollowedDirectlyByACacheWriteOrAttention() {
        int layers = MODEL.weights().hyperParameters().layers();
        for (int n : new int[] {1, 64}) {
            try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(256))) {
                try (PassGraph built = PassBuilder.build(e.graphResources(), Pass.prefill(new int[n], 100, Pass.Logits.LAST, layers, -1, false, -1, false))) {
                    StepGraph g = built.graph();
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
                    assertTrue(ropes == 2 * layers, ropes + " ropes in " + kernels);
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
                 CompactCache cache = e.attentionContext().newCompactCache(16)) {
                AttentionPlan[] variants = {
                        AttentionPlan.compact(cache, 3, 8).withProbabilities().withQuery(),
                        AttentionPlan.compact(cache, 3, 8).atPosition(5).withProbabilities().withQuery(),
                        AttentionPlan.gather(4, new int[4 * kvHeads]).withProbabilities().withQuery(),
                        AttentionPlan.ranges(new int[] {0, 10, 20, 30, 40}, new int[] {5, 15, 25, 35, 51}).withProbabilities().withQuery(),
                        AttentionPlan.full().withProbabilities().withQuery(),
                };
                for (AttentionPlan v : variants) {
                    AttentionPlan[] plans = new AttentionPlan[layers];
                    Arrays.fill(plans, v);
                    assertWithinBudget(e, Pass.step(1, 50, plans, true, Pass.Logits.LAST));
                }
            }
        }
    }
}
