package org.rbench.analysis;

/**
 * A results file cannot be used: it is missing, unreadable, lacks required columns or holds a
 * value that does not parse. The message names the file and, where it applies, the line and the
 * column, so that it can be shown to the user as it is.
 */
public final class ResultsInputException extends Exception {
    private static final long serialVersionUID = 1L;

    public ResultsInputException(String message) {
        super(message);
    }

    public ResultsInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
