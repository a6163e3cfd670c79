package org.rbench.core.testing;

import java.util.function.Supplier;

/**
 * A test that sets a system property (an A/B switch the code reads, such as {@code rbench.keepStartMemory}) gives it
 * back its earlier value afterwards, so that tests later in the same JVM read what they would have read.
 */
public final class SystemProperties {
    private SystemProperties() {
    }

    /** Runs {@code body}, then restores {@code name} to its value before (cleared where it had none). */
    public static <T> T restoring(String name, Supplier<T> body) {
        String before = System.getProperty(name);
        try {
            return body.get();
        } finally {
            set(name, before);
        }
    }

    /** {@link #restoring(String, Supplier)} of a body that returns nothing. */
    public static void restoring(String name, Runnable body) {
        restoring(name, () -> {
            body.run();
            return null;
        });
    }

    /** Sets {@code name} to {@code value}, or clears it where {@code value} is null. */
    public static void set(String name, String value) {
        if (value == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, value);
        }
    }
}
