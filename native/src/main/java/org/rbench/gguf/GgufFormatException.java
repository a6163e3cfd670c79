package org.rbench.gguf;

/** A file is not a valid GGUF file; the message says where and why. */
public final class GgufFormatException extends RuntimeException {
    public GgufFormatException(String message) {
        super(message);
    }
}
