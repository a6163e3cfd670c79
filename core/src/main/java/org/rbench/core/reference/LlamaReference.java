package org.rbench.core.reference;

import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaContext;
import org.rbench.llamacpp.LlamaModel;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The stock llama.cpp path over the same GGUF: llama_decode with its own KV cache, for
 * logit parity and speed comparison. Timed the same way as the engine (wall time around
 * each call).
 */
public final class LlamaReference implements AutoCloseable {
    private final LlamaModel model;
    private final LlamaContext context;
    private long lastPrefillNanos;
    private long[] stepNanos = new long[64];
    private int steps;

    /**
     * @param flashAttention llama.cpp's flash attention on or off
     * @param cacheType      F16 or F32 KV cache
     */
    public LlamaReference(Path modelFile, int contextSize, int batchSize, int threads, boolean flashAttention,
                          GgmlType cacheType) {
        this(modelFile, contextSize, batchSize, threads, flashAttention, cacheType, false);
    }

    /**
     * @param onGpu offload every layer (weights and KV cache) to the first GPU, as the
     *              engine does when it runs on one; false keeps llama.cpp on the CPU
     */
    public LlamaReference(Path modelFile, int contextSize, int batchSize, int threads, boolean flashAttention,
                          GgmlType cacheType, boolean onGpu) {
        model = LlamaModel.load(modelFile, onGpu ? LlamaModel.Options.allOnGpu() : LlamaModel.Options.full());
        try {
            context = new LlamaContext(model, new LlamaContext.Options(contextSize, batchSize, threads, flashAttention, cacheType));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public LlamaModel model() {
        return model;
    }

    public int position() {
        return context.position();
    }

    /** Decodes the prompt; returns every token's logits or only the last row. */
    public float[][] prefill(int[] tokens, boolean allLogits) {
        long t0 = System.nanoTime();
        float[][] logits = context.decode(tokens, allLogits);
        lastPrefillNanos = System.nanoTime() - t0;
        return logits;
    }

    /** One decode step: the logits after {@code token}. */
    public float[] step(int token) {
        long t0 = System.nanoTime();
        float[] logits = context.decode(new int[] {token}, false)[0];
        if (steps == stepNanos.length) {
            stepNanos = Arrays.copyOf(stepNanos, steps * 2);
        }
        stepNanos[steps++] = System.nanoTime() - t0;
        return logits;
    }

    public long lastPrefillNanos() {
        return lastPrefillNanos;
    }

    public long[] stepNanos() {
        return Arrays.copyOf(stepNanos, steps);
    }

    /** Forgets the tokens from position {@code length} on (e.g. back to the end of a prefill). */
    public void truncate(int length) {
        context.truncate(length);
    }

    public void reset() {
        context.reset();
        steps = 0;
    }

    @Override
    public void close() {
        context.close();
        model.close();
    }
}
