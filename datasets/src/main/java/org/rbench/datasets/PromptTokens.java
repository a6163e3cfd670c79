package org.rbench.datasets;

import java.util.BitSet;
import java.util.List;
import java.util.Objects;

/**
 * A sample's prompt ({@link Sample#prompt()}) as token ids, with its answer spans as ranges of
 * those tokens: a token belongs to a span when it stands for any character of it. A run that
 * prefills these ids measures what each decode step attended of the answers (the harness's
 * diagnostics); ruler-gen writes them with {@code --token-ids}.
 *
 * @param ids         the prompt's token ids
 * @param answerSpans the answer spans, as token ranges of {@code ids}, in text order
 */
public record PromptTokens(int[] ids, List<Span> answerSpans) {

    public PromptTokens {
        Objects.requireNonNull(ids, "ids");
        answerSpans = List.copyOf(answerSpans);
        for (Span span : answerSpans) {
            if (span.end() > ids.length) {
                throw new IllegalArgumentException("answer span [" + span.start() + ", " + span.end()
                        + ") lies past the prompt's " + ids.length + " tokens");
            }
        }
    }

    /** Tokenizes the sample's prompt and places its answer spans among the tokens. */
    public static PromptTokens of(Sample sample, Tokenizer tokenizer) {
        TokenizedText text = tokenizer.encodeWithOffsets(sample.prompt());
        try {
            return new PromptTokens(text.ids(), text.tokenSpans(sample.answerSpans()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(sample.task().id() + " sample " + sample.index() + ": " + e.getMessage(), e);
        }
    }

    /** These tokens after one more token (a BOS the engine prefills first): every span moves by one. */
    public PromptTokens withLeadingToken(int token) {
        int[] out = new int[ids.length + 1];
        out[0] = token;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return new PromptTokens(out, answerSpans.stream().map(span -> span.shift(1)).toList());
    }

    /** Every token index inside some answer span, ascending, each once. */
    public int[] answerPositions() {
        BitSet in = new BitSet(ids.length);
        for (Span span : answerSpans) {
            in.set(span.start(), span.end());
        }
        return in.stream().toArray();
    }
}
