package org.rbench.core.model;

import org.rbench.llamacpp.Tensor;

/**
 * The tensors of one transformer block. Optional tensors are null: the biases (Qwen 2
 * has Q/K/V biases, others may have an output bias) and the per-head Q/K norms (Qwen 3).
 */
public record LayerWeights(Tensor attentionNorm, Tensor query, Tensor key, Tensor value, Tensor attentionOutput,
                           Tensor queryBias, Tensor keyBias, Tensor valueBias, Tensor attentionOutputBias,
                           Tensor queryNorm, Tensor keyNorm,
                           Tensor ffnNorm, Tensor ffnGate, Tensor ffnUp, Tensor ffnDown) {
}
