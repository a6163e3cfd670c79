package org.rbench.baselines;

import org.rbench.core.select.GqaAggregation;
import org.rbench.core.select.ScoreSelection;

import java.util.Arrays;

/**
 * H2O's cache for one layer (FMInference/H2O, modify_llama.py), per KV head: every cached
 * token carries the attention probability it has received, summed over query rows and
 * accumulated over the prefill and every decode step. When the cache exceeds
 * {@code heavy + recent}, it keeps the {@code recent} newest tokens plus the {@code heavy}
 * highest-scored older ones, and compacts the scores the same way. As in the reference, a
 * decode step attends over the kept tokens plus its own, then evicts.
 * The reference has no GQA; here a KV head's score aggregates its query heads (sum by default).
 */
public final class HeavyHitterCache {
    private final int heavy;
    private final int recent;
    private final GqaAggregation aggregation;
    private final int kvHeads;
    private int[][] positions;
    private float[][] scores;

    public HeavyHitterCache(int heavy, int recent, GqaAggregation aggregation, int kvHeads) {
        if (heavy < 0 || recent < 0 || heavy + recent == 0) {
            throw new IllegalArgumentException("heavy and recent must be >= 0 with a positive sum");
        }
        this.heavy = heavy;
        this.recent = recent;
        this.aggregation = aggregation;
        this.kvHeads = kvHeads;
        this.positions = new int[kvHeads][0];
        this.scores = new float[kvHeads][0];
    }

    public int budget() {
        return heavy + recent;
    }

    /**
     * After the prefill: {@code columnSums[queryHead][position]} = attention each prompt
     * position received summed over all query rows (computed chunk by chunk by the engine).
     */
    public void prefill(float[][] columnSums) {
        float[][] perKv = aggregation.aggregate(columnSums, kvHeads);
        int n = perKv[0].length;
        for (int h = 0; h < kvHeads; h++) {
            positions[h] = new int[n];
            Arrays.setAll(positions[h], i -> i);
            scores[h] = perKv[h].clone();
            evict(h);
        }
    }

    /** The rows KV head h attends at a decode step whose token is at {@code position}. */
    public int[] rowsForStep(int h, int position) {
        int[] rows = Arrays.copyOf(positions[h], positions[h].length + 1);
        rows[rows.length - 1] = position;
        return rows;
    }

    /**
     * After a decode step: {@code probabilities[queryHead][row]} over
     * {@link #rowsForStep} (the new token last). Adds them to the scores, then evicts.
     */
    public void afterStep(int position, float[][] probabilities) {
        float[][] perKv = aggregation.aggregate(probabilities, kvHeads);
        for (int h = 0; h < kvHeads; h++) {
            int n = positions[h].length;
            if (perKv[h].length != n + 1) {
                throw new IllegalArgumentException("expected " + (n + 1) + " probabilities for KV head " + h
                        + ", got " + perKv[h].length);
            }
            positions[h] = Arrays.copyOf(positions[h], n + 1);
            positions[h][n] = position;
            scores[h] = Arrays.copyOf(scores[h], n + 1);
            for (int i = 0; i <= n; i++) {
                scores[h][i] += perKv[h][i];
            }
            evict(h);
        }
    }

    private void evict(int h) {
        int n = positions[h].length;
        if (n <= heavy + recent) {
            return;
        }
        int older = n - recent;
        if (n == heavy + recent + 1) {
            // A decode step adds one token, so one goes: the last of the older entries in
            // (score descending, index ascending) order, i.e. the lowest score, the highest
            // index among equals. A linear scan instead of sorting every head of every layer
            // at every step (a sort of K/2 boxed indices each: 150 ms a step at 8B shapes).
            float[] s = scores[h];
            int drop = 0;
            for (int i = 1; i < older; i++) {
                if (s[i] <= s[drop]) {
                    drop = i;
                }
            }
            positions[h] = remove(positions[h], drop);
            scores[h] = remove(s, drop);
            return;
        }
        float[] s = scores[h];
        // score descending, index ascending (primitive keys: the prompt can be 128K long)
        int[] order = ScoreSelection.topKByScore(Arrays.copyOf(s, older), heavy);
        int[] keep = new int[heavy + recent];
        for (int i = 0; i < heavy; i++) {
            keep[i] = order[i];
        }
        for (int i = 0; i < recent; i++) {
            keep[heavy + i] = older + i;
        }
        Arrays.sort(keep);
        int[] p = new int[keep.length];
        float[] sc = new float[keep.length];
        for (int i = 0; i < keep.length; i++) {
            p[i] = positions[h][keep[i]];
            sc[i] = s[keep[i]];
        }
        positions[h] = p;
        scores[h] = sc;
    }

    private static int[] remove(int[] a, int i) {
        int[] out = new int[a.length - 1];
        System.arraycopy(a, 0, out, 0, i);
        System.arraycopy(a, i + 1, out, i, a.length - i - 1);
        return out;
    }

    private static float[] remove(float[] a, int i) {
        float[] out = new float[a.length - 1];
        System.arraycopy(a, 0, out, 0, i);
        System.arraycopy(a, i + 1, out, i, a.length - i - 1);
        return out;
    }

    public int[] positions(int h) {
        return positions[h].clone();
    }

    public float[] scores(int h) {
        return scores[h].clone();
    }
}
