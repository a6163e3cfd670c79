package org.rbench.core.attention;

/**
 * What the engine read back for one layer of a decode step, as the plan asked:
 * attention probabilities ([heads][1][attended rows]) and/or the query vectors. Fields
 * not asked for are null.
 */
public record LayerObservation(int layer, int step, int position, AttentionProbabilities probabilities,
                               QueryVectors query) {
}
