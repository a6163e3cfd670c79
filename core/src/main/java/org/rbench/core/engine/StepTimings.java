package org.rbench.core.engine;

import java.util.Arrays;

/**
 * Per-step wall and compute times of a decoding run. Recording is two nanoTime calls
 * and an array store per step, cheap enough to leave on always.
 */
public final class StepTimings {
    private long[] wall = new long[64];
    private long[] compute = new long[64];
    private int count;

    void record(long wallNanos, long computeNanos) {
        if (count == wall.length) {
            wall = Arrays.copyOf(wall, count * 2);
            compute = Arrays.copyOf(compute, count * 2);
        }
        wall[count] = wallNanos;
        compute[count] = computeNanos;
        count++;
    }

    public int steps() {
        return count;
    }

    /** Wall time of each step: planning, graph building, transfers, compute, read-back. */
    public long[] wallNanos() {
        return Arrays.copyOf(wall, count);
    }

    /** Time of each step inside backend compute calls. */
    public long[] computeNanos() {
        return Arrays.copyOf(compute, count);
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
