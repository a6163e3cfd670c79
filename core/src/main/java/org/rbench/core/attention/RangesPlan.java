package org.rbench.core.attention;

import org.rbench.llamacpp.Ggml;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Attend to row ranges [start, end) of the full cache, the same for every head (attention
 * sinks plus a recent window): one range is a zero-copy view, several are joined into one
 * contiguous block. The bounds are views, so they are part of the graph's shape.
 */
public record RangesPlan(int[] starts, int[] ends, boolean probabilities, boolean query) implements AttentionPlan {
    public RangesPlan {
        if (starts.length == 0 || starts.length != ends.length) {
            throw new IllegalArgumentException("ranges need matching, non-empty start and end arrays");
        }
        for (int i = 0; i < starts.length; i++) {
            if (starts[i] < 0 || ends[i] <= starts[i] || (i > 0 && starts[i] < ends[i - 1])) {
                throw new IllegalArgumentException("ranges must be non-empty, ascending and disjoint: "
                        + Arrays.toString(starts) + " / " + Arrays.toString(ends));
            }
        }
    }

    @Override
    public RangesPlan withProbabilities() {
        return new RangesPlan(starts, ends, true, query);
    }

    @Override
    public RangesPlan withQuery() {
        return new RangesPlan(starts, ends, probabilities, true);
    }

    /** Total rows attended. */
    public int rows() {
        int n = 0;
        for (int i = 0; i < starts.length; i++) {
            n += ends[i] - starts[i];
        }
        return n;
    }

    @Override
    public int rows(int position) {
        return rows();
    }

    @Override
    public void check(PlanCheck at) {
        int end = ends[ends.length - 1];
        if (end > at.position() + 1) {
            throw at.fail("range end " + end + " past the cached rows [0, " + at.position() + "]");
        }
    }

    @Override
    public Object shape(int position) {
        return List.of(Arrays.toString(starts), Arrays.toString(ends));
    }

    @Override
    public int[] attendedPositions(int kvHead, int position) {
        int[] out = new int[rows()];
        int j = 0;
        for (int i = 0; i < starts.length; i++) {
            for (int x = starts[i]; x < ends[i]; x++) {
                out[j++] = x;
            }
        }
        return out;
    }

    @Override
    public int extraTensors() {
        return 6 * starts.length;
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        return new AttendedRows(joined(g, g.cacheKeys()), joined(g, g.cacheValues()), null);
    }

    private Tensor joined(PlanGraph g, Tensor cache) {
        Tensor joined = g.rowsView(cache, starts[0], ends[0]);
        for (int i = 1; i < starts.length; i++) {
            Tensor next = g.rowsView(cache, starts[i], ends[i]);
            // ggml_concat asserts equal types and equal other dims: true for two views of one cache.
            joined = Tensor.of(Ggml.ggml_concat(g.ctx().address(), joined.address(), next.address(), 1));
        }
        return joined;
    }
}
