package org.rbench.core.generate;

/** Receives generated tokens as they come (for streaming output). */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param index 0-based index of the generated token
     * @param token the token id
     * @param text  new complete text since the previous call (may be empty while a
     *              multi-byte character is split over tokens; empty without a vocabulary)
     */
    void onToken(int index, int token, String text);
}
