package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorCoreDecodeTest {
    @Test
    void unsetOrBlankIsStocksChoice() {
        assertEquals(OptionalLong.empty(), TensorCoreDecode.fromRows(null));
        assertEquals(OptionalLong.empty(), TensorCoreDecode.fromRows(""));
        assertEquals(OptionalLong.empty(), TensorCoreDecode.fromRows("  "));
    }

    @Test
    void aWholeNumberIsTheRowsFromWhichTheKernelRuns() {
        assertEquals(OptionalLong.of(16384), TensorCoreDecode.fromRows("16384"));
        assertEquals(OptionalLong.of(0), TensorCoreDecode.fromRows("0"));
    }

    @Test
    void anythingElseIsRefusedNamingTheVariable() {
        for (String bad : new String[] {"16k", "-1", "+5", " 8192", "8192\n", "1.5", "on", "99999999999999999999"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorCoreDecode.fromRows(bad), bad);
            assertTrue(e.getMessage().startsWith("GGML_CUDA_FA_GQA_MMA_KV=" + bad + ":"), e.getMessage());
        }
    }
}
