package org.rbench.core.attention;

/**
 * Softmax attention weights read back from the device: for each query head, each query
 * row, the probability of each attended key row. Stored in ggml's order
 * {@code [heads][queries][keys]}. Which cache row a key index means depends on the plan
 * that produced it: for FULL and the prefill it is the cache position; for GATHER,
 * COMPACT and RANGES it is the index into the attended rows, in the order the plan gave.
 * {@link #keys()} may exceed the attended rows: the engine pads the key count like
 * llama.cpp (masked rows, probability 0), so cut rows to the rows that exist before
 * pooling or ranking them.
 */
public final class AttentionProbabilities {
    private final int heads;
    private final int queries;
    private final int keys;
    private final int firstQueryPosition;
    private final float[] data;

    public AttentionProbabilities(int heads, int queries, int keys, int firstQueryPosition, float[] data) {
        if ((long) heads * queries * keys != data.length) {
            throw new IllegalArgumentException("expected " + heads + " x " + queries + " x " + keys + " values, got " + data.length);
        }
        this.heads = heads;
        this.queries = queries;
        this.keys = keys;
        this.firstQueryPosition = firstQueryPosition;
        this.data = data;
    }

    public int heads() {
        return heads;
    }

    public int queries() {
        return queries;
    }

    public int keys() {
        return keys;
    }

    /** Cache position of query row 0 (the token whose attention row it is). */
    public int firstQueryPosition() {
        return firstQueryPosition;
    }

    public float get(int head, int query, int key) {
        return data[(head * queries + query) * keys + key];
    }

    /** A copy of one attention row. */
    public float[] row(int head, int query) {
        return row(head, query, keys);
    }

    /** A copy of one attention row's first {@code length} keys. */
    public float[] row(int head, int query, int length) {
        if (length < 0 || length > keys) {
            throw new IllegalArgumentException("a row holds " + keys + " keys, not " + length);
        }
        float[] out = new float[length];
        System.arraycopy(data, (head * queries + query) * keys, out, 0, length);
        return out;
    }

    /** The backing array, [heads][queries][keys] flattened (not copied). */
    public float[] data() {
        return data;
    }
}
