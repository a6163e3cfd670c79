package org.rbench.core.attention;

/**
 * A piece of a step graph shared by several layers' plans (one per graph and kind, made by
 * the first layer that asks, {@link PlanGraph#stepPart}): e.g. one sort of every layer's
 * scores where a sort per layer would leave a GPU idle.
 */
public interface StepPart {
    /**
     * After every layer is built: the nodes that join the layers' contributions. They run after
     * every layer's nodes (the graph's order), so they may overwrite what a layer read.
     */
    default void finish(PlanGraph.Finishing graph) {
    }

    /**
     * When each compute of the graph starts (before the next step is planned), with the plans of the step launched
     * and its new token's position: hand on what the graph will have done, where that needs nothing read back (a
     * part that reads nothing after the compute lets the next step queue behind this one). Nothing by default.
     */
    default void whenLaunched(AttentionPlan[] plans, int position) {
    }

    /**
     * After each compute of the graph, with the plans of the step that was computed (indexed
     * by layer; the layers outside the graph null) and its new token's position: read the
     * outputs and hand them to their owners.
     */
    default void afterCompute(AttentionPlan[] plans, int position) {
    }

    /**
     * Whether {@link #afterCompute} reads anything (then the decoder waits for the step before
     * it plans the next); a part that only joins the layers' nodes leaves this false.
     */
    default boolean readsAfterCompute() {
        return false;
    }
}
