package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;

/**
 * How far the full cache holds every token's K/V. Decode steps whose plans keep their new rows only in rows of
 * their own ({@link AttentionPlan#skipsFullCacheWrite}: H2O's device slots) write nothing there, and the rows
 * from the first such step on stay stale: unlike a deferred write ({@link DeferredWrites}), nothing is left to
 * copy later, since the policy may overwrite its rows. What would read the full cache past that point (a
 * prefill or a decoder continuing the sequence, a snapshot, a policy's copy of such rows or graph over the
 * cache) is refused until the cache is restored, reset or refilled, which every run of the suite does between
 * samples and methods.
 */
final class FullCacheValidity {
    /** The first position whose rows the full cache lacks; -1: none. */
    private int staleFrom = -1;

    /**
     * Whether layer {@code l} of {@code pass} leaves its new K/V out of the full cache: its plan asks to, and
     * the pass is a plain decode step (diagnostics read the whole cache at every step, so none of theirs skips).
     */
    static boolean skips(Pass pass, int l) {
        AttentionPlan plan = pass.plainStepPlan(l);
        return plan != null && plan.skipsFullCacheWrite();
    }

    /** Notes a launched pass: a layer that skipped its write leaves the full cache stale from the pass's position. */
    void afterStep(Pass pass) {
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            if (skips(pass, l)) {
                staleFrom = staleFrom < 0 ? pass.start() : Math.min(staleFrom, pass.start());
                return;
            }
        }
    }

    /** Throws where the full cache lacks rows, naming {@code operation} (what would read them). */
    void require(String operation) {
        if (staleFrom >= 0) {
            throw new IllegalStateException(operation + " would read the full cache from position " + staleFrom
                    + " on, whose rows a decode kept only in its policy's own rows (AttentionPlan.skipsFullCacheWrite):"
                    + " restore a snapshot, reset or refill the cache first");
        }
    }

    /** Throws where one of {@code rows} of the full cache is stale, naming {@code operation} (no scan while none is). */
    void requireRows(int[] rows, String operation) {
        if (staleFrom < 0) {
            return;
        }
        for (int row : rows) {
            if (row >= staleFrom) {
                require(operation);
            }
        }
    }

    /** Every row is rewritten, or none past the restored length is read. */
    void clear() {
        staleFrom = -1;
    }
}
