package org.rbench.core.reference;

import java.util.Arrays;

/**
 * What a llama.cpp user gets with a context of {@code contextTokens} tokens: the arithmetic
 * of llama.cpp's server, kept apart from the native calls so that it can be checked on
 * hand-made sequences.
 *
 * <p>A prompt that does not fit ({@link #truncatePrompt}) keeps its first {@code keep} tokens
 * and loses whole blocks of half the remaining context from the middle, the rule of the
 * server's prompt truncation (ggml-org/llama.cpp examples/server/server.cpp, before the
 * server stopped truncating: the pinned build's tools/server refuses such a prompt instead).
 * When generation fills the context ({@link #needsShift}: the token about to be decoded
 * would leave no free cell), the context shift of both the pinned server
 * (tools/server/server-context.cpp, pre_decode) and llama-completion discards
 * {@code (cached - keep) / 2} tokens after the kept ones ({@link #discard}) and moves the
 * rest back.
 *
 * <p>{@code keep} counts the leading tokens kept, the BOS included, at the truncation and at
 * the shift alike. The server's {@code n_keep} excludes the BOS at the shift (it adds one
 * when the model adds a BOS) but not at its truncation: {@code keep = M} here is the
 * server's {@code n_keep = M} at the truncation and {@code n_keep = M - 1} at the shift of a
 * BOS-adding model. Both clamp the kept tokens to {@code contextTokens - 4}.
 */
public record ContextShift(int contextTokens, int keep) {
    /** Tokens the server always leaves outside the kept prefix: n_keep is at most n_ctx - 4. */
    static final int RESERVED = 4;

    public ContextShift {
        if (contextTokens <= RESERVED) {
            throw new IllegalArgumentException("a context shift needs a context of more than " + RESERVED + " tokens, got "
                    + contextTokens);
        }
        if (keep < 0) {
            throw new IllegalArgumentException("the tokens kept must be >= 0, got " + keep);
        }
    }

    /** The leading tokens kept: {@code min(contextTokens - 4, keep)}. */
    public int kept() {
        return Math.min(contextTokens - RESERVED, keep);
    }

    /**
     * The prompt as the server decodes it: unchanged when it is shorter than the context;
     * otherwise its first {@link #kept()} tokens followed by its tail, after erasing
     * {@code erased} blocks of {@code block = (contextTokens - kept) / 2} tokens,
     * {@code erased = (length - kept - block) / block}. The result is shorter than the context.
     */
    public int[] truncatePrompt(int[] prompt) {
        int erase = erasedTokens(prompt.length);
        if (erase == 0) {
            return prompt.clone();
        }
        int nKeep = kept();
        int[] out = new int[prompt.length - erase];
        System.arraycopy(prompt, 0, out, 0, nKeep);
        System.arraycopy(prompt, nKeep + erase, out, nKeep, prompt.length - nKeep - erase);
        return out;
    }

    /** Tokens {@link #truncatePrompt} erases from a prompt of {@code length} tokens (after the kept ones). */
    public int erasedTokens(int length) {
        if (length < contextTokens) {
            return 0;
        }
        int nKeep = kept();
        int block = (contextTokens - nKeep) / 2;
        int blocks = (length - nKeep - block) / block;
        return blocks * block;
    }

    /**
     * Whether the context must shift before a token is decoded with {@code cached} tokens
     * in it (the server's {@code n_tokens + 1 >= n_ctx}): the cache holds at most
     * {@code contextTokens - 1} tokens.
     */
    public boolean needsShift(int cached) {
        return cached + 1 >= contextTokens;
    }

    /**
     * Tokens a shift with {@code cached} tokens in the context discards after the kept
     * ones: {@code (cached - kept) / 2}, at most {@code cached - kept - 1} and at least 0.
     */
    public int discard(int cached) {
        int left = cached - kept();
        return Math.clamp(left / 2, 0, Math.max(0, left - 1));
    }

    /**
     * The tokens a context holds after a shift, as the server keeps its token list:
     * {@code tokens} without the {@link #discard} tokens after the kept ones.
     */
    public int[] shifted(int[] tokens) {
        int nKeep = Math.min(kept(), tokens.length);
        int d = discard(tokens.length);
        int[] out = Arrays.copyOf(tokens, tokens.length - d);
        System.arraycopy(tokens, nKeep + d, out, nKeep, tokens.length - nKeep - d);
        return out;
    }
}
