package org.rbench.analysis;

/** The command line is wrong; the message says how, and the command adds its usage line. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
