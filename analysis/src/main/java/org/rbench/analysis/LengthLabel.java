package org.rbench.analysis;

/** Formats context lengths the way the paper does: 32768 tokens is "32K". */
public final class LengthLabel {
    private LengthLabel() {
    }

    public static String of(long tokens) {
        if (tokens >= 1024 && tokens % 1024 == 0) {
            return (tokens / 1024) + "K";
        }
        return Long.toString(tokens);
    }
}
