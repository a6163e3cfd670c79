package org.rbench.datasets;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A text's token ids and the characters each token stands for: token {@code i} covers
 * {@code text[starts[i], ends[i])} (UTF-16 indices). A token that adds text the input does
 * not have (SentencePiece's leading space) covers only the input characters it matches, and
 * may cover none ({@code starts[i] == ends[i]}); a token holding part of a character's UTF-8
 * bytes covers that whole character.
 */
public record TokenizedText(int[] ids, int[] starts, int[] ends) {

    public TokenizedText {
        Objects.requireNonNull(ids, "ids");
        if (starts.length != ids.length || ends.length != ids.length) {
            throw new IllegalArgumentException("one start and one end per token: " + ids.length + " tokens, "
                    + starts.length + " starts, " + ends.length + " ends");
        }
    }

    /**
     * The tokens that cover any character of each character span, as token spans, in the
     * order given. A span that no token covers is an error (it would measure nothing).
     */
    public List<Span> tokenSpans(List<Span> characterSpans) {
        List<Span> out = new ArrayList<>(characterSpans.size());
        for (Span chars : characterSpans) {
            // tokens are in text order: the first token ending after the span's start opens it
            int first = firstEndingAfter(chars.start());
            int end = first;
            while (end < ids.length && starts[end] < chars.end()) {
                end++;
            }
            int start = first;
            while (start < end && ends[start] == starts[start]) {
                start++; // a token that covers no character is in no span
            }
            if (start >= end) {
                throw new IllegalArgumentException("no token covers characters [" + chars.start() + ", " + chars.end()
                        + ") of the text");
            }
            out.add(new Span(start, end));
        }
        return out;
    }

    /** The first token whose characters end after {@code position} (binary search: ends never decrease). */
    private int firstEndingAfter(int position) {
        int lo = 0;
        int hi = ids.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ends[mid] <= position) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
