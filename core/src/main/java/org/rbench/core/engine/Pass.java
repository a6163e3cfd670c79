package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;

import java.util.Arrays;

/**
 * One forward pass over consecutive tokens, as the engine computes it: what goes in
 * (tokens from {@code start}), which layers are built, each layer's plan, which logits
 * come out and what is read back besides. Immutable; a built graph of the same shape is
 * computed again with another pass bound to it ({@link PassGraph#bind}).
 *
 * @param plans      one per layer of the model (a prefill's are all full)
 * @param queryOnly  stop after the query of {@code fromLayer} (a step built layer by layer)
 * @param windowFrom batch-relative first query whose attention rows are read back; -1: none
 * @param columnSums read back the attention each key received, summed over the batch's queries
 * @param windowSumsFrom batch-relative first query whose attention is summed per key (SnapKV's votes); -1: none
 * @param lastQuery  read back the last token's query vectors at every built layer
 * @param shadowFull also compute full attention's probabilities at every layer (diagnostics)
 */
record Pass(int[] tokens, int start, Logits logits, AttentionPlan[] plans, int fromLayer, int toLayer, boolean queryOnly,
            int windowFrom, boolean columnSums, int windowSumsFrom, boolean lastQuery, boolean shadowFull) {

    /**
     * Which rows of logits a pass produces; GREEDY: only the last row's greedy token (DeviceGreedy);
     * FED: the greedy token of a step whose own token is the engine's fed token on the device
     * (GraphResources.fedToken), where it also writes its pick: the next FED step is fed without
     * the host, which may queue it before this one's pick is read.
     */
    enum Logits { NONE, LAST, ALL, GREEDY, FED }

    Pass {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a pass needs at least one token");
        }
        if (logits == Logits.FED && (tokens.length != 1 || fromLayer != 0 || toLayer != plans.length)) {
            throw new IllegalArgumentException("a fed pass is one token through every layer");
        }
        if (fromLayer < 0 || toLayer > plans.length || fromLayer >= toLayer) {
            throw new IllegalArgumentException("layers [" + fromLayer + ", " + toLayer + ") outside the model's " + plans.length);
        }
        tokens = tokens.clone();
        plans = plans.clone();
    }

    /** A prefill micro-batch: causal full attention at every layer, with the statistics asked for. */
    static Pass prefill(int[] tokens, int start, Logits logits, int layers, int windowFrom, boolean columnSums,
                        int windowSumsFrom, boolean lastQuery) {
        AttentionPlan[] full = new AttentionPlan[layers];
        Arrays.fill(full, AttentionPlan.full());
        return new Pass(tokens, start, logits, full, 0, layers, false, windowFrom, columnSums, windowSumsFrom, lastQuery,
                false);
    }

    /** A decode step of every layer under its plans, producing {@code logits} (LAST or GREEDY). */
    static Pass step(int token, int position, AttentionPlan[] plans, boolean shadowFull, Logits logits) {
        return new Pass(new int[] {token}, position, logits, plans, 0, plans.length, false, -1, false, -1, false,
                shadowFull);
    }

    /** This step's layer {@code l} alone, reading and writing the hidden state between layers. */
    Pass layer(int l) {
        return new Pass(tokens, start, logits, plans, l, l + 1, false, -1, false, -1, false, shadowFull);
    }

    /** This step's layer {@code l} up to its query (planned as full: nothing else is read). */
    Pass queryOf(int l) {
        AttentionPlan[] full = new AttentionPlan[plans.length];
        Arrays.fill(full, AttentionPlan.full());
        return new Pass(tokens, start, logits, full, l, l + 1, true, -1, false, -1, false, false);
    }

    int batch() {
        return tokens.length;
    }

    /**
     * Layer {@code l}'s plan where this pass is a plain decode step, the only kind whose plans may leave the new
     * token's full-cache write for later or out ({@link DeferredWrites}, {@link FullCacheValidity}): one token,
     * no diagnostics (they read the whole cache), not stopped at a query; else null.
     */
    AttentionPlan plainStepPlan(int l) {
        return batch() == 1 && !shadowFull && !queryOnly ? plans[l] : null;
    }

    /** Positions start, start + 1, ... of the batch (RoPE positions and cache rows). */
    int[] positions() {
        int[] p = new int[batch()];
        for (int i = 0; i < p.length; i++) {
            p[i] = start + i;
        }
        return p;
    }
}
