package org.rbench.core.engine;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a decode step's time goes, op by op, on any backend and without an external profiler:
 * while it is attached ({@link Engine#profileOps}), each step graph is computed one node at a
 * time, waiting for the backend after each, and every node's time is added to its op and name.
 * Such a step is slower than a real one (neighbouring ops are not fused, a GPU runs no CUDA
 * graph, and every node pays a launch and a wait): read the shares, not the speeds. Graphs a
 * policy computes outside the step graph (a host-path copy) are not seen.
 */
public final class OpProfiler implements AutoCloseable {
    /** Ops that compute nothing (a backend skips them). */
    private static final Set<String> FREE = Set.of("NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE");

    /** One op and tensor name in one step: its time and how many nodes it had. */
    public record Cost(String op, String name, long nanos, int nodes) {
    }

    private final GgmlContext ctx = GgmlContext.forMetadata(1, 1);
    private final ComputeGraph single = ctx.newGraph(1);
    private final List<List<Cost>> steps = new ArrayList<>();
    /** The step being profiled: per op and name family, {nanos, nodes}. */
    private Map<Family, long[]> current;

    private record Family(String op, String name) {
    }

    /** The graphs computed from here to {@link #endStep} belong to one step. */
    public void startStep() {
        if (current != null) {
            throw new IllegalStateException("a step is already started");
        }
        current = new LinkedHashMap<>();
    }

    public void endStep() {
        if (current == null) {
            throw new IllegalStateException("no step was started");
        }
        List<Cost> costs = new ArrayList<>();
        for (Map.Entry<Family, long[]> e : current.entrySet()) {
            costs.add(new Cost(e.getKey().op(), e.getKey().name(), e.getValue()[0], (int) e.getValue()[1]));
        }
        steps.add(List.copyOf(costs));
        current = null;
    }

    /** Every ended step's costs, in order. */
    public List<List<Cost>> steps() {
        return List.copyOf(steps);
    }

    /** Computes {@code graph} (allocated, inputs set) node by node, or whole outside a step. */
    void compute(Backend backend, ComputeGraph graph) {
        if (current == null) {
            backend.compute(graph);
            return;
        }
        int n = graph.nodeCount();
        for (int i = 0; i < n; i++) {
            Tensor node = graph.node(i);
            String op = node.opName();
            if (FREE.contains(op)) {
                continue;
            }
            single.holdOnly(node);
            long t0 = System.nanoTime();
            backend.compute(single); // ggml_backend_graph_compute waits for the backend
            long nanos = System.nanoTime() - t0;
            long[] c = current.computeIfAbsent(new Family(op, family(node.name())), k -> new long[2]);
            c[0] += nanos;
            c[1]++;
        }
    }

    /** A tensor name with its numbers (layer, head) made '#', so that one family sums over layers. */
    static String family(String name) {
        return name.replaceAll("[0-9]+", "#");
    }

    @Override
    public void close() {
        ctx.close();
    }
}
