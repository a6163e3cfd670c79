package org.rbench.datasets;

/**
 * A half-open range {@code [start, end)} of a sequence: characters of a prompt (UTF-16 indices
 * of the Java string) or tokens of its token ids, as the holder says.
 */
public record Span(int start, int end) {

    public Span {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("a span needs 0 <= start <= end, got [" + start + ", " + end + ")");
        }
    }

    public int length() {
        return end - start;
    }

    /** This span moved by {@code offset}. */
    public Span shift(int offset) {
        return new Span(start + offset, end + offset);
    }
}
