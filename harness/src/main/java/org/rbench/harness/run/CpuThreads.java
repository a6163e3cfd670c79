package org.rbench.harness.run;

import java.util.Optional;

/**
 * The number of CPU threads ggml and llama.cpp compute with: one default, one check and one
 * warning for every command's {@code --threads} and a sweep's {@code threads}.
 *
 * <p>ggml's CPU threads meet at a barrier after every operation of a graph and wait there by
 * spinning, never yielding their core. A thread that has no core of its own (more threads
 * than cores, or another busy process on one of them) is descheduled for whole time slices
 * while the others spin, and every operation waits for it: on this suite's 2-core machine,
 * decoding the embedded model with 2 threads beside one busy process took 63-352 ms a token
 * against 2.3-3.7 ms with 1 thread (docs/results/2026-12-03-thread-default.md). The default
 * therefore leaves one core free, for the JVM's own threads (JIT, GC) and whatever else runs.
 */
public final class CpuThreads {
    /** The help text of every {@code --threads} option. */
    public static final String DESCRIPTION = "CPU threads for ggml and llama.cpp, at least 1 (default: all cores but one,"
            + " here ${DEFAULT-VALUE}). ggml's threads wait for each other by spinning, so more threads than idle cores"
            + " makes every step wait for a descheduled thread.";

    private CpuThreads() {
    }

    /** The default on a machine with {@code cores} available cores: all but one, at least 1. */
    public static int defaultFor(int cores) {
        return Math.max(1, cores - 1);
    }

    /** The default on this machine (cores available to this JVM: its affinity mask and CPU quota). */
    public static int defaultCount() {
        return defaultFor(cores());
    }

    public static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Why {@code threads} is not a thread count, or empty when it is one. */
    public static Optional<String> invalid(int threads) {
        return threads >= 1 ? Optional.empty() : Optional.of("threads must be at least 1, got " + threads);
    }

    /** A warning when {@code threads} exceeds {@code cores}, or empty. */
    public static Optional<String> oversubscribed(int threads, int cores) {
        if (threads <= cores) {
            return Optional.empty();
        }
        return Optional.of("warning: " + threads + " threads on " + cores + " cores: ggml's threads wait for each other"
                + " at every operation, so steps will stall while a thread has no core (use at most " + defaultFor(cores)
                + ", the default)");
    }

    /** Prints the warning for {@code threads} on this machine, if any. */
    public static void warnIfOversubscribed(int threads, java.io.PrintStream err) {
        oversubscribed(threads, cores()).ifPresent(w -> err.println("rbench: " + w));
    }
}
