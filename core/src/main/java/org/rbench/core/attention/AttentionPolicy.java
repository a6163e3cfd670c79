package org.rbench.core.attention;

/**
 * Decides, per layer and per decode step, what the attention reads. This is the whole
 * extension point for cache strategies: full attention, Recycled Attention, StreamingLLM
 * and H2O are each one implementation.
 *
 * <p>Life cycle, driven by {@link org.rbench.core.engine.Decoder}: {@link #start} once
 * (after the prefill, with its statistics), then for every step: {@link #plan} for each
 * layer in order, the engine computes the step, {@link #observe} for each layer whose plan
 * asked for read-backs, then {@link #endStep}. A policy instance serves one decoding run;
 * make a new one per run (e.g. per method after restoring a KV snapshot).
 *
 * <p>Contract: the engine always appends the new token's K/V to the full cache first, so
 * plans only select rows. Whether the new token attends to itself is the plan's choice
 * (GATHER and RANGES must include row {@code position}; COMPACT writes it to the given row).
 */
public interface AttentionPolicy {

    /** A short name with parameters, for CSV rows and messages. */
    String name();

    /** Statistics this policy needs from the prefill. */
    default PrefillRequest prefillRequest() {
        return PrefillRequest.NONE;
    }

    /** Called once before the first step, with the prefill's statistics. */
    default void start(AttentionContext context, PrefillStatistics prefill) {
    }

    /**
     * Whether this step must be built one layer at a time so that {@link LayerStep#query()}
     * holds the layer's query before {@link #plan} is called (a query-similarity schedule).
     * Slower: ask only on the steps that need it.
     */
    default boolean needsQueryBeforePlanning(int step) {
        return false;
    }

    /** The plan for one layer of one step. */
    AttentionPlan plan(LayerStep at);

    /**
     * Whether {@link #plan} and {@link #endStep} may run while the step before is still being
     * computed on the device, so that a GPU never waits for the host between steps. Say true only
     * if neither touches device memory except through what the engine orders on the backend's
     * stream: the plans' step inputs, and graphs computed through the {@link AttentionContext}
     * (row copies, computes over the cache). They must not read device tensors, write them
     * directly, or free memory a step may read (a compact cache replaced by a larger one). The
     * decoder still waits for a step whose plans read results back ({@link
     * AttentionPlan#probabilities}, {@link AttentionPlan#query}, a piece's after-compute read)
     * before planning the next.
     */
    default boolean plansAhead() {
        return false;
    }

    /** Read-backs a plan asked for, after the step's compute. */
    default void observe(LayerObservation observation) {
    }

    /**
     * After all layers of a step; {@code token} is the token that was fed in, or -1 for a step
     * fed on the device whose token the host had not read yet (a queued greedy generation).
     */
    default void endStep(int step, int position, int token) {
    }

    /**
     * For diagnostics: the cache positions that rows [0, rows) of this layer's compact
     * cache hold for KV head {@code kvHead} (any order), or null if the policy does not
     * track them. Only asked for layers whose plan was COMPACT.
     */
    default int[] compactPositions(int layer, int kvHead) {
        return null;
    }

    /** Releases device memory the policy holds (compact caches, row indices). */
    default void close() {
    }
}
