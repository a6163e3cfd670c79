package org.rbench.core.attention;

/**
 * Where a decode step's new K/V wait for the full cache: row {@link #row}(h) of {@code cache}
 * holds KV head h's, and keeps holding it until the engine copies it into the full cache,
 * ahead of the next step that reads more than compact caches ({@link AttentionPlan#deferredWrite}).
 *
 * @param rows one row for every KV head, or one per KV head
 */
public record DeferredWrite(CompactCache cache, int[] rows) {
    public DeferredWrite {
        if (rows.length == 0) {
            throw new IllegalArgumentException("no row for the new token");
        }
        rows = rows.clone();
    }

    /** The row of {@link #cache} holding KV head {@code h}'s K and V. */
    public int row(int h) {
        return rows.length == 1 ? rows[0] : rows[h];
    }
}
