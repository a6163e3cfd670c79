package org.rbench.core.engine;

import org.rbench.llamacpp.GgmlType;

/**
 * How an {@link Engine} runs a model.
 *
 * @param contextSize    rows of the KV cache: prompt plus generated tokens must fit
 * @param cacheType      K/V element type, F16 (default) or F32
 * @param flashAttention ggml_flash_attn_ext (default); off: explicit KQ, softmax and KQV
 *                       (exactly llama.cpp's non-flash path, needed for F32 exact parity)
 * @param microBatch     prefill tokens per graph (llama.cpp's n_ubatch)
 * @param kvPadding      pad the rows a FULL step attends to a multiple of this, masking the
 *                       padding. llama.cpp pads to 256: with the same row count ggml splits
 *                       and sums the work the same way, so logits match bit for bit (and
 *                       CUDA's fast flash-attention path wants it); 1 = no padding
 * @param statisticsBudgetBytes upper bound for one chunk of prefill attention probabilities
 *                       when column sums are requested (query rows per chunk follow from it)
 * @param flashScores    where a decode step that needs its attention probabilities takes them from
 *                       ({@link FlashScores}; with flash attention only)
 */
public record EngineOptions(int contextSize, GgmlType cacheType, boolean flashAttention, int microBatch, int kvPadding,
                            long statisticsBudgetBytes, FlashScores flashScores) {

    /** Where a decode step with flash attention takes the attention probabilities a policy asks for. */
    public enum FlashScores {
        /**
         * From the logits flash attention itself writes where the backend's kernel can (the suite's CUDA
         * build: {@code native/patches/ggml-cuda-fa-scores.diff}), so the keys are read once; elsewhere
         * from a second product.
         */
        KERNEL,
        /** From a second product of the query with every key and its softmax, beside flash attention. */
        SECOND_PRODUCT,
        /**
         * From logits a second product writes where the kernel would, on any backend: the graph takes
         * {@link #KERNEL}'s path (one batch of every layer's logits, normalised once) where no kernel
         * writes them, so that the CPU's tests cover it.
         */
        EMULATED;

        /**
         * {@link #KERNEL}, unless {@code RBENCH_FA_SCORES=0} or {@code -Drbench.faScores=false} (an A/B) or
         * {@code GGML_CUDA_GRAPH_OPT=1}: the scores are an extra source the op writes, so the softmax that reads
         * them follows it only by the graph's order, and ggml-cuda's concurrent streams would not see that.
         * {@code RBENCH_FA_SCORES=emulate} (or {@code -Drbench.faScores=emulate}) gives {@link #EMULATED}: a
         * CPU's op profile then shows the nodes of the GPU's graph, the emulation's own product besides.
         */
        public static FlashScores byDefault() {
            String setting = System.getProperty("rbench.faScores", System.getenv("RBENCH_FA_SCORES"));
            if ("emulate".equalsIgnoreCase(setting)) {
                return EMULATED;
            }
            boolean off = "false".equalsIgnoreCase(setting) || "0".equals(setting) || "1".equals(System.getenv("GGML_CUDA_GRAPH_OPT"));
            return off ? SECOND_PRODUCT : KERNEL;
        }
    }

    public EngineOptions {
        if (contextSize <= 0) {
            throw new IllegalArgumentException("context size must be positive, got " + contextSize);
        }
        if (cacheType != GgmlType.F16 && cacheType != GgmlType.F32) {
            throw new IllegalArgumentException("KV cache type must be F16 or F32, not " + cacheType);
        }
        if (microBatch <= 0) {
            throw new IllegalArgumentException("micro-batch must be positive, got " + microBatch);
        }
        if (kvPadding <= 0) {
            throw new IllegalArgumentException("KV padding must be positive, got " + kvPadding);
        }
        if (statisticsBudgetBytes <= 0) {
            throw new IllegalArgumentException("statistics budget must be positive");
        }
        java.util.Objects.requireNonNull(flashScores, "flashScores");
    }

    /** F16 cache, flash attention, micro-batches of 512, rows padded to 256 as llama.cpp does. */
    public static EngineOptions defaults(int contextSize) {
        return new EngineOptions(contextSize, GgmlType.F16, true, 512, 256, 64L << 20, FlashScores.byDefault());
    }

    public EngineOptions withCacheType(GgmlType type) {
        return new EngineOptions(contextSize, type, flashAttention, microBatch, kvPadding, statisticsBudgetBytes, flashScores);
    }

    public EngineOptions withFlashAttention(boolean on) {
        return new EngineOptions(contextSize, cacheType, on, microBatch, kvPadding, statisticsBudgetBytes, flashScores);
    }

    public EngineOptions withMicroBatch(int n) {
        return new EngineOptions(contextSize, cacheType, flashAttention, n, kvPadding, statisticsBudgetBytes, flashScores);
    }

    public EngineOptions withKvPadding(int n) {
        return new EngineOptions(contextSize, cacheType, flashAttention, microBatch, n, statisticsBudgetBytes, flashScores);
    }

    public EngineOptions withStatisticsBudget(long bytes) {
        return new EngineOptions(contextSize, cacheType, flashAttention, microBatch, kvPadding, bytes, flashScores);
    }

    public EngineOptions withFlashScores(FlashScores from) {
        return new EngineOptions(contextSize, cacheType, flashAttention, microBatch, kvPadding, statisticsBudgetBytes, from);
    }
}
