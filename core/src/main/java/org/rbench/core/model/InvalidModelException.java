package org.rbench.core.model;

/** The model's metadata or tensors are missing or contradict each other. */
public class InvalidModelException extends IllegalArgumentException {
    public InvalidModelException(String message) {
        super(message);
    }
}
