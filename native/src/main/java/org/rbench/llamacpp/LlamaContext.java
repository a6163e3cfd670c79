package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A libllama inference context (llama_context) over one sequence: the stock llama.cpp
 * decoding path, used as the reference for the suite's own engine (logits and speed).
 */
public final class LlamaContext implements AutoCloseable {
    private MemorySegment ctx;
    /** The threads llama_decode computes on, made once as llama-bench makes them ({@link CpuThreadpool}). */
    private CpuThreadpool threadpool;
    private final LlamaModel model;
    private final int contextSize;
    private final int batchSize;
    private final int vocabSize;
    private int nextPosition;

    /** Options: context and batch sizes, threads, flash attention, KV cache type. */
    public record Options(int contextSize, int batchSize, int threads, boolean flashAttention, GgmlType cacheType) {
        public Options {
            if (contextSize <= 0 || batchSize <= 0 || threads <= 0) {
                throw new IllegalArgumentException("context size, batch size and threads must be positive");
            }
            if (cacheType != GgmlType.F16 && cacheType != GgmlType.F32 && cacheType != GgmlType.Q8_0 && cacheType != GgmlType.BF16) {
                throw new IllegalArgumentException("KV cache type must be F16, F32, BF16 or Q8_0, not " + cacheType);
            }
        }
    }

