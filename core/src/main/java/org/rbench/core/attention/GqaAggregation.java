package org.rbench.core.attention;

/**
 * How the query heads that share one KV head are combined into that KV head's scores.
 * Recycled Attention v1 used the group's first head, v2 the maximum; H2O sums.
 */
public enum GqaAggregation {
    FIRST, MEAN, MAX, SUM;

    /**
     * @param headScores [queryHeads][positions] scores (attention probabilities)
     * @param kvHeads    number of KV heads; query head h belongs to KV head h / (queryHeads / kvHeads),
     *                   llama.cpp's grouping
     * @return [kvHeads][positions]
     */
    public float[][] aggregate(float[][] headScores, int kvHeads) {
        int queryHeads = headScores.length;
        if (kvHeads <= 0 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException(queryHeads + " query heads cannot be grouped into " + kvHeads + " KV heads");
        }
        int group = queryHeads / kvHeads;
        int n = headScores[0].length;
        float[][] out = new float[kvHeads][n];
        for (int kv = 0; kv < kvHeads; kv++) {
            float[] o = out[kv];
            int first = kv * group;
            switch (this) {
                case FIRST -> System.arraycopy(headScores[first], 0, o, 0, n);
                case MAX -> {
                    System.arraycopy(headScores[first], 0, o, 0, n);
                    for (int h = first + 1; h < first + group; h++) {
                        float[] s = headScores[h];
                        for (int i = 0; i < n; i++) {
                            o[i] = Math.max(o[i], s[i]);
                        }
                    }
                }
                case SUM, MEAN -> {
                    for (int h = first; h < first + group; h++) {
                        float[] s = headScores[h];
                        for (int i = 0; i < n; i++) {
                            o[i] += s[i];
                        }
                    }
                    if (this == MEAN) {
                        for (int i = 0; i < n; i++) {
                            o[i] /= group;
                        }
                    }
                }
            }
        }
        return out;
    }
    /**
     * {@link #aggregate} over rows of one flat array, into a caller's buffer (no allocation:
     * H2O aggregates every layer's probabilities at every decode step). Query head h's row is
     * {@code data[offset + h * headStride, + n)}; {@code out[kv]} receives KV head kv's first
     * {@code n} values, computed in the same order as {@link #aggregate}, so bit for bit equal.
     */
    public void aggregateRows(float[] data, int offset, int headStride, int n, int queryHeads, int kvHeads, float[][] out) {
        if (kvHeads <= 0 || queryHeads % kvHeads != 0) {
            throw new IllegalArgumentException(queryHeads + " query heads cannot be grouped into " + kvHeads + " KV heads");
        }
        int group = queryHeads / kvHeads;
        for (int kv = 0; kv < kvHeads; kv++) {
            float[] o = out[kv];
            int first = kv * group;
            switch (this) {
                case FIRST -> System.arraycopy(data, offset + first * headStride, o, 0, n);
                case MAX -> {
                    System.arraycopy(data, offset + first * headStride, o, 0, n);
                    for (int h = first + 1; h < first + group; h++) {
                        int base = offset + h * headStride;
                        for (int i = 0; i < n; i++) {
                            o[i] = Math.max(o[i], data[base + i]);
                        }
                    }
                }
                case SUM, MEAN -> {
                    java.util.Arrays.fill(o, 0, n, 0f);
                    for (int h = first; h < first + group; h++) {
                        int base = offset + h * headStride;
                        for (int i = 0; i < n; i++) {
                            o[i] += data[base + i];
                        }
                    }
                    if (this == MEAN) {
                        for (int i = 0; i < n; i++) {
                            o[i] /= group;
                        }
                    }
                }
            }
        }
    }
}
