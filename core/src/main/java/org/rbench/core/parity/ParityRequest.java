package org.rbench.core.parity;

import org.rbench.core.engine.EngineOptions;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;

/**
 * One engine-versus-llama_decode comparison.
 *
 * @param model          the GGUF file
 * @param prompt         prompt token ids, or null for {@code promptTokens} random ids drawn with {@code seed}
 * @param promptTokens   prompt length when {@code prompt} is null
 * @param decodeSteps    greedy steps after the prompt
 * @param backend        cpu, cuda, metal or best
 * @param threads        CPU threads for both sides
 * @param cacheType      KV cache type for both sides (F32 for exact parity)
 * @param flashAttention flash attention on both sides
 * @param microBatch     prefill micro-batch (llama.cpp's n_batch = n_ubatch)
 * @param seed           random prompt seed
 * @param referenceOnCpu llama_decode on the CPU whatever the engine's backend: two GPU results that
 *                       differ can each be held against the CPU's to tell which one departs
 */
public record ParityRequest(Path model, int[] prompt, int promptTokens, int decodeSteps, String backend, int threads,
                            GgmlType cacheType, boolean flashAttention, int microBatch, long seed,
                            boolean referenceOnCpu) {
    public ParityRequest {
        if (prompt == null && promptTokens <= 0) {
            throw new IllegalArgumentException("a parity run needs a prompt of at least one token, got " + promptTokens);
        }
        if (prompt != null && prompt.length == 0) {
            throw new IllegalArgumentException("a parity run needs a prompt of at least one token");
        }
        if (decodeSteps < 0 || threads <= 0 || microBatch <= 0) {
            throw new IllegalArgumentException("decode steps must be >= 0, threads and micro-batch positive");
        }
    }

    /** Exact-parity settings: F32 cache, no flash attention, 256 random tokens, 64 steps, CPU. */
    public static ParityRequest exact(Path model) {
        return new ParityRequest(model, null, 256, 64, "cpu", 1, GgmlType.F32, false, 64, 1, false);
    }

    /** The default decoding settings: F16 cache with flash attention. */
    public static ParityRequest defaults(Path model) {
        return new ParityRequest(model, null, 256, 64, "cpu", 1, GgmlType.F16, true, 64, 1, false);
    }

    public int promptLength() {
        return prompt != null ? prompt.length : promptTokens;
    }

    /** The prompt: the one given, or {@code promptTokens} ids below {@code vocab} drawn with {@code seed}. */
    public int[] promptFor(int vocab) {
        return prompt != null ? prompt : Parity.randomPrompt(promptTokens, vocab, seed);
    }

    /** The engine's settings for a context of {@code context} tokens: this request's cache, flash attention and micro-batch. */
    public EngineOptions engineOptions(int context) {
        return EngineOptions.defaults(context).withCacheType(cacheType).withFlashAttention(flashAttention)
                .withMicroBatch(microBatch);
    }

    public ParityRequest withBackend(String name, int n) {
        return new ParityRequest(model, prompt, promptTokens, decodeSteps, name, n, cacheType, flashAttention, microBatch, seed, referenceOnCpu);
    }

    public ParityRequest withTokens(int promptLength, int steps) {
        return new ParityRequest(model, null, promptLength, steps, backend, threads, cacheType, flashAttention, microBatch, seed, referenceOnCpu);
    }

    public ParityRequest withCache(GgmlType type, boolean flash) {
        return new ParityRequest(model, prompt, promptTokens, decodeSteps, backend, threads, type, flash, microBatch, seed, referenceOnCpu);
    }

    public ParityRequest withReferenceOnCpu(boolean onCpu) {
        return new ParityRequest(model, prompt, promptTokens, decodeSteps, backend, threads, cacheType, flashAttention, microBatch,
                seed, onCpu);
    }

    public ParityRequest withMicroBatch(int n) {
        return new ParityRequest(model, prompt, promptTokens, decodeSteps, backend, threads, cacheType, flashAttention, n, seed, referenceOnCpu);
    }
}
