package org.rbench.core.attention;

import org.rbench.llamacpp.Tensor;

/**
 * What a step part reads after the compute ({@link StepPart#afterCompute}): a small output's values as the step left
 * them, from the copy queued behind the step's graph with its result ({@link StepPart#queuedReads}: a read of host
 * memory) where the step has one, else read from the device now (a transfer that waits).
 */
public interface StepReads {
    /** The values of {@code tensor} (contiguous; F32 where queued, else F32, F16 or I32 as {@link Tensor#getFloats}). */
    float[] floats(Tensor tensor);

    /** Every tensor read from the device at the time of asking: steps without a queued result, and graphs of their own. */
    StepReads DIRECT = Tensor::getFloats;
}
