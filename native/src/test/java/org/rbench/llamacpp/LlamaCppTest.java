package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaCppTest {
    @Test
    void loadsPinnedLibrariesAndPassesLayoutCheck() {
        LlamaCpp.Info info = LlamaCpp.initialise();
        assertTrue(info.layout().ok(), info.layout().summary());
        assertEquals("v0.4.0", info.location().release());
        assertFalse(info.devices().isEmpty());
        assertTrue(info.devices().stream().anyMatch(d -> d.kind() == DeviceInfo.Kind.CPU), info.devices().toString());
    }
}
