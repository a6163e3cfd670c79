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
        PrefillRequest recycledAuto = new PrefillRequest(0, false, true, 0, 1);
        PrefillRequest h2o = new PrefillRequest(0, true, false);
        PrefillRequest both = recycledAuto.union(h2o);
        assertEquals(new PrefillRequest(0, true, true, 0, 1), both);
        assertEquals(1, both.lastRowsOn(true));
        assertEquals(0, both.lastRowsOn(false), "a GPU prefill reads no rows back for a host-only request");
        assertEquals(1, both.lastTokensRead());
        // SnapKV windows of two sizes become rows; the host-only rows stay beside them
        PrefillRequest snaps = PrefillRequest.windowSums(8).union(PrefillRequest.windowSums(16)).union(recycledAuto);
        assertEquals(16, snaps.lastRows());
        assertEquals(1, snaps.hostLastRows());
        assertEquals(16, snaps.lastRowsOn(false));
        assertEquals(16, snaps.lastTokensRead());
        assertEquals(32, PrefillRequest.windowSums(32).union(recycledAuto).lastTokensRead());
    }

    @Test
    void anyCountsTheHostOnlyRowsAndCountsAreNotNegative() {
        assertFalse(PrefillRequest.NONE.any());
        assertTrue(new PrefillRequest(0, false, false, 0, 1).any());
        assertThrows(IllegalArgumentException.class, () -> new PrefillRequest(0, false, false, 0, -1));
    }
}
