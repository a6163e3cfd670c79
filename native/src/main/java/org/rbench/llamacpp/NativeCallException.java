package org.rbench.llamacpp;

/**
 * A native call failed in a way the library reported (a NULL handle, a negative status).
 * The message includes the last lines the native library logged, which usually say why.
 */
public final class NativeCallException extends RuntimeException {
    public NativeCallException(String message) {
        super(message);
    }
}
