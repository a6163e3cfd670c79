package org.rbench.datasets;

import java.util.Optional;

/**
 * The tokenizer the generators size prompts with.
 *
 * <p>The datasets module does not load vocabularies itself: the harness adapts the real
 * llama.cpp vocabulary (llama-bpe, llama-spm, ...) to this interface. Counts follow the
 * reference generator: no BOS token is added, so {@link Sample#length()} is the prompt's
 * tokens without BOS plus the tokens to generate. A caller that prepends BOS at prefill
 * needs one more position of context, or can count BOS here by returning it from
 * {@link #encode}.
 *
 * <p>Cost model: generators call {@link #count} on whole prompts (up to the target
 * length, e.g. 32K tokens). Implementations backed by native code may cost a few
 * milliseconds per call; {@link RulerGenerator} documents how many calls it makes.
 */
public interface Tokenizer {

    /** Token ids of {@code text}, without BOS. Special tokens of a chat template must be
     *  parsed as special tokens, so that chat-wrapped prompts are counted as the model sees them. */
    int[] encode(String text);

    /**
     * {@link #encode} with the characters each token stands for, so that a range of the text
     * (a sample's answer span) can be found among its tokens. Tokenizers that cannot tell
     * where their tokens lie throw {@link UnsupportedOperationException}.
     */
    default TokenizedText encodeWithOffsets(String text) {
        throw new UnsupportedOperationException("the tokenizer " + name() + " cannot tell which characters its tokens"
                + " stand for, so answer spans cannot be placed among its tokens");
    }

    /** Number of tokens of {@code text}; override when counting is cheaper than encoding. */
    default int count(String text) {
        return encode(text).length;
    }

    /** A short name for provenance, e.g. the vocabulary file name. */
    String name();

    /** The model's chat template, when the vocabulary carries one; empty for base models. */
    default Optional<ChatFormatter> chatFormatter() {
        return Optional.empty();
    }
}
