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
 * @param hostLastRows {@code lastRows} only where the prefill runs on the CPU, where reading them
 *                   is a copy (none on a GPU, where they cross the bus: a policy then computes from
 *                   {@code lastQuery} on the device what it needs of them)
 */
public record PrefillRequest(int lastRows, boolean columnSums, boolean lastQuery, int windowSums, int hostLastRows) {
    public static final PrefillRequest NONE = new PrefillRequest(0, false, false, 0);

    public PrefillRequest {
        if (lastRows < 0 || windowSums < 0 || hostLastRows < 0) {
            throw new IllegalArgumentException("lastRows, windowSums and hostLastRows must be >= 0, got " + lastRows + ", "
                    + windowSums + " and " + hostLastRows);
        }
    }

    public PrefillRequest(int lastRows, boolean columnSums, boolean lastQuery, int windowSums) {
        this(lastRows, columnSums, lastQuery, windowSums, 0);
    }

    public PrefillRequest(int lastRows, boolean columnSums, boolean lastQuery) {
        this(lastRows, columnSums, lastQuery, 0);
    }

    /** The last rows a prefill collects: {@code lastRows}, and {@code hostLastRows} too on the CPU. */
    public int lastRowsOn(boolean cpu) {
        return Math.max(lastRows, cpu ? hostLastRows : 0);
    }

    /** The most prompt tokens at the end of the prompt that any statistic here reads rows of. */
    public int lastTokensRead() {
        return Math.max(Math.max(lastRows, hostLastRows), windowSums);
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
        int host = Math.max(hostLastRows, other.hostLastRows);
        if (windowSums > 0 && other.windowSums > 0 && windowSums != other.windowSums) {
            int rows = Math.max(Math.max(lastRows, other.lastRows), Math.max(windowSums, other.windowSums));
            return new PrefillRequest(rows, cs, lq, 0, host);
        }
        return new PrefillRequest(Math.max(lastRows, other.lastRows), cs, lq, Math.max(windowSums, other.windowSums), host);
    }

    public boolean any() {
        return lastRows > 0 || columnSums || lastQuery || windowSums > 0 || hostLastRows > 0;
    }
}
