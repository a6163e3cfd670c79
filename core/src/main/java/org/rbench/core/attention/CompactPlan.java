package org.rbench.core.attention;

import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * Attend to rows [0, rows) of a policy-owned {@link CompactCache}, after writing the new
 * token's K/V at its row: {@code newTokenRows} holds one row for every KV head, or one per
 * KV head. The step reads {@code rows} rows per KV head (padded and masked as a full read
 * of as many rows, {@link PlanGraph#leadingRows}) and nothing of the full cache.
 *
 * @param position -1: the new token's query and compact-cache key are rotated at its cache
 *                 position, like everything else; otherwise at this position (the full cache
 *                 still gets the original one). With keys re-rotated by
 *                 {@link AttentionContext#shiftKeys} this gives positions by index in the
 *                 compact cache.
 * @param deferWrite the new token's rows stay where this plan writes them until a later step of
 *                   the layer reads more than compact caches: the engine may leave the full
 *                   cache's write until then ({@link #deferredWrite})
 */
public record CompactPlan(CompactCache cache, int[] newTokenRows, int rows, int position, boolean probabilities,
                          boolean query, boolean deferWrite) implements AttentionPlan {
    public CompactPlan {
        if (rows <= 0 || rows > cache.capacity()) {
            throw new IllegalArgumentException("compact rows " + rows + " outside [1, " + cache.capacity() + "]");
        }
        if (newTokenRows.length == 0) {
            throw new IllegalArgumentException("no row for the new token");
        }
        for (int r : newTokenRows) {
            if (r < 0 || r >= rows) {
                throw new IllegalArgumentException("the new token's row " + r + " must lie in [0, " + rows + ")");
            }
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
        return new CompactPlan(cache, newTokenRows, rows, p, probabilities, query, deferWrite);
    }

    @Override
    public CompactPlan withProbabilities() {
        return new CompactPlan(cache, newTokenRows, rows, position, true, query, deferWrite);
    }

    @Override
    public CompactPlan withQuery() {
        return new CompactPlan(cache, newTokenRows, rows, position, probabilities, true, deferWrite);
    }

    /**
     * This plan, promising that the new token's rows stay in the compact cache until a later
     * step of the layer reads more than compact caches: the full cache's write can wait until
     * then. Only for keys rotated at their cache position (the rows then equal the full cache's).
     */
    public CompactPlan deferringWrite() {
        return new CompactPlan(cache, newTokenRows, rows, position, probabilities, query, true);
    }

    @Override
    public DeferredWrite deferredWrite() {
        return deferWrite ? new DeferredWrite(cache, newTokenRows) : null;
    }

    @Override
    public int rows(int position) {
        return rows;
    }

    /** The new token's row in KV head {@code h}'s part of the cache. */
    public int newTokenRow(int h) {
        return newTokenRows.length == 1 ? newTokenRows[0] : newTokenRows[h];
    }

    private int[] rowPerKvHead(int kvHeads) {
        int[] out = new int[kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            out[h] = newTokenRow(h);
        }
        return out;
    }

    @Override
    public void check(PlanCheck at) {
        at.requireHeadShape(cache, "the compact cache");
        if (newTokenRows.length != 1 && newTokenRows.length != at.model().kvHeads()) {
            throw at.fail(newTokenRows.length + " new-token rows for " + at.model().kvHeads() + " KV heads");
        }
        if (deferWrite && position >= 0) {
            throw at.fail("keys rotated at position " + position + " cannot stand in for the full cache's: its write cannot wait");
        }
    }

    @Override
    public Object shape(int position) {
        return List.of(cache, rows, this.position >= 0, deferWrite); // the cache by identity
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
        int kvHeads = g.model().kvHeads();
        var ctx = g.ctx();
        // one row per KV head: [1, kvHeads] indices write the token's [headDim, 1, kvHeads] K and V
        Tensor row = ctx.reshape(g.layerIndices("compact_rows", kvHeads, (CompactPlan p) -> p.rowPerKvHead(kvHeads),
                p -> p.cache().capacity()), 1, kvHeads);
        // Cache layout is [headDim, rows, kvHeads]: the token and head dims swap to write.
        Tensor k = ctx.setRows(cache.keys(), ctx.permute(g.newKeys(), 0, 2, 1, 3), row);
        Tensor v = ctx.setRows(cache.values(), ctx.permute(g.newValues(), 0, 2, 1, 3), row);
        g.expand(k);
        g.expand(v);
        if (cache.spareRows() > 0) {
            // the read, padding included, stays within the capacity: spare rows are no part of it
            k = CacheRows.range(ctx, k, 0, cache.capacity());
            v = CacheRows.range(ctx, v, 0, cache.capacity());
        }
        return g.leadingRows(k, v, rows);
    }
}
