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
     * Whether a decode step's probabilities come from its flash attention's own logits ({@link
     * GgmlContext#flashAttnExtScoring}) where the backend writes them (the suite's CUDA build), instead
     * of a second product of the query with every key. On by default; {@code RBENCH_FA_SCORES=0} or
     * {@code -Drbench.faScores=false} turns it off for an A/B. One layer at 131K on an H100: flash attention
     * writing its logits and their softmax 0.293 ms, against 0.258 + 0.140 for flash attention and the
     * second read (docs/results/2026-12-05-cuda-fa-scores-coalesced.md).
     */
    boolean flashAttentionScores() {
        return FA_SCORES_BY_DEFAULT && options.flashAttention() && weights.backend().flashAttentionWritesScores();
    }

    /**
     * The scores tensor is flash attention's extra source, written by the op: the softmax that reads it depends
     * on the op only through the graph's order (LayerAttention expands the output first). ggml-cuda's graph
     * optimisation ({@code GGML_CUDA_GRAPH_OPT=1}, off by default) runs branches it finds independent on
     * streams of their own, from the sources it sees, and could read the scores before they are written:
     * with it, the probabilities come from a second product.
     */
    static final boolean FA_SCORES_BY_DEFAULT = !"false".equalsIgnoreCase(System.getProperty("rbench.faScores"))
            && !"0".equals(System.getenv("RBENCH_FA_SCORES")) && !"1".equals(System.getenv("GGML_CUDA_GRAPH_OPT"));

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
