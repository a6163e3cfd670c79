package org.rbench.core.attention;

/**
 * What a policy knows when it plans one layer of one decode step.
 *
 * @param layer    the layer being planned
 * @param step     decode steps done by this decoder before this one (0 for the first)
 * @param position cache position of the new token; rows [0, position] hold valid K/V once
 *                 the engine has written the new token, which it always does before attending
 * @param query    this token's query vectors at this layer, present only when the policy
 *                 asked for them before planning ({@link AttentionPolicy#needsQueryBeforePlanning})
 */
public record LayerStep(int layer, int step, int position, QueryVectors query) {
    /** Rows of the full cache that hold tokens, the new one included. */
    public int cachedRows() {
        return position + 1;
    }
}
