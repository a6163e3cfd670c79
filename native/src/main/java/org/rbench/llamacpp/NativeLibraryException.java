package org.rbench.llamacpp;

/**
 * A native library could not be found, loaded, or does not match what the bindings
 * expect. Always carries a message that says what was looked for and how to fix it.
 */
public final class NativeLibraryException extends RuntimeException {
    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
