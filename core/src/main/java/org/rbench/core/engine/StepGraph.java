package org.rbench.core.engine;

import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One graph being built: a fresh metadata-only ggml context (cheap to make), the graph,
 * and the graph inputs with the code that fills them once the allocator has given them
 * memory. Inputs are created here so that none can be forgotten between allocation and
 * compute.
 */
final class StepGraph implements AutoCloseable {
    final GgmlContext ctx;
    final ComputeGraph graph;
    private final List<Runnable> fillers = new ArrayList<>();

    /**
     * ggml aborts when a metadata pool runs out, and ops do not check it, so the pool is
     * sized from an upper bound of the tensors the caller will create.
     */
    final int maxTensors;

    StepGraph(int maxTensors) {
        this.maxTensors = maxTensors;
        ctx = GgmlContext.forMetadata(maxTensors, maxTensors);
        graph = ctx.newGraph(maxTensors);
    }

    /** A graph input; {@code filler} writes its data after allocation. */
    Tensor input(String name, GgmlType type, Consumer<Tensor> filler, long... ne) {
        Tensor t = ctx.newTensor(type, ne).name(name).input();
        fillers.add(() -> {
            // An input no node ended up reading gets no memory from the allocator: skip it.
            if (t.hasBuffer()) {
                filler.accept(t);
            }
        });
        return t;
    }

    /**
     * Work to do before each compute, with the inputs: writing data the graph reads from
     * memory it does not own (a view of a persistent tensor).
     */
    void beforeCompute(Runnable r) {
        fillers.add(r);
    }

    /** Tensors created in this graph's context so far. */
    int tensorCount() {
        int n = 0;
        for (java.lang.foreign.MemorySegment t = org.rbench.llamacpp.Ggml.ggml_get_first_tensor(ctx.address());
             !t.equals(java.lang.foreign.MemorySegment.NULL); t = org.rbench.llamacpp.Ggml.ggml_get_next_tensor(ctx.address(), t)) {
            n++;
        }
        return n;
    }

    void expand(Tensor t) {
        graph.expand(t);
    }

    void fillInputs() {
        for (Runnable r : fillers) {
            r.run();
        }
    }

    @Override
    public void close() {
        ctx.close();
    }
}
