package org.rbench.core.attention;

/**
 * What the engine read back for one layer of a decode step, as the plan asked: attention
 * probabilities ([heads][1][attended rows]) and/or the query vectors. Fields not asked for
 * are null. Results a plan's own piece reads (e.g. rows selected on the device) reach their
 * owner through the piece ({@link PlanGraph#afterCompute}).
 */
public record LayerObservation(int layer, int step, int position, AttentionProbabilities probabilities,
                               QueryVectors query) {
}
