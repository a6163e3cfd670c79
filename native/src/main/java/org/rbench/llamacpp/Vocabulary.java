package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * A model's vocabulary: tokenisation through llama_tokenize and detokenisation. Token
 * ids are range-checked in Java: llama.cpp indexes its token table with .at(), and the
 * C++ exception an out-of-range id raises cannot cross the C API, so it would abort.
 */
public final class Vocabulary {
    private final LlamaModel owner;
    private final MemorySegment vocab;
    private final int size;

    Vocabulary(LlamaModel owner, MemorySegment vocab) {
        this.owner = owner;
        this.vocab = vocab;
        this.size = Llama.llama_vocab_n_tokens(vocab);
    }

    public enum Type { NONE, SPM, BPE, WPM, UGM, RWKV, PLAMO2, UNKNOWN }

    public int size() {
        return size;
    }

    public Type type() {
        int t = Llama.llama_vocab_type(vocab);
        Type[] all = Type.values();
        return t >= 0 && t < all.length - 1 ? all[t] : Type.UNKNOWN;
    }

    public int bos() {
        return Llama.llama_vocab_bos(vocab);
    }

    public int eos() {
        return Llama.llama_vocab_eos(vocab);
    }

    public int eot() {
        return Llama.llama_vocab_eot(vocab);
    }

    public boolean addsBos() {
        return Llama.llama_vocab_get_add_bos(vocab);
    }

    /** End of generation (EOS, EOT and similar). */
    public boolean isEndOfGeneration(int token) {
        checkToken(token);
        return Llama.llama_vocab_is_eog(vocab, token);
    }

    /**
     * Tokenises UTF-8 text. {@code addSpecial}: add BOS (and EOS) as the model wants;
     * {@code parseSpecial}: treat special-token text such as "&lt;s&gt;" as the special token.
     */
    public int[] tokenize(String text, boolean addSpecial, boolean parseSpecial) {
        requireTokenizer();
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment txt = arena.allocate(bytes.length + 1L);
            MemorySegment.copy(bytes, 0, txt, ValueLayout.JAVA_BYTE, 0, bytes.length);
            int capacity = bytes.length + 8;
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT, capacity);
            int n = Llama.llama_tokenize(vocab, txt, bytes.length, out, capacity, addSpecial, parseSpecial);
            if (n == Integer.MIN_VALUE) {
                throw new IllegalArgumentException("text too large to tokenise (" + bytes.length + " bytes)");
            }
            if (n < 0) {
                capacity = -n;
                out = arena.allocate(ValueLayout.JAVA_INT, capacity);
                n = Llama.llama_tokenize(vocab, txt, bytes.length, out, capacity, addSpecial, parseSpecial);
                if (n < 0) {
                    throw new NativeCallException("llama_tokenize failed twice (" + n + ")");
                }
            }
            return out.asSlice(0, 4L * n).toArray(ValueLayout.JAVA_INT);
        }
    }

    /** The text of one token (special tokens rendered when {@code special}). */
    public String piece(int token, boolean special) {
        return new String(pieceBytes(token, special), StandardCharsets.UTF_8);
    }

    /** The raw bytes of a token: a token may hold part of a UTF-8 character. */
    public byte[] pieceBytes(int token, boolean special) {
        requireTokenizer();
        checkToken(token);
        try (Arena arena = Arena.ofConfined()) {
            int cap = 64;
            MemorySegment buf = arena.allocate(cap);
            int n = Llama.llama_token_to_piece(vocab, token, buf, cap, 0, special);
            if (n < 0) {
                cap = -n;
                buf = arena.allocate(cap);
                n = Llama.llama_token_to_piece(vocab, token, buf, cap, 0, special);
            }
            return buf.asSlice(0, Math.max(n, 0)).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** Detokenises a whole sequence (handles multi-token characters and leading spaces). */
    public String detokenize(int[] tokens, boolean removeSpecial, boolean unparseSpecial) {
        requireTokenizer();
        for (int t : tokens) {
            checkToken(t);
        }
        if (tokens.length == 0) {
            return "";
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ids = arena.allocateFrom(ValueLayout.JAVA_INT, tokens);
            int cap = tokens.length * 8 + 16;
            MemorySegment buf = arena.allocate(cap);
            int n = Llama.llama_detokenize(vocab, ids, tokens.length, buf, cap, removeSpecial, unparseSpecial);
            if (n < 0) {
                cap = -n + 1;
                buf = arena.allocate(cap);
                n = Llama.llama_detokenize(vocab, ids, tokens.length, buf, cap, removeSpecial, unparseSpecial);
            }
            if (n < 0) {
                throw new NativeCallException("llama_detokenize failed (" + n + ")");
            }
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    /**
     * A no_vocab model (test fixtures) has dummy token entries but no tokenizer; llama.cpp
     * asserts (and aborts) on any text call for it, so refuse here.
     */
    private void requireTokenizer() {
        if (Llama.llama_vocab_type(vocab) == 0) {
            throw new IllegalStateException("model " + owner.path() + " has no vocabulary (tokenizer.ggml.model = no_vocab)");
        }
    }

    public void checkToken(int token) {
        if (token < 0 || token >= size) {
            throw new IllegalArgumentException("token id " + token + " is outside the vocabulary [0, " + size + ")");
        }
    }

    MemorySegment address() {
        return vocab;
    }
}
