package org.rbench.datasets;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Essay-like prose for the essay haystack, kept as one whitespace-normalised string.
 *
 * <p>As in the reference, the prose is split into words at single spaces; a haystack of N
 * words is the first N words (the text repeated when it is shorter), which is then split
 * into sentences. Keeping one string with word end offsets makes "the first N words" a
 * substring, so no per-word strings are held (the installed prose has 1.8M words).
 */
public final class EssayHaystack {

    /** Words before a period that do not end a sentence (titles, months, common abbreviations). */
    private static final Set<String> ABBREVIATIONS = Set.of(
            "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "gov", "sen", "rep", "hon", "rev", "col",
            "capt", "lt", "sgt", "messrs", "no", "nos", "co", "corp", "inc", "ltd", "vs", "etc", "viz", "ibid",
            "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft",
            "vol", "art", "sec", "ch", "p", "pp", "cf", "al", "e.g", "i.e", "u.s", "u.s.a");

    private final String text;
    private final int[] wordEnds;

    /** @param prose any text; whitespace runs become single spaces */
    public EssayHaystack(String prose) {
        this.text = normalize(prose);
        if (text.isEmpty()) {
            throw new IllegalArgumentException("the essay haystack needs some prose");
        }
        List<Integer> ends = new ArrayList<>();
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == ' ') {
                ends.add(i);
            }
        }
        ends.add(text.length());
        this.wordEnds = ends.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Number of words of the prose. */
    public int words() {
        return wordEnds.length;
    }

    /** The first {@code n} words joined by single spaces, repeating the prose when it is shorter. */
    public String firstWords(int n) {
        if (n <= 0) {
            return "";
        }
        if (n <= wordEnds.length) {
            return text.substring(0, wordEnds[n - 1]);
        }
        int repeats = n / wordEnds.length;
        int rest = n % wordEnds.length;
        StringBuilder out = new StringBuilder((text.length() + 1) * (repeats + 1));
        for (int r = 0; r < repeats; r++) {
            if (r > 0) {
                out.append(' ');
            }
            out.append(text);
        }
        if (rest > 0) {
            out.append(' ').append(text, 0, wordEnds[rest - 1]);
        }
        return out.toString();
    }

    /** Collapses whitespace runs to single spaces and strips, like the reference's re.sub(r'\s+', " ", text). */
    static String normalize(String prose) {
        StringBuilder out = new StringBuilder(prose.length());
        boolean space = false;
        for (int i = 0; i < prose.length(); i++) {
            char c = prose.charAt(i);
            if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                space = true;
            } else {
                if (space && !out.isEmpty()) {
                    out.append(' ');
                }
                space = false;
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Splits normalised text (single spaces) into sentences; returns the end offset of each
     * sentence. Sentence i spans [end(i-1) + 1, end(i)). This stands in for NLTK's punkt:
     * a sentence ends at '.', '!' or '?' (and any closing quotes or brackets) followed by a
     * space and a capital letter, digit or opening quote, unless the period ends a known
     * abbreviation or a single letter (an initial).
     */
    static int[] sentenceEnds(String text) {
        List<Integer> ends = new ArrayList<>();
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c != '.' && c != '!' && c != '?') {
                continue;
            }
            int end = i + 1;
            while (end < n && isClosing(text.charAt(end))) {
                end++;
            }
            if (end + 1 >= n || text.charAt(end) != ' ' || !startsSentence(text.charAt(end + 1))) {
                continue;
            }
            if (c == '.' && isAbbreviation(text, i)) {
                continue;
            }
            ends.add(end);
            i = end;
        }
        if (ends.isEmpty() || ends.getLast() != n) {
            ends.add(n);
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    private static boolean isClosing(char c) {
        return c == '"' || c == '\'' || c == ')' || c == ']' || c == '\u201D' || c == '\u2019';
    }

    private static boolean startsSentence(char c) {
        return Character.isUpperCase(c) || Character.isDigit(c) || c == '"' || c == '\'' || c == '('
                || c == '[' || c == '\u201C' || c == '\u2018';
    }

    /** Whether the word ending with the period at {@code period} is an abbreviation or an initial. */
    private static boolean isAbbreviation(String text, int period) {
        int start = period;
        while (start > 0 && text.charAt(start - 1) != ' ') {
            start--;
        }
        while (start < period && !Character.isLetterOrDigit(text.charAt(start))) {
            start++; // opening quotes or brackets
        }
        String word = text.substring(start, period).toLowerCase(java.util.Locale.ROOT);
        if (word.length() == 1 && Character.isLetter(word.charAt(0))) {
            return true;
        }
        return ABBREVIATIONS.contains(word);
    }
}
