package org.rbench.core.attention;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

/**
 * Row indices kept on the device for GATHER plans: I32 {@code [rowsPerHead, kvHeads]}.
 * A policy that reuses a selection for many steps writes it once instead of every step.
 * Indices are checked against the cache size when written: ggml would abort on a bad one.
 */
public final class RowIndices implements AutoCloseable {
    private final GgmlContext context;
    private final BackendBuffer buffer;
    private final Tensor tensor;
    private final int rowsPerHead;
    private final int kvHeads;
    private final int bound;

    RowIndices(Backend backend, int rowsPerHead, int kvHeads, int bound) {
        if (rowsPerHead <= 0) {
            throw new IllegalArgumentException("rows per head must be positive, got " + rowsPerHead);
        }
        this.rowsPerHead = rowsPerHead;
        this.kvHeads = kvHeads;
        this.bound = bound;
        context = GgmlContext.forMetadata(1, 0);
        tensor = context.newTensor(GgmlType.I32, rowsPerHead, kvHeads).name("gather_rows");
        buffer = BackendBuffer.allocate(context, backend);
        buffer.clear(0);
    }

    public static RowIndices allocate(Backend backend, int rowsPerHead, int kvHeads, int cacheRows) {
        return new RowIndices(backend, rowsPerHead, kvHeads, cacheRows);
    }

    /** Sets the rows, head-major ({@code kvHeads} blocks of {@code rowsPerHead} positions). */
    public void write(int[] rows) {
        if (rows.length != rowsPerHead * kvHeads) {
            throw new IllegalArgumentException("expected " + rowsPerHead + " x " + kvHeads + " rows, got " + rows.length);
        }
        tensor.setIndices(rows, bound);
    }

    public int rowsPerHead() {
        return rowsPerHead;
    }

    public Tensor tensor() {
        return tensor;
    }

    @Override
    public void close() {
        buffer.close();
        context.close();
    }
}
