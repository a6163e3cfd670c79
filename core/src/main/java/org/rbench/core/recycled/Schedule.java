package org.rbench.core.recycled;

/**
 * When a layer does a full step. Step 0 is the token produced by the prefill (a full
 * step: the prefill attended everything); decode steps are 1, 2, ...
 */
public interface Schedule {
    /**
     * @param step      decode step index (1 for the first decode step)
     * @param layer     layer index
     * @param meanQuery this step's query for the layer averaged over query heads (for
     *                  similarity schedules); may be null for schedules that ignore it
     * @return true if the layer attends the whole cache at this step
     */
    boolean isFullStep(int step, int layer, float[] meanQuery);

    /** Called after a layer's full step with that step's mean query. */
    default void onFullStep(int layer, float[] meanQuery) {
    }

    /**
     * Whether {@code step} may be a full step that depends on the query (a check step of a
     * similarity schedule): only then must the engine compute the query before planning.
     */
    default boolean isFullStepCandidate(int step) {
        return false;
    }

    /** Whether the schedule needs query vectors (the engine computes them only then). */
    default boolean needsQueries() {
        return false;
    }

    /** A full step every {@code stride} steps: steps 0, S, 2S, ... */
    static Schedule fixed(int stride) {
        if (stride <= 0) {
            throw new IllegalArgumentException("stride S must be positive: " + stride);
        }
        return (step, layer, q) -> step % stride == 0;
    }
}
