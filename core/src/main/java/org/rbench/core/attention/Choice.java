package org.rbench.core.attention;

import org.rbench.llamacpp.Tensor;

/**
 * A choice made on the device between two things a step computes: F32 {@code [1, 1]} tensors,
 * {@code take} 1 and {@code leave} 0 to keep the first, the reverse to keep the second. A blend
 * {@code take * x + leave * y} is then one of them bit for bit (for finite values).
 */
public record Choice(Tensor take, Tensor leave) {
    public Choice {
        java.util.Objects.requireNonNull(take, "take");
        java.util.Objects.requireNonNull(leave, "leave");
        if (take.elements() != 1 || leave.elements() != 1 || take.type() != org.rbench.llamacpp.GgmlType.F32
                || leave.type() != org.rbench.llamacpp.GgmlType.F32) {
            throw new IllegalArgumentException("a choice is one F32 value and its complement");
        }
    }
}
