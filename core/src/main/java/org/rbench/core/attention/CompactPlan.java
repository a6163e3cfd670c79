package org.rbench.core.attention;

import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * Attend to rows [0, rows) of a policy-owned {@link CompactCache}, after writing the new
 * token's K/V at its row {@code newTokenRow}: the step reads {@code rows} rows per KV head
 * and nothing of the full cache.
 *
 * @param position -1: the new token's query and compact-cache key are rotated at its cache
 *                 position, like everything else; otherwise at this position (the full cache
 *                 still gets the original one). With keys re-rotated by
 *                 {@link AttentionContext#shiftKeys} this gives positions by index in the
 *                 compact cache.
 */
public record CompactPlan(CompactCache cache, int newTokenRow, int rows, int position, boolean probabilities,
                          boolean query) implements AttentionPlan {
    public CompactPlan {
        if (rows <= 0 || rows > cache.capacity()) {
            throw new IllegalArgumentException("compact rows " + rows + " outside [1, " + cache.capacity() + "]");
        }
        if (newTokenRow < 0 || newTokenRow >= rows) {
            throw new IllegalArgumentException("the new token's row " + newTokenRow + " must lie in [0, " + rows + ")");
        }
        if (position < -1) {
            throw new IllegalArgumentException("position must be -1 (unchanged) or >= 0, got " + position);
        }
    }

    /** Rotate the new token's query and compact key at {@code p} instead of its cache position. */
    public CompactPlan atPosition(int p) {
        if (p < 0) {
            throw new IllegalArgumentException("position must be >= 0, got " + p);
        }
        return new CompactPlan(cache, newTokenRow, rows, p, probabilities, query);
    }

    @Override
    public CompactPlan withProbabilities() {
        return new CompactPlan(cache, newTokenRow, rows, position, true, query);
    }

    @Override
    public CompactPlan withQuery() {
        return new CompactPlan(cache, newTokenRow, rows, position, probabilities, true);
    }

    @Override
    public int rows(int position) {
        return rows;
    }

    @Override
    public void check(PlanCheck at) {
        at.requireHeadShape(cache, "the compact cache");
    }

    @Override
    public Object shape(int position) {
        return List.of(cache, rows, this.position >= 0); // the cache by identity
    }

    @Override
    public Tensor ropePosition(PlanGraph g) {
        if (position < 0) {
            return null;
        }
        return g.layerIndex("compact_positions", (CompactPlan p) -> p.position(), p -> Integer.MAX_VALUE);
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        Tensor row = g.layerIndex("compact_rows", CompactPlan::newTokenRow, (CompactPlan p) -> p.cache().capacity());
        var ctx = g.ctx();
        // Cache layout is [headDim, rows, kvHeads]: the token and head dims swap to write.
        Tensor k = ctx.setRows(cache.keys(), ctx.permute(g.newKeys(), 0, 2, 1, 3), row);
        Tensor v = ctx.setRows(cache.values(), ctx.permute(g.newValues(), 0, 2, 1, 3), row);
        g.expand(k);
        g.expand(v);
        return new AttendedRows(g.rowsView(k, 0, rows), g.rowsView(v, 0, rows), null);
    }
}
