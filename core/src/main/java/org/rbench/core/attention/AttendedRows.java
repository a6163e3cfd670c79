package org.rbench.core.attention;

import org.rbench.llamacpp.Tensor;

/**
 * The rows a layer attends, as a plan's piece built them: keys and values
 * {@code [headDim, rows, kvHeads]} (a view of a cache, or rows gathered from it) and the KQ
 * mask over them, or null when every row counts.
 *
 * <p>A piece whose choice between two reads is made on the device (a decision the host learns
 * only after the compute) returns {@link #or}: both reads are attended and the step keeps one
 * output, so the next layer reads the chosen one without a host round trip.
 *
 * @param otherwise the other read, or null; see {@link #or}
 * @param choice    with {@code otherwise}: take this read's output, or leave it for {@code otherwise}'s
 */
public record AttendedRows(Tensor keys, Tensor values, Tensor mask, AttendedRows otherwise, Choice choice) {
    public AttendedRows {
        java.util.Objects.requireNonNull(keys, "keys");
        java.util.Objects.requireNonNull(values, "values");
        if (keys.ne(1) != values.ne(1)) {
            throw new IllegalArgumentException(keys.ne(1) + " key rows but " + values.ne(1) + " value rows");
        }
        if ((otherwise == null) != (choice == null)) {
            throw new IllegalArgumentException("a choice between two reads needs both the other read and the choice");
        }
        if (otherwise != null && otherwise.otherwise() != null) {
            throw new IllegalArgumentException("a choice is between two plain reads");
        }
    }

    public AttendedRows(Tensor keys, Tensor values, Tensor mask) {
        this(keys, values, mask, null, null);
    }

    /**
     * Both reads attended, the output {@code take · attention(this) + leave · attention(otherwise)}:
     * one read's output bit for bit. The probabilities a piece or a read-back asks for are this read's.
     */
    public AttendedRows or(AttendedRows otherwise, Choice choice) {
        if (this.otherwise != null) {
            throw new IllegalStateException("this read already has an alternative");
        }
        return new AttendedRows(keys, values, mask, otherwise, choice);
    }

    /** Rows attended per KV head (by this read; an alternative's are its own). */
    public int rows() {
        return (int) keys.ne(1);
    }
}
