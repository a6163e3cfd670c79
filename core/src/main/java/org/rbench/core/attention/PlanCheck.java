package org.rbench.core.attention;

import org.rbench.core.model.HyperParameters;

/**
 * What a plan is checked against ({@link AttentionPlan#check}): the policy that made it, the
 * layer and the step's position, the model's shapes and the full cache's rows.
 */
public record PlanCheck(String policy, int layer, int position, HyperParameters model, int cacheCapacity) {

    /** An error naming the policy and the layer. */
    public IllegalArgumentException fail(String what) {
        return new IllegalArgumentException(policy + ": " + what + " at layer " + layer);
    }

    /** Throws unless a device K/V tensor pair has this model's head shape. */
    public void requireHeadShape(CompactCache cache, String what) {
        if (cache.keys().ne(0) != model.headDim() || cache.keys().ne(2) != model.kvHeads()) {
            throw fail(what + " does not have this model's head shape");
        }
    }
}
