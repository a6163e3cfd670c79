package org.rbench.core.attention;

/**
 * The query vectors of one token at one layer, per query head: before RoPE (comparable
 * across positions, what a query-similarity schedule wants) and after RoPE (what the
 * attention used). Each is {@code [heads][headDim]} flattened.
 */
public record QueryVectors(int heads, int headDim, float[] beforeRope, float[] afterRope) {
    public QueryVectors {
        if (beforeRope.length != heads * headDim || afterRope.length != heads * headDim) {
            throw new IllegalArgumentException("query vectors must hold heads x headDim values");
        }
    }

    /** The mean over heads of the vectors before RoPE. */
    public float[] meanBeforeRope() {
        float[] mean = new float[headDim];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < headDim; i++) {
                mean[i] += beforeRope[h * headDim + i];
            }
        }
        for (int i = 0; i < headDim; i++) {
            mean[i] /= heads;
        }
        return mean;
    }
}
