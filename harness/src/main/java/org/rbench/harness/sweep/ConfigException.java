package org.rbench.harness.sweep;

/** A sweep configuration is malformed; the message names the file and the setting. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
