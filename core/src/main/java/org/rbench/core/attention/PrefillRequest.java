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
 * @param hostLastRows the last this-many rows where the prefill runs on the CPU, where reading them
 *                   is a copy; on a GPU, where they would cross the bus, the last query instead, from
 *                   which a policy computes on the device what it needs of them ({@link #on})
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

    /**
     * What a prefill on the CPU ({@code cpu}) or on a GPU collects for this request, with no
     * {@code hostLastRows} left: on the CPU those rows join {@code lastRows}, on a GPU the last
     * query stands for them. Two requests that collect the same on a backend are then equal (one
     * prefill serves both).
     */
    public PrefillRequest on(boolean cpu) {
        if (hostLastRows == 0) {
            return this;
        }
        return cpu ? new PrefillRequest(Math.max(lastRows, hostLastRows), columnSums, lastQuery, windowSums, 0)
                : new PrefillRequest(lastRows, columnSums, true, windowSums, 0);
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
