package org.rbench.core.attention;

/**
 * What the engine read back for one layer of a decode step, as the plan asked:
 * attention probabilities ([heads][1][attended rows]), the query vectors, and/or the
 * device-selected top rows ([kvHeads][min(k, position + 1)] cache positions, highest score
 * first, ties in position order). Fields not asked for are null.
 */
public record LayerObservation(int layer, int step, int position, AttentionProbabilities probabilities,
                               QueryVectors query, int[][] topRows) {
    public LayerObservation(int layer, int step, int position, AttentionProbabilities probabilities, QueryVectors query) {
        this(layer, step, position, probabilities, query, null);
    }
}