    public LlamaContext(LlamaModel model, Options options) {
        this.model = model;
        String trained = model.metadata(model.metadata("general.architecture") + ".context_length");
        if (trained != null) {
            long max = Long.parseLong(trained.trim());
            if (options.contextSize() > max) {
                throw new IllegalArgumentException("context of " + options.contextSize()
                        + " tokens is longer than the model's " + max + " (" + model.path().getFileName() + ")");
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = LlamaParams.contextDefaults(arena);
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_N_CTX, options.contextSize());
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_N_BATCH, options.batchSize());
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_N_UBATCH, options.batchSize());
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_N_THREADS, options.threads());
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_N_THREADS_BATCH, options.threads());
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_FLASH_ATTN_TYPE, options.flashAttention() ? 1 : 0);
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_TYPE_K, options.cacheType().id);
            p.set(ValueLayout.JAVA_INT, LlamaParams.CP_TYPE_V, options.cacheType().id);
            NativeLog.clear();
            ctx = Llama.llama_init_from_model_raw(model.address(), p);
            if (ctx.equals(MemorySegment.NULL)) {
                throw new NativeCallException("llama_init_from_model failed for " + model.path().getFileName() + "."
                        + NativeLog.tail(4));
            }
        }
        try {
            // as llama-bench: one pool for the context's life, for single tokens and batches alike
            threadpool = CpuThreadpool.create(options.threads());
            Llama.llama_attach_threadpool(ctx, threadpool.address(), MemorySegment.NULL);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        contextSize = Llama.llama_n_ctx(ctx);
        batchSize = options.batchSize();
        // Vocabulary entries: real tokens, or the dummy tokens of a no_vocab model ({arch}.vocab_size).
        vocabSize = model.vocabulary().size();
    }

    public int contextSize() {
        return contextSize;
    }

    public int position() {
        return nextPosition;
    }

    /** Clears the KV cache; the next decode starts at position 0. */
    public void reset() {
        Llama.llama_memory_clear(Llama.llama_get_memory(address()), true);
        nextPosition = 0;
    }

    /**
     * Forgets the tokens from position {@code length} on, so decoding continues from there:
     * several runs can start from one prefill.
     */
    public void truncate(int length) {
        if (length < 0 || length > nextPosition) {
            throw new IllegalArgumentException("cannot truncate " + nextPosition + " tokens to " + length);
        }
        if (!Llama.llama_memory_seq_rm(Llama.llama_get_memory(address()), 0, length, -1)) {
            throw new NativeCallException("llama_memory_seq_rm refused to remove positions from " + length);
        }
        nextPosition = length;
    }

    /**
     * llama.cpp's context shift: removes the {@code discard} tokens after the first
     * {@code keep} ({@code llama_memory_seq_rm}) and moves the tokens after them back by
     * {@code discard} positions ({@code llama_memory_seq_add}; llama.cpp re-rotates their
     * keys at the next decode). Decoding continues at {@link #position()} - discard.
     *
     * @throws IllegalArgumentException unless 0 <= keep, 0 <= discard and keep + discard <= position()
     * @throws NativeCallException      when this context's memory cannot shift (llama.cpp would abort)
     */
    public void shift(int keep, int discard) {
        if (keep < 0 || discard < 0 || (long) keep + discard > nextPosition) {
            throw new IllegalArgumentException("cannot discard " + discard + " tokens after the first " + keep + " of "
                    + nextPosition);
        }
        if (discard == 0) {
            return;
        }
        MemorySegment mem = Llama.llama_get_memory(address());
        if (!Llama.llama_memory_can_shift(mem)) {
            throw new NativeCallException("this model's llama.cpp memory cannot shift positions (no context shift)");
        }
        if (!Llama.llama_memory_seq_rm(mem, 0, keep, keep + discard)) {
            throw new NativeCallException("llama_memory_seq_rm refused to remove positions [" + keep + ", "
                    + (keep + discard) + ")");
        }
        Llama.llama_memory_seq_add(mem, 0, keep + discard, nextPosition, -discard);
        nextPosition -= discard;
    }

    /**
     * Decodes tokens at the next positions, in batches of the configured size.
     * Returns logits [tokens.length][vocab] when {@code allLogits}, else only the last row.
     */
    public float[][] decode(int[] tokens, boolean allLogits) {
        return decode(tokens, allLogits, true);
    }

    /**
     * Decodes one token and waits for it as llama-bench does (llama_decode, then
     * llama_synchronize): llama.cpp computes the token's logits into its own buffer, and none
     * are copied into Java.
     */
    public void advance(int token) {
        decode(new int[] {token}, false, false);
        Llama.llama_synchronize(address());
    }

    private float[][] decode(int[] tokens, boolean allLogits, boolean copyLogits) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("nothing to decode: zero tokens");
        }
        int nVocab = vocabSize;
        for (int t : tokens) {
            if (t < 0 || (nVocab > 0 && t >= nVocab)) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + nVocab + ")");
            }
        }
        if (nextPosition + tokens.length > contextSize) {
            throw new IllegalArgumentException("decoding " + tokens.length + " tokens at position " + nextPosition
                    + " exceeds the context of " + contextSize);
        }
        float[][] out = new float[allLogits ? tokens.length : 1][];
        try (Arena arena = Arena.ofConfined()) {
            for (int start = 0; start < tokens.length; start += batchSize) {
                int n = Math.min(batchSize, tokens.length - start);
                boolean lastBatch = start + n == tokens.length;
                MemorySegment batch = arena.allocate(LlamaParams.BATCH);
                MemorySegment tok = arena.allocate(ValueLayout.JAVA_INT, n);
                MemorySegment pos = arena.allocate(ValueLayout.JAVA_INT, n);
                MemorySegment nSeq = arena.allocate(ValueLayout.JAVA_INT, n);
                MemorySegment seqIds = arena.allocate(ValueLayout.ADDRESS, n);
                MemorySegment seq0 = arena.allocate(ValueLayout.JAVA_INT);
                MemorySegment logits = arena.allocate(ValueLayout.JAVA_BYTE, n);
                for (int i = 0; i < n; i++) {
                    tok.setAtIndex(ValueLayout.JAVA_INT, i, tokens[start + i]);
                    pos.setAtIndex(ValueLayout.JAVA_INT, i, nextPosition + i);
                    nSeq.setAtIndex(ValueLayout.JAVA_INT, i, 1);
                    seqIds.setAtIndex(ValueLayout.ADDRESS, i, seq0);
                    boolean want = allLogits || (lastBatch && i == n - 1);
                    logits.set(ValueLayout.JAVA_BYTE, i, (byte) (want ? 1 : 0));
                }
                batch.set(ValueLayout.JAVA_INT, 0, n);
                batch.set(ValueLayout.ADDRESS, 8, tok);
                batch.set(ValueLayout.ADDRESS, 16, MemorySegment.NULL);
                batch.set(ValueLayout.ADDRESS, 24, pos);
                batch.set(ValueLayout.ADDRESS, 32, nSeq);
                batch.set(ValueLayout.ADDRESS, 40, seqIds);
                batch.set(ValueLayout.ADDRESS, 48, logits);
                int status = Llama.llama_decode_raw(address(), batch);
                if (status != 0) {
                    throw new NativeCallException("llama_decode returned " + status + "." + NativeLog.tail(3));
                }
                nextPosition += n;
                for (int i = 0; i < n && copyLogits; i++) {
                    boolean want = allLogits || (lastBatch && i == n - 1);
                    if (want) {
                        MemorySegment row = Llama.llama_get_logits_ith(address(), i).reinterpret(4L * nVocab);
                        out[allLogits ? start + i : 0] = row.toArray(ValueLayout.JAVA_FLOAT);
                    }
                }
            }
        }
        return out;
    }

    /** Puts the context's pool to sleep until its next decode ({@link CpuThreadpool#pause}). */
    public void pauseThreads() {
        if (threadpool != null) {
            threadpool.pause();
        }
    }

    public void setThreads(int threads) {
        Llama.llama_set_n_threads(address(), threads, threads);
    }

    public MemorySegment address() {
        if (ctx == null) {
            throw new IllegalStateException("context is closed");
        }
        return ctx;
    }

    @Override
    public void close() {
        if (ctx != null) {
            Llama.llama_free(ctx);
            ctx = null;
        }
        if (threadpool != null) {
            threadpool.close(); // after the context, which computed on it
            threadpool = null;
        }
    }
}
