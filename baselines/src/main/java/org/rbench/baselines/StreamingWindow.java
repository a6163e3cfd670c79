package org.rbench.baselines;

/**
 * StreamingLLM's cache (mit-han-lab/streaming-llm, kv_cache.py): the first {@code sink}
 * tokens (attention sinks) plus the most recent {@code window} tokens; the middle is
 * evicted before the new token is appended. With {@link Positions#CACHE} (the reference
 * behaviour) keys are rotated by their index in the cache, not their original position.
 */
public final class StreamingWindow {
    /** Which positions RoPE uses for cached keys and the query. */
    public enum Positions { CACHE, ORIGINAL }

    private final int sink;
    private final int window;

    public StreamingWindow(int sink, int window) {
        if (sink < 0 || window <= 0) {
            throw new IllegalArgumentException("sink must be >= 0 and window > 0 (sink=" + sink + ", window=" + window + ")");
        }
        this.sink = sink;
        this.window = window;
    }

    public int budget() {
        return sink + window;
    }

    /**
     * The original positions kept when the newest token is at {@code newest} (its own
     * row included): [0, sink) and (newest - window, newest]; all of 0..newest while they fit.
     */
    public int[] kept(int newest) {
        int n = newest + 1;
        if (n <= sink + window) {
            int[] all = new int[n];
            java.util.Arrays.setAll(all, i -> i);
            return all;
        }
        int[] out = new int[sink + window];
        for (int i = 0; i < sink; i++) {
            out[i] = i;
        }
        for (int i = 0; i < window; i++) {
            out[sink + i] = n - window + i;
        }
        return out;
    }

    /** The RoPE position of each kept row: its cache index or its original position. */
    public int[] ropePositions(int[] kept, Positions mode) {
        if (mode == Positions.ORIGINAL) {
            return kept.clone();
        }
        int[] out = new int[kept.length];
        java.util.Arrays.setAll(out, i -> i);
        return out;
    }
}
