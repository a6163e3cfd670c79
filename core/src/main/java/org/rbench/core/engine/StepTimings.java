package org.rbench.core.engine;

import java.util.Arrays;

/**
 * Per-step times of a decoding run: wall, and the parts of it spent computing graphs,
 * building (and allocating) graphs, and in the policy's bookkeeping after the step (its
 * observations and end-of-step work, row copies included). What is left of the wall time
 * is planning, input transfers and read-backs. Recording is a few nanoTime calls and array
 * stores per step, cheap enough to leave on always.
 */
public final class StepTimings {
    private long[] wall = new long[64];
    private long[] compute = new long[64];
    private long[] build = new long[64];
    private long[] policy = new long[64];
    private int count;

    void record(long wallNanos, long computeNanos, long buildNanos, long policyNanos) {
        if (count == wall.length) {
            wall = Arrays.copyOf(wall, count * 2);
            compute = Arrays.copyOf(compute, count * 2);
            build = Arrays.copyOf(build, count * 2);
            policy = Arrays.copyOf(policy, count * 2);
        }
        wall[count] = wallNanos;
        compute[count] = computeNanos;
        build[count] = buildNanos;
        policy[count] = policyNanos;
        count++;
    }

    public int steps() {
        return count;
    }

    /** Wall time of each step: planning, graph building, transfers, compute, read-back. */
    public long[] wallNanos() {
        return Arrays.copyOf(wall, count);
    }

    /** Time of each step inside backend compute calls of its own graphs. */
    public long[] computeNanos() {
        return Arrays.copyOf(compute, count);
    }

    /** Time of each step spent building graphs and allocating the ones kept for reuse (0 when it reused one). */
    public long[] buildNanos() {
        return Arrays.copyOf(build, count);
    }

    /** Time of each step in the policy after the compute: observations, end of step, row copies. */
    public long[] policyNanos() {
        return Arrays.copyOf(policy, count);
    }

    public long totalWallNanos() {
        long s = 0;
        for (int i = 0; i < count; i++) {
            s += wall[i];
        }
        return s;
    }

    /** Decode throughput over all recorded steps. */
    public double tokensPerSecond() {
        long total = totalWallNanos();
        return total == 0 ? 0 : count * 1e9 / total;
    }
}
