package org.rbench.core.attention;

import java.util.Arrays;

/**
 * What one layer attends to in one decode step. The engine writes the new token's K/V
 * into the full cache before every plan; a plan only chooses which rows the attention
 * reads. Plans are immutable; {@link #withProbabilities()} and {@link #withQuery()} add
 * read-backs that the engine delivers to {@link AttentionPolicy#observe}.
 */
public sealed interface AttentionPlan {

    /** Read the attention probabilities of this layer back after the step. */
    boolean probabilities();

    /** Read this token's query vectors at this layer back after the step. */
    boolean query();

    AttentionPlan withProbabilities();


    AttentionPlan withQuery();

    /** Attend to every cached row [0, position]. */
    static Full full() {
        return new Full(false, false, null);
    }

    /**
     * Attend to explicit rows of the full cache, chosen per KV head: {@code rows} holds
     * {@code kvHeads} blocks of {@code rowsPerHead} cache positions (head-major). The new
     * token's row (its position) must be among them if the policy wants it attended.
     */
    static Gather gather(int rowsPerHead, int[] rows) {
        return new Gather(rowsPerHead, rows.clone(), null, false, false);
    }

    /** Attend to the rows held in a device tensor the policy keeps (no host transfer per step). */
    static Gather gather(RowIndices deviceRows) {
        return new Gather(deviceRows.rowsPerHead(), null, deviceRows, false, false);
    }

    /**
     * Attend to rows [0, rows) of a policy-owned compact cache, after the engine has
     * written the new token's K/V at row {@code newTokenRow} of it (which must be below
     * {@code rows}).
     */
    static Compact compact(CompactCache cache, int newTokenRow, int rows) {
        return new Compact(cache, newTokenRow, rows, -1, false, false);
    }

    /**
     * H2O with its decisions on the device: attend to the layer's slots of {@code state}
     * after writing the new token into its free slot, accumulate the step's attention there
     * and free the next slot, all in the step's graph (see {@link HeavyHitterSlots}).
     */
    static HeavyHitters heavyHitters(HeavyHitterSlots state, int layer) {
        return new HeavyHitters(state, layer, false, false);
    }

    /**
     * Attend to ranges [start, end) of the full cache, the same for every head (e.g. the
     * attention sinks plus a recent window). One range is a zero-copy view; several are
     * joined into one contiguous block.
     */
    static Ranges ranges(int[] starts, int[] ends) {
        return new Ranges(starts.clone(), ends.clone(), false, false);
    }

    /**
     * @param topRows null, or the rows to select on the device from this step's attention
     *                and deliver as {@link LayerObservation#topRows()}
     */
    record Full(boolean probabilities, boolean query, TopRows topRows) implements AttentionPlan {
        public Full withProbabilities() {
            return new Full(true, query, topRows);
        }

        public Full withQuery() {
            return new Full(probabilities, true, topRows);
        }

        /** Select the top rows per KV head on the device (see {@link TopRows}). */
        public Full withTopRows(TopRows request) {
            return new Full(probabilities, query, java.util.Objects.requireNonNull(request));
        }
    }

    record Gather(int rowsPerHead, int[] rows, RowIndices deviceRows, boolean probabilities, boolean query)
            implements AttentionPlan {
        public Gather {
            if (rowsPerHead <= 0) {
                throw new IllegalArgumentException("a gather needs at least one row per head, got " + rowsPerHead);
            }
            if ((rows == null) == (deviceRows == null)) {
                throw new IllegalArgumentException("a gather takes either host rows or device rows");
            }
            if (rows != null && rows.length % rowsPerHead != 0) {
                throw new IllegalArgumentException(rows.length + " rows is not a multiple of " + rowsPerHead + " rows per head");
            }
        }

        public Gather withProbabilities() {
            return new Gather(rowsPerHead, rows, deviceRows, true, query);
        }

        public Gather withQuery() {
            return new Gather(rowsPerHead, rows, deviceRows, probabilities, true);
        }

        @Override
        public String toString() {
            return "Gather[" + rowsPerHead + " rows per head" + (deviceRows != null ? " on device" : "") + "]";
        }
    }

    /**
     * @param position -1: the new token's query and compact-cache key are rotated at its
     *                 cache position, like everything else; otherwise at this position
     *                 (the full cache still gets the original one). With keys re-rotated by
     *                 {@link AttentionContext#shiftKeys} this gives positions by index in the
     *                 compact cache.
     */
    record Compact(CompactCache cache, int newTokenRow, int rows, int position, boolean probabilities, boolean query)
            implements AttentionPlan {
        public Compact {
            if (rows <= 0 || rows > cache.capacity()) {
                throw new IllegalArgumentException("compact rows " + rows + " outside [1, " + cache.capacity() + "]");
            }
            if (newTokenRow < 0 || newTokenRow >= rows) {
                throw new IllegalArgumentException("the new token's row " + newTokenRow + " must lie in [0, " + rows + ")");
            }
            if (position < -1) {
                throw new IllegalArgumentException("position must be -1 (unchanged) or >= 0, got " + position);
            }
        }

        /** Rotate the new token's query and compact key at {@code p} instead of its cache position. */
        public Compact atPosition(int p) {
            if (p < 0) {
                throw new IllegalArgumentException("position must be >= 0, got " + p);
            }
            return new Compact(cache, newTokenRow, rows, p, probabilities, query);
        }

        public Compact withProbabilities() {
            return new Compact(cache, newTokenRow, rows, position, true, query);
        }

        public Compact withQuery() {
            return new Compact(cache, newTokenRow, rows, position, probabilities, true);
        }
    }

    record HeavyHitters(HeavyHitterSlots state, int layer, boolean probabilities, boolean query) implements AttentionPlan {
        public HeavyHitters {
            java.util.Objects.requireNonNull(state, "state");
            if (layer < 0 || layer >= state.layers()) {
                throw new IllegalArgumentException("layer " + layer + " outside the state's " + state.layers());
            }
        }

        public HeavyHitters withProbabilities() {
            return new HeavyHitters(state, layer, true, query);
        }

        public HeavyHitters withQuery() {
            return new HeavyHitters(state, layer, probabilities, true);
        }

        /** Rows attended per KV head: every slot. */
        public int rows() {
            return state.slots();
        }
    }

    record Ranges(int[] starts, int[] ends, boolean probabilities, boolean query) implements AttentionPlan {
        public Ranges {
            if (starts.length == 0 || starts.length != ends.length) {
                throw new IllegalArgumentException("ranges need matching, non-empty start and end arrays");
            }
            for (int i = 0; i < starts.length; i++) {
                if (starts[i] < 0 || ends[i] <= starts[i] || (i > 0 && starts[i] < ends[i - 1])) {
                    throw new IllegalArgumentException("ranges must be non-empty, ascending and disjoint: "
                            + Arrays.toString(starts) + " / " + Arrays.toString(ends));
                }
            }
        }

        public Ranges withProbabilities() {
            return new Ranges(starts, ends, true, query);
        }

        public Ranges withQuery() {
            return new Ranges(starts, ends, probabilities, true);
        }

        /** Total rows attended. */
        public int rows() {
            int n = 0;
            for (int i = 0; i < starts.length; i++) {
                n += ends[i] - starts[i];
            }
            return n;
        }
    }
}
