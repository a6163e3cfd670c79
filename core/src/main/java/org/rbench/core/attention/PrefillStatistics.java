package org.rbench.core.attention;

/**
 * Statistics of one prefill, per layer, as a {@link PrefillRequest} asked. Accessors
 * return null for what was not requested.
 */
public final class PrefillStatistics {
    private final int promptStart;
    private final int promptEnd;
    private final AttentionProbabilities[] lastRows;
    private final float[][] columnSums;
    private final QueryVectors[] lastQuery;

    public PrefillStatistics(int promptStart, int promptEnd, AttentionProbabilities[] lastRows, float[][] columnSums,
                             QueryVectors[] lastQuery) {
        this.promptStart = promptStart;
        this.promptEnd = promptEnd;
        this.lastRows = lastRows;
        this.columnSums = columnSums;
        this.lastQuery = lastQuery;
    }

    public static PrefillStatistics none(int promptStart, int promptEnd) {
        return new PrefillStatistics(promptStart, promptEnd, null, null, null);
    }

    /** Cache position of the prefill's first token. */
    public int promptStart() {
        return promptStart;
    }

    /** Cache position after the prefill's last token (the prompt length for a fresh cache). */
    public int promptEnd() {
        return promptEnd;
    }

    /**
     * Attention rows of the last prompt tokens at a layer: [heads][window][promptEnd]; a
     * row's keys after its own position are 0 (causal).
     */
    public AttentionProbabilities lastRows(int layer) {
        return lastRows == null ? null : lastRows[layer];
    }

    /**
     * Attention received by each cache row from the prefill's query rows at a layer:
     * [heads][promptEnd] flattened.
     */
    public float[] columnSums(int layer) {
        return columnSums == null ? null : columnSums[layer];
    }

    public QueryVectors lastQuery(int layer) {
        return lastQuery == null ? null : lastQuery[layer];
    }
}
