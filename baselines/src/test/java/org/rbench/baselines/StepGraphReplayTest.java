package org.rbench.baselines;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A step graph that the engine computes again is the same graph to ggml-cuda: every node's struct, and every
 * source's data, shape and strides, as they were the last time a graph with that first node ran. ggml-cuda keys
 * its CUDA graphs by the first node and replays one only while those properties hold; one that changes is run
 * kernel by kernel, each launched from the host (about 700 launches a step at Llama-3.1-8B's shape). No CPU run
 * shows that cost, so this test pins the property it rests on, for every strategy whose steps reuse graphs. (A
 * graph freed and another made whose first node lands at the same address is a different graph: ggml-cuda warms
 * up again once; graphs are told apart here by identity.)
 */
class StepGraphReplayTest {
    private static final int PROMPT = 300;
    private static final int STEPS = 10;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    /** What ggml-cuda compares of a node (ggml_cuda_graph_update_required), as bytes. */
    private static List<byte[]> properties(ComputeGraph graph) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < graph.nodeCount(); i++) {
            Tensor node = graph.node(i);
            StringBuilder sources = new StringBuilder();
            for (int j = 0; j < Tensor.MAX_SOURCES; j++) {
                Tensor s = node.source(j);
                if (s != null) {
                    sources.append(j).append(':').append(s.data().address()).append(Arrays.toString(s.shape()))
                            .append(s.nb(0)).append(',').append(s.nb(1)).append(',').append(s.nb(2)).append(',').append(s.nb(3)).append(';');
                }
            }
            byte[] struct = node.address().reinterpret(Tensor.SIZE).toArray(ValueLayout.JAVA_BYTE);
            byte[] src = sources.toString().getBytes();
            byte[] both = Arrays.copyOf(struct, struct.length + src.length);
            System.arraycopy(src, 0, both, struct.length, src.length);
            out.add(both);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "recycled:k=64,s=3", "recycled:k=64,s=3,cp=inplace", "recycled-dynamic:k=64,qc=2",
            "streamingllm:k=64", "h2o:heavy=32,recent=32,decide=device", "quest:k=64,page=16,dense=0",
            "tidaldecode:k=64,select=0,reselect=1", "oracle:k=32"})
    void aStepGraphComputedAgainKeepsItsNodesProperties(String method) {
        Map<ComputeGraph, List<byte[]>> last = new IdentityHashMap<>();
        int[] again = {0};
        List<String> changed = new ArrayList<>();
        AttentionPolicy policy = Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(1024).withCacheType(GgmlType.F16)
                .withFlashAttention(true))) {
            engine.observeStepGraphs(g -> {
                List<byte[]> now = properties(g);
                List<byte[]> before = last.put(g, now);
                if (before == null) {
                    return;
                }
                again[0]++;
                if (before.size() != now.size()) {
                    changed.add("node count " + before.size() + " -> " + now.size());
                    return;
                }
                for (int i = 0; i < now.size(); i++) {
                    if (!Arrays.equals(before.get(i), now.get(i))) {
                        Tensor node = g.node(i);
                        changed.add(node.opName() + " '" + node.name() + "' at byte " + Arrays.mismatch(before.get(i), now.get(i)));
                    }
                }
            });
            PrefillResult p = engine.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = engine.decoder(policy, p.statistics())) {
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
            }
        } finally {
            policy.close();
        }
        assertTrue(again[0] > 0, method + ": no step graph was computed again in " + STEPS + " steps");
        assertEquals(List.of(), changed, method + ": nodes whose properties changed between two computes of one graph");
    }
}
