package org.rbench.core.select;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which cache rows one layer's recycled steps attend to: Cp of Recycled Attention /
 * RefreshKV, per KV head. A full step (or the prefill) {@link #refresh}es it from that
 * step's attention probabilities: aggregate each KV head's query-head group, max-pool
 * along positions (v2: kernel 7; v1: none), keep the top K. Every recycled step then
 * {@link #append}s its own token, which is attended from then on; with
 * {@link Update#EVICT} (v2) the lowest-scored selected entry makes room once Cp is
 * full, with {@link Update#GROW} (v1) Cp grows by the tokens generated since the refresh.
 * Generated tokens are never evicted, so they are attended until the next refresh.
 */
public final class RecycledCache {
    /** How Cp takes in the tokens generated between full steps. */
    public enum Update { EVICT, GROW }

    private final int k;
    private final int poolKernel;
    private final GqaAggregation aggregation;
    private final Update update;
    private final int kvHeads;
    /** Per KV head: the selected positions (ascending at refresh), their scores, and appended positions. */
    private final int[][] selected;
    private final float[][] selectedScores;
    private final boolean[][] evicted;
    private final int[] live;
    private final List<Integer> generated = new ArrayList<>();

    public RecycledCache(int k, int poolKernel, GqaAggregation aggregation, Update update, int kvHeads) {
        if (k <= 0) {
            throw new IllegalArgumentException("budget K must be positive: " + k);
        }
        this.k = k;
        this.poolKernel = poolKernel;
        this.aggregation = aggregation;
        this.update = update;
        this.kvHeads = kvHeads;
        this.selected = new int[kvHeads][0];
        this.selectedScores = new float[kvHeads][0];
        this.evicted = new boolean[kvHeads][0];
        this.live = new int[kvHeads];
    }

    /**
     * Rebuilds Cp from a full step's attention probabilities [queryHeads][positions]
     * (positions 0..n-1, the current token included).
     */
    public void refresh(float[][] headProbabilities) {
        float[][] perKv = aggregation.aggregate(headProbabilities, kvHeads);
        for (int h = 0; h < kvHeads; h++) {
            float[] pooled = ScoreSelection.maxPool(perKv[h], poolKernel);
            int[] top = ScoreSelection.topK(pooled, k);
            selected[h] = top;
            selectedScores[h] = new float[top.length];
            for (int i = 0; i < top.length; i++) {
                selectedScores[h][i] = pooled[top[i]];
            }
            evicted[h] = new boolean[top.length];
            live[h] = top.length;
        }
        generated.clear();
    }

    /** A recycled step's own token at {@code position} joins Cp (evicting under v2 when full). */
    public void append(int position) {
        if (update == Update.EVICT) {
            for (int h = 0; h < kvHeads; h++) {
                if (live[h] + generated.size() >= k && live[h] > 0) {
                    evictLowest(h);
                }
            }
        }
        generated.add(position);
    }

    private void evictLowest(int h) {
        int worst = -1;
        for (int i = 0; i < selected[h].length; i++) {
            if (!evicted[h][i] && (worst < 0 || selectedScores[h][i] < selectedScores[h][worst])) {
                worst = i;
            }
        }
        evicted[h][worst] = true;
        live[h]--;
    }

    /** The positions KV head {@code h} attends to now, ascending. */
    public int[] rows(int h) {
        int[] out = new int[live[h] + generated.size()];
        int n = 0;
        for (int i = 0; i < selected[h].length; i++) {
            if (!evicted[h][i]) {
                out[n++] = selected[h][i];
            }
        }
        for (int p : generated) {
            out[n++] = p;
        }
        Arrays.sort(out);
        return out;
    }

    /** Rows per KV head (the same for all heads: K selected + generated, or fewer before the context fills). */
    public int size(int h) {
        return live[h] + generated.size();
    }

    public int budget() {
        return k;
    }
}
