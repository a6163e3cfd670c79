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
    private final float[][] windowSums;
    private final int window;

    public PrefillStatistics(int promptStart, int promptEnd, AttentionProbabilities[] lastRows, float[][] columnSums,
                             QueryVectors[] lastQuery) {
        this(promptStart, promptEnd, lastRows, columnSums, lastQuery, null, 0);
    }

    /** @param windowSums per layer, [heads][promptEnd] flattened, summed over the last {@code window} queries */
    public PrefillStatistics(int promptStart, int promptEnd, AttentionProbabilities[] lastRows, float[][] columnSums,
                             QueryVectors[] lastQuery, float[][] windowSums, int window) {
        this.promptStart = promptStart;
        this.promptEnd = promptEnd;
        this.lastRows = lastRows;
        this.columnSums = columnSums;
        this.lastQuery = lastQuery;
        this.windowSums = windowSums;
        this.window = window;
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

    /**
     * Attention each cache row received from the last {@link #window()} prompt tokens at a
     * layer, summed over them: [heads][promptEnd] flattened (rows after a query's own
     * position receive 0 from it).
     */
    public float[] windowSums(int layer) {
        return windowSums == null ? null : windowSums[layer];
    }

    /** The query rows {@link #windowSums} sums (0 when not collected). */
    public int window() {
        return windowSums == null ? 0 : window;
    }

    public QueryVectors lastQuery(int layer) {
        return lastQuery == null ? null : lastQuery[layer];
    }
}
