package org.rbench.baselines;

import org.rbench.core.select.GqaAggregation;

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
        Integer[] order = new Integer[older];
        Arrays.setAll(order, i -> i);
        float[] s = scores[h];
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(s[b], s[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
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

    public int[] positions(int h) {
        return positions[h].clone();
    }

    public float[] scores(int h) {
        return scores[h].clone();
    }
}
