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
 *
 * <p>With a {@link ContextShift} it is what a llama.cpp user gets with a context of that many
 * tokens: a longer prompt is truncated as the server truncates it, and a step that finds the
 * context full shifts it first ({@link LlamaContext#shift}, timed as part of the step).
 */
public final class LlamaReference implements AutoCloseable {
    private final LlamaModel model;
    private final LlamaContext context;
    private final ContextShift shift;
    private long lastPrefillNanos;
    private long[] stepNanos = new long[64];
    private int[] stepRows = new int[64];
    private int steps;
    private int shifts;
    /** The tokens the last prefill decoded (after truncation), and whether the context has shifted since. */
    private int[] prefilled;
    private boolean shiftedSincePrefill;

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
        this(modelFile, contextSize, null, batchSize, threads, flashAttention, cacheType, onGpu);
    }

    /**
     * llama.cpp with a context of {@code shift.contextTokens()} tokens, prompts truncated and
     * the context shifted as llama.cpp's server does.
     */
    public LlamaReference(Path modelFile, ContextShift shift, int batchSize, int threads, boolean flashAttention,
                          GgmlType cacheType, boolean onGpu) {
        this(modelFile, java.util.Objects.requireNonNull(shift, "shift").contextTokens(), shift, batchSize, threads,
                flashAttention, cacheType, onGpu);
    }

    private LlamaReference(Path modelFile, int contextSize, ContextShift shift, int batchSize, int threads,
                           boolean flashAttention, GgmlType cacheType, boolean onGpu) {
        this.shift = shift;
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

    /** The context shift this reference applies, or null (plain llama.cpp: a prompt or step that does not fit fails). */
    public ContextShift contextShift() {
        return shift;
    }

    /**
     * Decodes the prompt (truncated first under a {@link ContextShift}: {@link #prefilledTokens()}
     * then says what was decoded); returns every decoded token's logits or only the last row.
     */
    public float[][] prefill(int[] tokens, boolean allLogits) {
        int[] decoded = shift == null ? tokens : shift.truncatePrompt(tokens);
        long t0 = System.nanoTime();
        float[][] logits = context.decode(decoded, allLogits);
        lastPrefillNanos = System.nanoTime() - t0;
        prefilled = decoded.clone();
        shiftedSincePrefill = false;
        return logits;
    }

    /** The tokens the last prefill decoded: the prompt, or what its truncation kept. */
    public int[] prefilledTokens() {
        return prefilled == null ? new int[0] : prefilled.clone();
    }

    /** Puts llama.cpp's CPU threads to sleep until the next decode: call it when a run of steps ends. */
    public void pauseThreads() {
        context.pauseThreads();
    }

    /**
     * One decode step: the logits after {@code token}. Under a {@link ContextShift}, a full
     * context is shifted first, inside the step's time.
     */
    public float[] step(int token) {
        return timedStep(token, true);
    }

    /**
     * {@link #step} as llama-bench decodes: the logits stay in llama.cpp's buffer (copying the
     * vocabulary's floats into Java each step is no part of llama.cpp's decode: about 0.1 ms at
     * a 128K vocabulary).
     */
    public void advance(int token) {
        timedStep(token, false);
    }

    private float[] timedStep(int token, boolean readLogits) {
        long t0 = System.nanoTime();
        if (shift != null && shift.needsShift(context.position())) {
            context.shift(shift.kept(), shift.discard(context.position()));
            shifts++;
            shiftedSincePrefill = true;
        }
        int rows = context.position() + 1;
        float[] logits = null;
        if (readLogits) {
            logits = context.decode(new int[] {token}, false)[0];
        } else {
            context.advance(token);
        }
        if (steps == stepNanos.length) {
            stepNanos = Arrays.copyOf(stepNanos, steps * 2);
            stepRows = Arrays.copyOf(stepRows, steps * 2);
        }
        stepRows[steps] = rows;
        stepNanos[steps++] = System.nanoTime() - t0;
        return logits;
    }

    /** KV rows each step attended (the cached tokens, the new one included), as {@link #stepNanos()}. */
    public int[] stepRows() {
        return Arrays.copyOf(stepRows, steps);
    }

    /** Mean of {@link #stepRows()} over the steps from {@code fromStep} on (0 when there are none). */
    public double meanStepRows(int fromStep) {
        if (fromStep >= steps) {
            return 0;
        }
        long sum = 0;
        for (int i = fromStep; i < steps; i++) {
            sum += stepRows[i];
        }
        return (double) sum / (steps - fromStep);
    }

    /** Context shifts since the last {@link #reset()}. */
    public int shifts() {
        return shifts;
    }

    public long lastPrefillNanos() {
        return lastPrefillNanos;
    }

    public long[] stepNanos() {
        return Arrays.copyOf(stepNanos, steps);
    }

    /** Forgets the tokens from position {@code length} on (e.g. back to the end of a prefill). */
    public void truncate(int length) {
        if (shiftedSincePrefill) {
            throw new IllegalStateException("the context has shifted since the prefill: positions no longer match tokens"
                    + " (rewindToPrefill decodes the prompt again)");
        }
        context.truncate(length);
    }

    /**
     * Back to the state right after the last prefill, so that several decodes start from one
     * prompt: the later tokens are forgotten, or, once a context shift has removed some of the
     * prompt, the prompt is decoded again (not timed: {@link #lastPrefillNanos()} keeps the
     * prefill's time).
     */
    public void rewindToPrefill() {
        if (prefilled == null) {
            throw new IllegalStateException("nothing was prefilled");
        }
        if (!shiftedSincePrefill) {
            context.truncate(prefilled.length);
            return;
        }
        context.reset();
        context.decode(prefilled, false);
        shiftedSincePrefill = false;
    }

    public void reset() {
        context.reset();
        steps = 0;
        shifts = 0;
        prefilled = null;
        shiftedSincePrefill = false;
    }

    @Override
    public void close() {
        context.close();
        model.close();
    }
}
