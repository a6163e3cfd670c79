package org.rbench.core.attention;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrefillRequestTest {
    /** One prefill serving several methods collects what each needs, on the backend it runs on. */
    @Test
    void aUnionCollectsWhatEitherNeeds() {
        PrefillRequest recycledAuto = new PrefillRequest(0, false, false, 0, 1);
        PrefillRequest h2o = new PrefillRequest(0, true, false);
        PrefillRequest both = recycledAuto.union(h2o);
        assertEquals(new PrefillRequest(0, true, false, 0, 1), both);
        assertEquals(new PrefillRequest(1, true, false), both.on(true), "the CPU reads the rows back");
        assertEquals(new PrefillRequest(0, true, true), both.on(false), "a GPU returns the query instead");
        assertEquals(1, both.lastTokensRead());
        // SnapKV windows of two sizes become rows; the host-only rows stay beside them
        PrefillRequest snaps = PrefillRequest.windowSums(8).union(PrefillRequest.windowSums(16)).union(recycledAuto);
        assertEquals(16, snaps.lastRows());
        assertEquals(1, snaps.hostLastRows());
        assertEquals(16, snaps.on(false).lastRows());
        assertEquals(16, snaps.lastTokensRead());
        assertEquals(32, PrefillRequest.windowSums(32).union(recycledAuto).lastTokensRead());
    }

    /** Two requests that collect the same on a backend are equal there: one prefill serves both. */
    @Test
    void onABackendTheRowsOrTheQueryStandForTheHostRows() {
        PrefillRequest auto = new PrefillRequest(0, false, false, 0, 1);
        PrefillRequest host = new PrefillRequest(1, false, false);
        PrefillRequest device = new PrefillRequest(0, false, true);
        assertEquals(host, auto.on(true));
        assertEquals(device, auto.on(false));
        assertEquals(host, host.on(false), "rows asked for outright are read back on any backend");
        assertEquals(PrefillRequest.NONE, PrefillRequest.NONE.on(false));
    }

    @Test
    void anyCountsTheHostOnlyRowsAndCountsAreNotNegative() {
        assertFalse(PrefillRequest.NONE.any());
        assertTrue(new PrefillRequest(0, false, false, 0, 1).any());
        assertThrows(IllegalArgumentException.class, () -> new PrefillRequest(0, false, false, 0, -1));
    }
}
