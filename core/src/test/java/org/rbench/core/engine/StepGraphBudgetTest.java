package org.rbench.core.engine;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepGraphBudgetTest {
    @Test
    void theBudgetPropertyTakesWholeMiBOrNothing() {
        assertEquals(OptionalLong.empty(), Engine.stepGraphMiB(null));
        assertEquals(OptionalLong.empty(), Engine.stepGraphMiB(" "));
        assertEquals(OptionalLong.of(4096), Engine.stepGraphMiB("4096"));
        for (String bad : new String[] {"0", "-1", "1.5", "2G", " 8", "9999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Engine.stepGraphMiB(bad), bad);
            assertTrue(e.getMessage().contains(Engine.STEP_GRAPH_MIB), e.getMessage());
        }
    }
}
