package org.rbench.core.engine;

import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

/**
 * What an engine's pass graphs are built from: the weights, the KV cache (and the writes it
 * still lacks), the options, the
 * persistent hidden state that carries the residual stream between split graphs, and the
 * causal masks (made at the first pass that needs one: at long contexts the block is large).
 * Owned by the engine; the builders only read it.
 */
final class GraphResources implements AutoCloseable {
    private final ModelWeights weights;
    private final KvCache cache;
    private final DeferredWrites deferredWrites;
    private final EngineOptions options;
    private final Tensor hiddenState;
    private final Tensor fedToken;
    private final boolean onCpu;
    private final boolean outerProducts;
    private CausalMask causalMask;

    GraphResources(ModelWeights weights, KvCache cache, DeferredWrites deferredWrites, EngineOptions options, Tensor hiddenState,
                   Tensor fedToken) {
        this.weights = weights;
        this.cache = cache;
        this.deferredWrites = deferredWrites;
        this.options = options;
        this.hiddenState = hiddenState;
        this.fedToken = fedToken;
        this.onCpu = weights.backend().isCpu();
        this.outerProducts = onCpu || !"metal".equals(weights.backend().kind());
    }

    ModelWeights weights() {
        return weights;
    }

    HyperParameters hyperParameters() {
        return weights.hyperParameters();
    }

    KvCache cache() {
        return cache;
    }

    /** The full-cache writes decode steps left for later: a step graph writes a layer's before it reads the full cache. */
    DeferredWrites deferredWrites() {
        return deferredWrites;
    }

    EngineOptions options() {
        return options;
    }

    /** Persistent [embedding, 1] tensor carrying the residual stream between split graphs. */
    Tensor hiddenState() {
        return hiddenState;
    }

    /**
     * Persistent I32 [1] token of {@link Pass.Logits#FED} steps: each such step embeds it and
     * writes its greedy pick back, so the next step is fed on the device.
     */
    Tensor fedToken() {
        return fedToken;
    }

    boolean onCpu() {
        return onCpu;
    }

    /**
     * Whether a decode step's probabilities come from its flash attention's logits ({@link
     * GgmlContext#flashAttnExtScoring}) instead of a second product beside it ({@link
     * EngineOptions.FlashScores}): where the backend's kernel writes them, or {@link #emulatedScores}.
     * One layer at 131K on an H100: flash attention writing its logits and their softmax 0.293 ms, against
     * 0.258 + 0.140 for flash attention and the second read (docs/results/2026-12-05-cuda-fa-scores-coalesced.md).
     */
    boolean flashAttentionScores() {
        return options.flashAttention() && switch (options.flashScores()) {
            case KERNEL -> weights.backend().flashAttentionWritesScores();
            case EMULATED -> true;
            case SECOND_PRODUCT -> false;
        };
    }

    /**
     * Whether flash attention reads {@code rows} (K or V) cast to F16: a GPU's reads F16 K/V only, and gathered
     * rows come back as F32. A cast read writes no logits (LayerAttention scores the rows it was given).
     */
    boolean castsForFlashAttention(Tensor rows) {
        return !onCpu && rows.type() == org.rbench.llamacpp.GgmlType.F32;
    }

    /** Whether flash attention's logits are written by a second product where the kernel would write them (tests). */
    boolean emulatedScores() {
        return options.flashAttention() && options.flashScores() == EngineOptions.FlashScores.EMULATED;
    }

    Backend backend() {
        return weights.backend();
    }

    /** Whether the backend computes ggml_out_prod (ggml-metal does not). */
    boolean outerProducts() {
        return outerProducts;
    }

    CausalMask causalMask() {
        if (causalMask == null) {
            causalMask = new CausalMask(weights.backend(), options.flashAttention(), cache.capacity(), options.microBatch());
        }
        return causalMask;
    }

    /** Rows a causal attention over positions [0, end) reads: padded, within the cache. */
    int keyRows(int end) {
        int pad = options.kvPadding();
        long padded = (long) (end + pad - 1) / pad * pad;
        return (int) Math.min(cache.capacity(), padded);
    }

    @Override
    public void close() {
        if (causalMask != null) {
            causalMask.close();
        }
    }
}
