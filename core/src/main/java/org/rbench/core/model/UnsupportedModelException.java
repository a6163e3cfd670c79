package org.rbench.core.model;

/** The model file is valid GGUF but uses something the engine does not implement. */
public class UnsupportedModelException extends IllegalArgumentException {
    public UnsupportedModelException(String message) {
        super(message);
    }
}
