package org.rbench.core.attention;

import org.rbench.llamacpp.Tensor;

/**
 * The rows a layer attends, as a plan's piece built them: keys and values
 * {@code [headDim, rows, kvHeads]} (a view of a cache, or rows gathered from it) and the KQ
 * mask over them, or null when every row counts.
 */
public record AttendedRows(Tensor keys, Tensor values, Tensor mask) {
    public AttendedRows {
        java.util.Objects.requireNonNull(keys, "keys");
        java.util.Objects.requireNonNull(values, "values");
        if (keys.ne(1) != values.ne(1)) {
            throw new IllegalArgumentException(keys.ne(1) + " key rows but " + values.ne(1) + " value rows");
        }
    }

    /** Rows attended per KV head. */
    public int rows() {
        return (int) keys.ne(1);
    }
}
