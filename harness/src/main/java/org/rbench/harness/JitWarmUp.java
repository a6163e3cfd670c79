package org.rbench.harness;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * How many unrecorded rounds {@code bench} decodes before it measures: at least the number asked
 * for, then more while the JIT compiler is still busy, up to {@link #MOST_ROUNDS} and
 * {@link #MOST_NANOS} of warming up. A round is one
 * decode of every method. On a machine with as many cores as compute threads, the JVM's compiler
 * threads take cores from ggml's workers: on this project's 2-core machine at 2 threads, the
 * first seven 64-token decodes at 2K ran at 1.3-1.6 ms a token and the later ones at 0.85-1.0,
 * while the compiler was still compiling the engine's code (JIT log). Stock llama-bench, a C++
 * program, needs no such warm-up.
 */
final class JitWarmUp {
    /** The compiler is quiet once its threads' time in a round is under this share of the round's wall time. */
    static final double QUIET_SHARE = 0.05;
    /** Rounds at most, whatever the compiler does. */
    static final int MOST_ROUNDS = 20;
    /** No round beyond the asked-for ones starts after this long warming up (a GPU's long contexts). */
    static final long MOST_NANOS = 30_000_000_000L;

    private final int least;
    private final LongSupplier compiledMs;
    private final LongSupplier clockNanos;
    private int rounds;
    private long firstStartNanos = -1;
    private long roundStartNanos;
    private long compiledAtStart;
    private double lastShare = Double.NaN;

    /**
     * @param least      rounds at least (0: none, a cold start is measured)
     * @param compiledMs the compiler's accumulated time, ms, or -1 where the JVM does not tell
     * @param clockNanos a monotonic clock
     */
    JitWarmUp(int least, LongSupplier compiledMs, LongSupplier clockNanos) {
        if (least < 0) {
            throw new IllegalArgumentException("warm-up rounds at least 0, not " + least);
        }
        this.least = least;
        this.compiledMs = compiledMs;
        this.clockNanos = clockNanos;
    }

    /** This JVM's compiler, through its management bean. */
    static JitWarmUp ofThisJvm(int least) {
        CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
        LongSupplier compiled = bean != null && bean.isCompilationTimeMonitoringSupported()
                ? bean::getTotalCompilationTime : () -> -1;
        return new JitWarmUp(least, compiled, System::nanoTime);
    }

    /** Whether any round is run at all. */
    boolean wanted() {
        return least > 0;
    }

    void startRound() {
        roundStartNanos = clockNanos.getAsLong();
        if (firstStartNanos < 0) {
            firstStartNanos = roundStartNanos;
        }
        compiledAtStart = compiledMs.getAsLong();
    }

    /** Ends the round started last; whether another one is needed. */
    boolean another() {
        rounds++;
        long now = clockNanos.getAsLong();
        long wallNanos = Math.max(1, now - roundStartNanos);
        long compiled = compiledMs.getAsLong();
        lastShare = compiled < 0 || compiledAtStart < 0 ? Double.NaN : (compiled - compiledAtStart) * 1e6 / wallNanos;
        if (rounds < least) {
            return true;
        }
        return rounds < MOST_ROUNDS && now - firstStartNanos < MOST_NANOS && lastShare >= QUIET_SHARE;
    }

    int rounds() {
        return rounds;
    }

    /**
     * The compiler's time in the last round over the round's wall time (NaN where the JVM does not
     * tell): its threads' times summed, so over 1 where several compiled at once.
     */
    double lastShare() {
        return lastShare;
    }
}
