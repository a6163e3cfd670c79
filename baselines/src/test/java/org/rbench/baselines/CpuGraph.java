package org.rbench.baselines;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One small graph over hand-filled tensors, computed on a CPU backend: for tests of the graph
 * pieces strategies build into a step. Declare the inputs ({@link #floats}, {@link #ints}),
 * then {@link #compute} a piece built from them; results come back as floats (I32 converted).
 */
final class CpuGraph implements AutoCloseable {
    private final Backend backend;
    private final GgmlContext data = GgmlContext.forMetadata(64, 0);
    private final List<Runnable> fills = new ArrayList<>();
    private BackendBuffer buffer;

    CpuGraph(Backend backend) {
        this.backend = backend;
    }

    /** An F32 input {@code ne} filled with {@code values} (dimension 0 fastest). */
    Tensor floats(float[] values, long... ne) {
        requireBeforeCompute();
        Tensor t = data.newTensor(GgmlType.F32, ne);
        fills.add(() -> t.setFloats(values));
        return t;
    }

    /** An I32 input. */
    Tensor ints(int[] values, long... ne) {
        requireBeforeCompute();
        Tensor t = data.newTensor(GgmlType.I32, ne);
        fills.add(() -> t.setInts(values));
        return t;
    }

    /** Inputs live in one buffer, allocated and filled at the first compute: a later input would have no memory. */
    private void requireBeforeCompute() {
        if (buffer != null) {
            throw new IllegalStateException("declare a CpuGraph's inputs before its first compute");
        }
    }

    /** Builds the piece's outputs from the inputs, computes them and reads each back. */
    float[][] compute(Function<GgmlContext, Tensor[]> piece) {
        if (buffer == null) {
            buffer = BackendBuffer.allocate(data, backend);
            fills.forEach(Runnable::run);
        }
        try (GgmlContext ctx = GgmlContext.forMetadata(512, 512); GraphAllocator allocator = new GraphAllocator(backend)) {
            ComputeGraph graph = ctx.newGraph(512);
            Tensor[] outputs = piece.apply(ctx);
            for (int i = 0; i < outputs.length; i++) {
                outputs[i] = outputs[i].isContiguous() ? outputs[i] : ctx.cont(outputs[i]);
            }
            for (Tensor t : outputs) {
                graph.expand(t.output());
            }
            allocator.allocate(graph);
            backend.compute(graph);
            float[][] out = new float[outputs.length][];
            for (int i = 0; i < outputs.length; i++) {
                out[i] = outputs[i].getFloats(); // outputs must be contiguous
            }
            return out;
        }
    }

    @Override
    public void close() {
        if (buffer != null) {
            buffer.close();
        }
        data.close();
    }
}
