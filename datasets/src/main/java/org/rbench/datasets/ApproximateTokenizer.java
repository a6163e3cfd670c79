package org.rbench.datasets;

import java.util.Arrays;

/**
 * A fast, deterministic stand-in for a real vocabulary, for tests and dry runs.
 *
 * <p>It mimics how the two vocabularies the suite targets cut English text, closely enough
 * that sizing, filling and cost behave as with the real thing (about 1.3 tokens per word
 * of prose):
 * <ul>
 *   <li>{@link #spmLike()} (like llama-spm, Llama 2, 32K pieces): a space joins the next
 *       word; every digit, punctuation mark and newline is a token of its own; a word of
 *       L letters takes 1 + (L-1)/8 tokens.</li>
 *   <li>{@link #bpeLike()} (like llama-bpe, Llama 3, 128K pieces): digits go in groups of
 *       up to three with the space before them a token of its own; punctuation runs and
 *       newline runs are one token; a word of L letters takes 1 + (L-1)/10 tokens.</li>
 * </ul>
 * Ids are a hash of the piece's characters, so equal pieces get equal ids. It is not a
 * real tokenizer: use the harness's adapter of the llama.cpp vocabulary for real runs.
 */
public final class ApproximateTokenizer implements Tokenizer {

    private enum Flavour { SPM_LIKE, BPE_LIKE }

    private final Flavour flavour;
    private final int vocabularySize;
    private final String name;

    private ApproximateTokenizer(Flavour flavour, int vocabularySize, String name) {
        this.flavour = flavour;
        this.vocabularySize = vocabularySize;
        this.name = name;
    }

    /** Approximates the llama-spm vocabulary (Llama 2). */
    public static ApproximateTokenizer spmLike() {
        return new ApproximateTokenizer(Flavour.SPM_LIKE, 32_000, "approx-llama-spm");
    }

    /** Approximates the llama-bpe vocabulary (Llama 3). */
    public static ApproximateTokenizer bpeLike() {
        return new ApproximateTokenizer(Flavour.BPE_LIKE, 128_256, "approx-llama-bpe");
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int count(String text) {
        return scan(text, null);
    }

    @Override
    public int[] encode(String text) {
        Ids ids = new Ids(text.length() / 3 + 16);
        scan(text, ids);
        return ids.toArray();
    }

    /** The pieces' characters are the token's: a joined leading space belongs to the token after it. */
    @Override
    public TokenizedText encodeWithOffsets(String text) {
        Ids ids = new Ids(text.length() / 3 + 16);
        scan(text, ids);
        return new TokenizedText(ids.toArray(), ids.starts(), ids.ends());
    }

    /** Cuts {@code text} into pieces; counts them, and when {@code ids} is given, records their ids. */
    private int scan(String text, Ids ids) {
        int tokens = 0;
        int n = text.length();
        int i = 0;
        int pieceStart = 0; // where the current piece starts, including a joined leading space
        while (i < n) {
            char c = text.charAt(i);
            if (c == ' ') {
                int j = i;
                while (j < n && text.charAt(j) == ' ') {
                    j++;
                }
                boolean joinsNext = j < n && spaceJoins(text.charAt(j));
                if (joinsNext) {
                    if (j - i > 1) { // all but the last space form a token; the last joins the next piece
                        tokens += emit(ids, text, i, j - 1, 1);
                    }
                    pieceStart = j - 1;
                } else {
                    tokens += emit(ids, text, i, j, 1);
                    pieceStart = j;
                }
                i = j;
                continue;
            }
            int start = Math.min(pieceStart, i);
            if (Character.isLetter(c)) {
                int j = i;
                while (j < n && Character.isLetter(text.charAt(j))) {
                    j++;
                }
                int letters = j - i;
                int perToken = flavour == Flavour.SPM_LIKE ? 8 : 10;
                tokens += emit(ids, text, start, j, 1 + (letters - 1) / perToken);
                i = j;
            } else if (c >= '0' && c <= '9') {
                int j = i;
                while (j < n && text.charAt(j) >= '0' && text.charAt(j) <= '9') {
                    j++;
                }
                int digits = j - i;
                tokens += emit(ids, text, start, j, flavour == Flavour.SPM_LIKE ? digits : (digits + 2) / 3);
                i = j;
            } else if (c == '\n' || c == '\r') {
                int j = i + 1;
                if (flavour == Flavour.BPE_LIKE) {
                    while (j < n && (text.charAt(j) == '\n' || text.charAt(j) == '\r')) {
                        j++;
                    }
                }
                tokens += emit(ids, text, start, j, 1);
                i = j;
            } else if (flavour == Flavour.BPE_LIKE && isPunctuation(c)) {
                int j = i;
                while (j < n && isPunctuation(text.charAt(j))) {
                    j++;
                }
                tokens += emit(ids, text, start, j, 1 + (j - i - 1) / 4);
                i = j;
            } else {
                tokens += emit(ids, text, start, i + 1, 1);
                i++;
            }
            pieceStart = i;
        }
        return tokens;
    }

    /** Whether a space is part of the piece that follows it (otherwise it is a token itself). */
    private boolean spaceJoins(char next) {
        if (next == '\n' || next == '\r' || Character.isWhitespace(next)) {
            return false;
        }
        // Llama 3's pre-tokenizer keeps numbers apart from the space before them.
        return flavour == Flavour.SPM_LIKE || !(next >= '0' && next <= '9');
    }

    private static boolean isPunctuation(char c) {
        return !Character.isLetterOrDigit(c) && !Character.isWhitespace(c);
    }

    /** Records {@code count} tokens for the piece text[from, to); returns count. */
    private int emit(Ids ids, String text, int from, int to, int count) {
        if (ids != null) {
            int length = to - from;
            for (int t = 0; t < count; t++) {
                int a = from + (int) ((long) length * t / count);
                int b = from + (int) ((long) length * (t + 1) / count);
                int h = 0x9E3779B9;
                for (int k = a; k < b; k++) {
                    h = (h ^ text.charAt(k)) * 0x01000193;
                }
                ids.add(Math.floorMod(h, vocabularySize), a, b);
            }
        }
        return count;
    }

    /** Token ids with the character range each came from. */
    private static final class Ids {
        private int[] values;
        private int[] starts;
        private int[] ends;
        private int size;

        Ids(int capacity) {
            values = new int[Math.max(16, capacity)];
            starts = new int[values.length];
            ends = new int[values.length];
        }

        void add(int id, int start, int end) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
                starts = Arrays.copyOf(starts, size * 2);
                ends = Arrays.copyOf(ends, size * 2);
            }
            starts[size] = start;
            ends[size] = end;
            values[size++] = id;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }

        int[] starts() {
            return Arrays.copyOf(starts, size);
        }

        int[] ends() {
            return Arrays.copyOf(ends, size);
        }
    }
}
