package org.rbench.core.engine;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * Per-step times of a decoding run: wall, and the {@link Part}s it is spent in. What is
 * left of the wall time beyond the parts is planning and the engine's own bookkeeping.
 * Recording is a few nanoTime calls and array stores per step, cheap enough to leave on
 * always.
 */
public final class StepTimings {
    /** Where a step's time goes; each is a column of {@code rbench bench --steps-out}. */
    public enum Part {
        /** Inside backend compute calls of the step's own graphs (the device's work, on a GPU with its launch). */
        COMPUTE,
        /** Building graphs and allocating the ones kept for reuse (0 when the step reused one). */
        BUILD,
        /** Filling the graphs' inputs: token, positions, mask, rows to gather (host to device). */
        INPUTS,
        /** Reading results back: logits, and what the policy asked to observe (device to host). */
        READBACK,
        /** The policy after the compute: its observations and end-of-step work, row copies included. */
        POLICY
    }

    private long[] wall = new long[64];
    private int[] wholeCacheLayers = new int[64];
    private final long[][] parts = new long[Part.values().length][64];
    private int count;

    /**
     * Records a step: {@code wholeCache} layers attended the whole cache (a Recycled refresh,
     * a full-attention layer); {@code parts} in {@link Part} order.
     */
    void record(long wallNanos, int wholeCache, long... partNanos) {
        if (partNanos.length != parts.length) {
            throw new IllegalArgumentException(partNanos.length + " parts recorded, " + parts.length + " expected");
        }
        if (count == wall.length) {
            wall = Arrays.copyOf(wall, count * 2);
            wholeCacheLayers = Arrays.copyOf(wholeCacheLayers, count * 2);
            for (int p = 0; p < parts.length; p++) {
                parts[p] = Arrays.copyOf(parts[p], count * 2);
            }
        }
        wall[count] = wallNanos;
        wholeCacheLayers[count] = wholeCache;
        for (int p = 0; p < parts.length; p++) {
            parts[p][count] = partNanos[p];
        }
        count++;
    }

    public int steps() {
        return count;
    }

    /** Wall time of each step: planning, graph building, transfers, compute, read-back, policy. */
    public long[] wallNanos() {
        return Arrays.copyOf(wall, count);
    }

    /**
     * How many layers of each step attended the whole cache: tells a sparse method's full
     * (refresh) steps, whose time differs by an order of magnitude, from its sparse ones.
     */
    public int[] wholeCacheLayers() {
        return Arrays.copyOf(wholeCacheLayers, count);
    }

    /** Time of each step in one part. */
    public long[] nanos(Part part) {
        return Arrays.copyOf(parts[part.ordinal()], count);
    }

    /** Every part's times, in {@link Part} order. */
    public Map<Part, long[]> allParts() {
        Map<Part, long[]> out = new EnumMap<>(Part.class);
        for (Part p : Part.values()) {
            out.put(p, nanos(p));
        }
        return out;
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
