package org.rbench.core.attention;

/**
 * Statistics a prefill should collect (each costs extra compute only when asked for).
 *
 * @param lastRows   attention rows of the last this-many prompt tokens, per layer and query
 *                   head (a SnapKV observation window shared with another window; Recycled's
 *                   host start reads 1)
 * @param columnSums attention each prompt token received, summed over all query rows of the
 *                   prompt, per layer and query head (H2O's scores), computed in query chunks
 *                   so the full L x L matrix never exists
 * @param lastQuery  the last prompt token's query vectors per layer
 * @param windowSums attention each prompt token received from the last this-many prompt
 *                   tokens, summed over them on the device, per layer and query head (SnapKV's
 *                   votes: {@code [heads][promptEnd]} where the rows themselves would be
 *                   {@code [heads][window][promptEnd]})
 */
public record PrefillRequest(int lastRows, boolean columnSums, boolean lastQuery, int windowSums) {
    public static final PrefillRequest NONE = new PrefillRequest(0, false, false, 0);

    public PrefillRequest {
        if (lastRows < 0 || windowSums < 0) {
            throw new IllegalArgumentException("lastRows and windowSums must be >= 0, got " + lastRows + " and " + windowSums);
        }
    }

    public PrefillRequest(int lastRows, boolean columnSums, boolean lastQuery) {
        this(lastRows, columnSums, lastQuery, 0);
    }

    /** Only the window sums of the last {@code window} prompt tokens. */
    public static PrefillRequest windowSums(int window) {
        return new PrefillRequest(0, false, false, window);
    }

    /**
     * What two consumers need together (one prefill serving several methods). Sums over two
     * different windows cannot share one statistic: they become the rows of the larger window
     * instead, from which each consumer sums its own.
     */
    public PrefillRequest union(PrefillRequest other) {
        boolean cs = columnSums || other.columnSums;
        boolean lq = lastQuery || other.lastQuery;
        if (windowSums > 0 && other.windowSums > 0 && windowSums != other.windowSums) {
            int rows = Math.max(Math.max(lastRows, other.lastRows), Math.max(windowSums, other.windowSums));
            return new PrefillRequest(rows, cs, lq, 0);
        }
        return new PrefillRequest(Math.max(lastRows, other.lastRows), cs, lq, Math.max(windowSums, other.windowSums));
    }

    public boolean any() {
        return lastRows > 0 || columnSums || lastQuery || windowSums > 0;
    }
}
