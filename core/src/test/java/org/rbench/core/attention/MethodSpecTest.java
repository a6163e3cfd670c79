package org.rbench.core.attention;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MethodSpecTest {
    private static String error(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void anIntegerOutOfRangeSaysSoWithTheRange() {
        String positive = error(() -> MethodSpec.parse("recycled:k=99999999999").positiveInt("k", 1));
        assertEquals("method 'recycled:k=99999999999': k = 99999999999 is out of range (an integer from 1 to 2147483647)",
                positive);
        String any = error(() -> MethodSpec.parse("x:keep=-99999999999").intParam("keep", 0));
        assertTrue(any.contains("out of range") && any.contains("-2147483648 to 2147483647"), any);
        assertTrue(error(() -> MethodSpec.parse("x:k=many").intParam("k", 0)).contains("k must be an integer, not 'many'"));
        assertTrue(error(() -> MethodSpec.parse("x:k=0").positiveInt("k", 1)).contains("k must be positive, got 0"));
        assertEquals(1_000_000, MethodSpec.parse("x:k=1_000_000").positiveInt("k", 1));
    }

    @Test
    void theEngineRegistryPointsBothLlamaCppReferencesToTheHarness() {
        for (String reference : new String[] {"llamacpp", "llamacpp-shift:k=64"}) {
            String e = error(() -> Strategies.forSpec(MethodSpec.parse(reference)));
            assertTrue(e.contains("stock llama_decode path, run by the harness"), e);
        }
    }
}
