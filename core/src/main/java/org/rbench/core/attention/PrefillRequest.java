package org.rbench.core.attention;

/**
 * Statistics a prefill should collect (each costs extra compute only when asked for).
 *
 * @param lastRows   attention rows of the last this-many prompt tokens, per layer and query
 *                   head (1 for Recycled Attention; a SnapKV observation window is larger)
 * @param columnSums attention each prompt token received, summed over all query rows of the
 *                   prompt, per layer and query head (H2O's scores), computed in query chunks
 *                   so the full L x L matrix never exists
 * @param lastQuery  the last prompt token's query vectors per layer
 */
public record PrefillRequest(int lastRows, boolean columnSums, boolean lastQuery) {
    public static final PrefillRequest NONE = new PrefillRequest(0, false, false);

    public PrefillRequest {
        if (lastRows < 0) {
            throw new IllegalArgumentException("lastRows must be >= 0, got " + lastRows);
        }
    }

    /** What two consumers need together (one prefill serving several methods). */
    public PrefillRequest union(PrefillRequest other) {
        return new PrefillRequest(Math.max(lastRows, other.lastRows), columnSums || other.columnSums,
                lastQuery || other.lastQuery);
    }

    public boolean any() {
        return lastRows > 0 || columnSums || lastQuery;
    }
}
