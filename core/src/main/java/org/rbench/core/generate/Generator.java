package org.rbench.core.generate;

import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.PrefillResult;
import org.rbench.llamacpp.Vocabulary;

import java.util.Arrays;

/**
 * Greedy generation with streaming: prefill the prompt, then decode token by token under
 * an attention policy until an end-of-generation token, a stop string, the token limit
 * or a full context. Each call starts from an empty cache.
 */
public final class Generator {
    private final Engine engine;
    private final Vocabulary vocabulary;

    /** {@code vocabulary} may be null (models without one): no text, no end-of-generation stop. */
    public Generator(Engine engine, Vocabulary vocabulary) {
        this.engine = engine;
        this.vocabulary = vocabulary;
    }

    /** Tokenises the prompt (adding BOS as the model wants, parsing special tokens) and generates. */
    public GenerationResult generate(String prompt, GenerationOptions options, AttentionPolicy policy, TokenListener listener) {
        if (vocabulary == null) {
            throw new IllegalStateException("a text prompt needs a vocabulary; pass token ids instead");
        }
        return generate(vocabulary.tokenize(prompt, true, true), options, policy, listener);
    }

    public GenerationResult generate(int[] prompt, GenerationOptions options) {
        return generate(prompt, options, new FullAttention(), null);
    }

    public GenerationResult generate(int[] prompt, GenerationOptions options, AttentionPolicy policy, TokenListener listener) {
        engine.reset();
        PrefillResult prefill = engine.prefill(prompt, policy.prefillRequest(), false);
        Stream stream = new Stream(options, listener);
        try (Decoder decoder = engine.decoder(policy, prefill.statistics())) {
            int first = Greedy.argmax(prefill.lastLogits());
            if (stream.accept(first)) {
                // on a GPU each step is picked in the step graph and fed to the next there, which is
                // queued before the host reads the pick (Decoder.generateGreedy)
                decoder.queueAhead(options.queueAhead() && Decoder.queuesAheadByDefault())
                        .generateGreedy(first, options.maxTokens() - 1, stream::accept);
                if (stream.reason == StopReason.TOKEN_LIMIT && stream.count < options.maxTokens()) {
                    stream.reason = StopReason.CONTEXT_FULL; // the decoder stopped: no room for another step
                }
            }
            return new GenerationResult(Arrays.copyOf(stream.tokens, stream.count), stream.text.toString(), stream.reason,
                    prefill, decoder.timings());
        }
    }

    /** The tokens generated so far, their text, and why the generation stops. */
    private final class Stream {
        private final GenerationOptions options;
        private final TokenListener listener;
        private final int[] tokens;
        private final StringBuilder text = new StringBuilder();
        private final Utf8Stream utf8 = new Utf8Stream();
        private int count;
        private StopReason reason = StopReason.TOKEN_LIMIT;

        Stream(GenerationOptions options, TokenListener listener) {
            this.options = options;
            this.listener = listener;
            this.tokens = new int[options.maxTokens()];
        }

        /** Takes the next token; whether generation goes on (no stop string, no end of generation, room for more). */
        boolean accept(int token) {
            tokens[count++] = token;
            String piece = "";
            if (vocabulary != null) {
                piece = utf8.append(vocabulary.pieceBytes(token, false));
                text.append(piece);
            }
            int stopAt = stopStringIndex(text, options, piece.length());
            if (stopAt >= 0) {
                text.setLength(stopAt);
                reason = StopReason.STOP_STRING;
            } else if (options.stopAtEndOfGeneration() && vocabulary != null && vocabulary.isEndOfGeneration(token)) {
                reason = StopReason.END_OF_GENERATION;
            }
            if (listener != null) {
                listener.onToken(count - 1, token, piece);
            }
            return reason == StopReason.TOKEN_LIMIT && count < options.maxTokens();
        }
    }

    /** Where the earliest stop string starts, looking only where the new text could complete one. */
    private static int stopStringIndex(StringBuilder text, GenerationOptions options, int added) {
        int best = -1;
        for (String stop : options.stopStrings()) {
            int from = Math.max(0, text.length() - added - stop.length() + 1);
            int at = text.indexOf(stop, from);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }
}
