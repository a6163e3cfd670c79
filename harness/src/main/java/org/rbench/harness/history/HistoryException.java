package org.rbench.harness.history;

/** A history file that cannot be used, or input that cannot go into it; the message names the file. */
public final class HistoryException extends Exception {
    public HistoryException(String message) {
        super(message);
    }

    public HistoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
