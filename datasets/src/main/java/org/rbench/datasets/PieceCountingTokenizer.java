package org.rbench.datasets;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts tokens of long prompts piece by piece, caching the counts of pieces, so that text
 * shared by many prompts (haystack prose, noise lines, documents) is tokenized once.
 *
 * <p>Why: a native tokenizer is slow on whole prompts (llama.cpp 0.4.0 on a 32K-token
 * prompt: llama-bpe about 25 ms, llama-spm 150 to 190 ms), and sizing needs about one count
 * per sample. Samples of a task share almost all of their haystack, so most pieces are
 * cached: 100 samples of the 11 offline tasks at 32K take 25 s (llama-bpe) and 22-30 s
 * (llama-spm) instead of 47 s and 100-141 s with full counts
 * (docs/results/2026-11-28-ruler-gen-32k.md).
 *
 * <p>How: a long text is cut at single spaces chosen by content (after a word whose hash
 * hits, at least {@value #MIN_PIECE} characters apart; or after {@value #MAX_PIECE}
 * characters), so the same haystack text gives the same pieces whatever is inserted
 * elsewhere. The count is the sum of the pieces' counts. The two vocabulary families the
 * suite targets are additive at a single space by construction: Llama 3's pre-tokenizer
 * starts a pre-token at a space before a word, punctuation or number, and merges stay inside
 * pre-tokens (the space starts the next piece); llama-spm's 32,000 pieces never hold '▁'
 * after another character, so no merge crosses a word start, and the tokenizer puts the
 * space back itself as the dummy prefix (the space is dropped). Which of the two joins holds
 * is detected on the first long text by comparing with a full count; if neither does, this
 * counter stays off and every count is a full count.
 *
 * <p>Checks: the first {@value #CHECKED_FIRST} long texts and then one in
 * {@value #CHECK_EVERY} are also counted in full; on any difference the counter switches
 * itself off for good and {@link #mismatches()} reports it, so that callers can redo what
 * they counted piecewise ({@link RulerGenerator#generateAll} does).
 */
public final class PieceCountingTokenizer implements Tokenizer {

    static final int MIN_TEXT = 8192;
    static final int MIN_PIECE = 1024;
    static final int MAX_PIECE = 4096;
    static final int CHECKED_FIRST = 3;
    static final int CHECK_EVERY = 32;
    private static final int CACHE_ENTRIES = 16_384;

    private enum Join {
        /** The space starts the next piece (Llama 3 style pre-tokenizers). */
        SPACE_STARTS_NEXT,
        /** The space is dropped; the tokenizer adds it back before the next piece (SentencePiece). */
        SPACE_DROPPED
    }

    private final Tokenizer base;
    private final Map<String, Integer> cache = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > CACHE_ENTRIES;
        }
    };
    private Join join;
    private boolean off;
    private long longTexts;
    private long fullCounts;
    private long pieceCounts;
    private long mismatches;

    public PieceCountingTokenizer(Tokenizer base) {
        this.base = base;
    }

    @Override
    public int[] encode(String text) {
        return base.encode(text);
    }

    @Override
    public TokenizedText encodeWithOffsets(String text) {
        return base.encodeWithOffsets(text);
    }

    @Override
    public String name() {
        return base.name();
    }

    @Override
    public java.util.Optional<ChatFormatter> chatFormatter() {
        return base.chatFormatter();
    }

    /** Whether counts are still taken piecewise (not switched off by a mismatch or an undetected join). */
    public synchronized boolean active() {
        return !off;
    }

    /** Piecewise counts that differed from a full count (after the first, the counter is off). */
    public synchronized long mismatches() {
        return mismatches;
    }

    /** Full counts taken on the underlying tokenizer (short texts, detection and checks). */
    public synchronized long fullCounts() {
        return fullCounts;
    }

    /** Counts of pieces taken on the underlying tokenizer (cache misses). */
    public synchronized long pieceCounts() {
        return pieceCounts;
    }

    @Override
    public synchronized int count(String text) {
        if (off || text.length() < MIN_TEXT) {
            return full(text);
        }
        int[] cuts = cuts(text);
        if (cuts.length == 0) {
            return full(text);
        }
        longTexts++;
        if (join == null) {
            int full = full(text);
            for (Join candidate : Join.values()) {
                if (sum(text, cuts, candidate) == full) {
                    join = candidate;
                    return full;
                }
            }
            off = true; // this tokenizer is not additive at spaces
            cache.clear();
            return full;
        }
        int sum = sum(text, cuts, join);
        if (longTexts <= CHECKED_FIRST || longTexts % CHECK_EVERY == 0) {
            int full = full(text);
            if (full != sum) {
                mismatches++;
                off = true;
                cache.clear();
                return full;
            }
        }
        return sum;
    }

    private int full(String text) {
        fullCounts++;
        return base.count(text);
    }

    private int sum(String text, int[] cuts, Join how) {
        int total = 0;
        int start = 0;
        for (int cut : cuts) {
            total += piece(text.substring(start, cut));
            start = how == Join.SPACE_DROPPED ? cut + 1 : cut;
        }
        return total + piece(text.substring(start));
    }

    private int piece(String piece) {
        Integer cached = cache.get(piece);
        if (cached != null) {
            return cached;
        }
        pieceCounts++;
        int count = base.count(piece);
        cache.put(piece, count);
        return count;
    }

    /**
     * Positions of the spaces where the text is cut: single spaces between two non-space
     * characters, after a word whose hash is 0 mod 32 and at least MIN_PIECE after the last
     * cut, or at the first such space after MAX_PIECE characters.
     */
    static int[] cuts(String text) {
        int[] cuts = new int[text.length() / MIN_PIECE + 1];
        int n = 0;
        int last = 0;
        int wordHash = 0;
        for (int i = 1; i + 1 < text.length(); i++) {
            char c = text.charAt(i);
            if (c != ' ') {
                wordHash = Character.isWhitespace(c) ? 0 : wordHash * 31 + c;
                continue;
            }
            boolean single = !Character.isWhitespace(text.charAt(i - 1)) && !Character.isWhitespace(text.charAt(i + 1));
            int length = i - last;
            if (single && length >= MIN_PIECE && ((wordHash & 31) == 0 || length >= MAX_PIECE)) {
                cuts[n++] = i;
                last = i;
            }
            wordHash = 0;
        }
        return java.util.Arrays.copyOf(cuts, n);
    }
}
