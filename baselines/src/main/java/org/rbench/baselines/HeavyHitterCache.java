package org.rbench.baselines;

import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.ScoreSelection;

import java.util.Arrays;

/**
 * H2O's cache for one layer (FMInference/H2O, modify_llama.py), per KV head: every cached
 * token carries the attention probability it has received, summed over query rows and
 * accumulated over the prefill and every decode step. When the cache exceeds
 * {@code heavy + recent}, it keeps the {@code recent} newest tokens plus the {@code heavy}
 * highest-scored older ones, and compacts the scores the same way. As in the reference, a
 * decode step attends over the kept tokens plus its own, then evicts.
 * The reference has no GQA; here a KV head's score aggregates its query heads (sum by default).
 *
 * <p>Every KV head holds the same number of tokens, in position order, in arrays with room
 * for one more than the budget: a decode step appends in place and evicts by shifting the
 * tail, with no allocation (at Llama-3.1-8B's shapes, 32 layers x 8 KV heads x 4K tokens
 * a step, copying the arrays each step was most of H2O's host time).
 */
public final class HeavyHitterCache {
    private final int heavy;
    private final int recent;
    private final GqaAggregation aggregation;
    private final int kvHeads;
    private int[][] positions;
    private float[][] scores;
    /** Tokens each KV head holds (the first {@code count} entries of its arrays). */
    private int count;
    /** One step's probabilities per KV head (reused). */
    private float[][] stepScores;

    public HeavyHitterCache(int heavy, int recent, GqaAggregation aggregation, int kvHeads) {
        if (heavy < 0 || recent < 0 || heavy + recent == 0) {
            throw new IllegalArgumentException("heavy and recent must be >= 0 with a positive sum");
        }
        this.heavy = heavy;
        this.recent = recent;
        this.aggregation = aggregation;
        this.kvHeads = kvHeads;
        this.positions = new int[kvHeads][budget() + 1];
        this.scores = new float[kvHeads][budget() + 1];
        this.stepScores = new float[kvHeads][budget() + 1];
    }

    public int budget() {
        return heavy + recent;
    }

    /** Tokens each KV head holds now. */
    public int size() {
        return count;
    }

    /**
     * After the prefill: {@code columnSums[queryHead][position]} = attention each prompt
     * position received summed over all query rows (computed chunk by chunk by the engine).
     */
    public void prefill(float[][] columnSums) {
        float[][] perKv = aggregation.aggregate(columnSums, kvHeads);
        int n = perKv[0].length;
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        int kept = Math.min(n, budget());
        for (int h = 0; h < kvHeads; h++) {
            int[] p = all;
            float[] s = perKv[h];
            if (n > budget()) {
                int[] keep = keptIndices(s, n);
                p = new int[kept];
                float[] sc = new float[kept];
                for (int i = 0; i < kept; i++) {
                    p[i] = all[keep[i]];
                    sc[i] = s[keep[i]];
                }
                s = sc;
            }
            System.arraycopy(p, 0, positions[h], 0, kept);
            System.arraycopy(s, 0, scores[h], 0, kept);
        }
        count = kept;
    }

    /** The rows KV head h attends at a decode step whose token is at {@code position}. */
    public int[] rowsForStep(int h, int position) {
        int[] rows = Arrays.copyOf(positions[h], count + 1);
        rows[count] = position;
        return rows;
    }

    /** {@link #rowsForStep} written into {@code dst} from {@code offset} ({@link #size()} + 1 values). */
    public void copyRowsForStep(int h, int position, int[] dst, int offset) {
        System.arraycopy(positions[h], 0, dst, offset, count);
        dst[offset + count] = position;
    }

    /**
     * After a decode step: {@code probabilities[queryHead][row]} over
     * {@link #rowsForStep} (the new token last). Adds them to the scores, then evicts.
     */
    public void afterStep(int position, float[][] probabilities) {
        int heads = probabilities.length;
        int n = probabilities[0].length;
        if (n != count + 1) {
            throw new IllegalArgumentException("expected " + (count + 1) + " probabilities per query head, got " + n);
        }
        float[] flat = new float[heads * n];
        for (int h = 0; h < heads; h++) {
            if (probabilities[h].length != n) {
                throw new IllegalArgumentException("query heads have rows of different lengths");
            }
            System.arraycopy(probabilities[h], 0, flat, h * n, n);
        }
        afterStep(position, new AttentionProbabilities(heads, 1, n, position, flat));
    }

    /**
     * After a decode step, from the engine's probabilities: the last query row of each head,
     * whose first {@link #size()} + 1 keys are the rows of {@link #rowsForStep} (the engine may
     * pad the attended rows with masked ones after them).
     */
    public void afterStep(int position, AttentionProbabilities p) {
        int attended = count + 1;
        if (p.keys() < attended) {
            throw new IllegalArgumentException("expected " + attended + " probabilities per query head, got " + p.keys());
        }
        int query = p.queries() - 1;
        int headStride = p.queries() * p.keys();
        aggregation.aggregateRows(p.data(), query * p.keys(), headStride, attended, p.heads(), kvHeads, stepScores);
        for (int h = 0; h < kvHeads; h++) {
            int[] pos = positions[h];
            float[] s = scores[h];
            float[] add = stepScores[h];
            pos[count] = position;
            s[count] = 0f;
            for (int i = 0; i < attended; i++) {
                s[i] += add[i];
            }
            if (attended > budget()) {
                evictOne(pos, s, attended);
            }
        }
        count = Math.min(attended, budget());
    }

    /**
     * One token in, one out: the last of the older entries (all but the {@code recent}
     * newest) in (score descending, index ascending) order, i.e. the lowest score, the highest
     * index among equals; the tail shifts down over it. A linear scan, not a sort of every
     * head of every layer at every step.
     */
    private void evictOne(int[] pos, float[] s, int n) {
        int older = n - recent;
        int drop = 0;
        for (int i = 1; i < older; i++) {
            if (s[i] <= s[drop]) {
                drop = i;
            }
        }
        System.arraycopy(pos, drop + 1, pos, drop, n - drop - 1);
        System.arraycopy(s, drop + 1, s, drop, n - drop - 1);
    }

    /** Indices (ascending) of the entries kept from {@code n} > budget: the heavy best older ones, then the recent. */
    private int[] keptIndices(float[] s, int n) {
        int older = n - recent;
        // score descending, index ascending (primitive keys: the prompt can be 128K long)
        int[] order = ScoreSelection.topKByScore(Arrays.copyOf(s, older), heavy);
        int[] keep = new int[heavy + recent];
        System.arraycopy(order, 0, keep, 0, heavy);
        for (int i = 0; i < recent; i++) {
            keep[heavy + i] = older + i;
        }
        Arrays.sort(keep);
        return keep;
    }

    public int[] positions(int h) {
        return Arrays.copyOf(positions[h], count);
    }

    public float[] scores(int h) {
        return Arrays.copyOf(scores[h], count);
    }
}
