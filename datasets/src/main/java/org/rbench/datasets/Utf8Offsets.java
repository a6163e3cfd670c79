package org.rbench.datasets;

/** Turns UTF-8 byte ranges of a text into ranges of its Java (UTF-16) characters. */
final class Utf8Offsets {

    private Utf8Offsets() {
    }

    /**
     * Tokens given as byte ranges of {@code text}'s UTF-8 encoding, as character ranges: a range
     * that starts or ends inside a character's bytes covers that whole character.
     */
    static TokenizedText toCharacters(String text, int byteLength, int[] ids, int[] byteStarts, int[] byteEnds) {
        // charStart[b]: the first UTF-16 index of the character byte b belongs to; charEnd[b]: the index after it
        int[] charStart = new int[byteLength + 1];
        int[] charEnd = new int[byteLength + 1];
        int b = 0;
        for (int c = 0; c < text.length(); ) {
            int codePoint = text.codePointAt(c);
            int chars = Character.charCount(codePoint);
            int bytes = utf8Length(codePoint);
            for (int k = 0; k < bytes; k++) {
                charStart[b + k] = c;
                charEnd[b + k] = c + chars;
            }
            b += bytes;
            c += chars;
        }
        if (b != byteLength) {
            throw new IllegalArgumentException("the text has " + b + " UTF-8 bytes, not " + byteLength);
        }
        charStart[byteLength] = text.length();
        int[] starts = new int[ids.length];
        int[] ends = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            starts[i] = charStart[byteStarts[i]];
            ends[i] = byteEnds[i] > byteStarts[i] ? charEnd[byteEnds[i] - 1] : starts[i];
        }
        return new TokenizedText(ids, starts, ends);
    }

    /** Bytes of a code point in String.getBytes(UTF_8), which writes a lone surrogate as one '?'. */
    private static int utf8Length(int codePoint) {
        if (codePoint < 0x80 || (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE)) {
            return 1;
        }
        return codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    }
}
