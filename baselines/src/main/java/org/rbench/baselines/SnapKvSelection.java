package org.rbench.baselines;

import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.ScoreSelection;

/**
 * SnapKV's choice of prompt rows, on the host, from the prefill's observation window
 * (FasterDecoding/SnapKV snapkv_utils.py, SnapKVCluster.update_kv): the votes of the last
 * {@code window} prompt queries on every key before the window, max-pooled along positions,
 * the top {@code voted} of them plus the window itself. Pure host logic, so that the
 * selection can be pinned on hand-made probabilities.
 */
final class SnapKvSelection {
    private SnapKvSelection() {
    }

    /**
     * Votes per query head: {@code [heads][before]}, the sum over the last {@code window} query
     * rows of {@code rows} of their softmax weights on keys {@code [0, before)} (the keys ahead
     * of the window), summed in query order.
     */
    static float[][] votes(AttentionProbabilities rows, int window, int before) {
        if (window <= 0 || window > rows.queries()) {
            throw new IllegalArgumentException("a window of " + window + " query rows, but " + rows.queries() + " were collected");
        }
        if (before < 0 || before > rows.keys()) {
            throw new IllegalArgumentException(before + " keys before the window, but rows of " + rows.keys() + " keys");
        }
        int heads = rows.heads();
        int keys = rows.keys();
        int first = rows.queries() - window;
        float[] data = rows.data();
        float[][] out = new float[heads][before];
        for (int h = 0; h < heads; h++) {
            float[] o = out[h];
            for (int q = first; q < rows.queries(); q++) {
                int base = (h * rows.queries() + q) * keys;
                for (int j = 0; j < before; j++) {
                    o[j] += data[base + j];
                }
            }
        }
        return out;
    }

    /**
     * Votes per query head from window sums the prefill computed on the device
     * ({@code [heads][n]} flattened): the first {@code before} keys of each head.
     */
    static float[][] votes(float[] windowSums, int heads, int n, int before) {
        if (windowSums == null || windowSums.length != heads * n || before < 0 || before > n) {
            throw new IllegalArgumentException("window sums of " + (windowSums == null ? 0 : windowSums.length)
                    + " values for " + heads + " heads x " + n + " keys (" + before + " before the window)");
        }
        float[][] out = new float[heads][];
        for (int h = 0; h < heads; h++) {
            out[h] = java.util.Arrays.copyOfRange(windowSums, h * n, h * n + before);
        }
        return out;
    }

    /**
     * The {@code voted} highest of {@code scores} after max pooling with {@code kernel} (stride
     * 1, same padding; 1 = none), in ascending position order; ties go to the lower position.
     */
    static int[] topVoted(float[] scores, int voted, int kernel) {
        return ScoreSelection.topK(ScoreSelection.maxPool(scores, kernel), voted);
    }

    /**
     * The prompt rows each store keeps, ascending (window last): per KV head for {@link GqaChoice#MAX}
     * and {@link GqaChoice#MEAN} ({@code [kvHeads][]}), per query head for {@link GqaChoice#QUERY}
     * ({@code [heads][]}). Each keeps {@code min(voted, before)} voted keys, {@code before =
     * promptEnd - window}, plus the window's positions {@code [before, promptEnd)}.
     *
     * @param headVotes {@link #votes} per query head, {@code [heads][before]}
     */
    static int[][] keep(float[][] headVotes, int voted, int window, int kernel, GqaChoice gqa, int kvHeads) {
        if (voted < 0) {
            throw new IllegalArgumentException("a negative budget of voted keys: " + voted);
        }
        float[][] scores = switch (gqa) {
            case MAX -> GqaAggregation.MAX.aggregate(headVotes, kvHeads);
            case MEAN -> GqaAggregation.MEAN.aggregate(headVotes, kvHeads);
            case QUERY -> headVotes;
        };
        int before = headVotes[0].length;
        int[][] out = new int[scores.length][];
        for (int s = 0; s < scores.length; s++) {
            int[] top = topVoted(scores[s], voted, kernel);
            int[] kept = java.util.Arrays.copyOf(top, top.length + window);
            for (int i = 0; i < window; i++) {
                kept[top.length + i] = before + i;
            }
            out[s] = kept;
        }
        return out;
    }
}
