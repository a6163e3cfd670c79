package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.testing.CpuBackend;
import org.rbench.core.testing.SystemProperties;
import org.rbench.core.testing.TestModels;
import org.rbench.llamacpp.GgmlType;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A policy start's graph over the cache ({@link PolicyServices#computeOverCache}) keeps its memory for the next start
 * when it is small (by default up to {@link PolicyServices#KEPT_START_MEMORY_BYTES}), and frees a larger one;
 * {@code -Drbench.keepStartMemory} takes {@code true} (keep any) and {@code false} (free every one) as A/Bs.
 */
class StartMemoryTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    /** The kept bytes after a small start's graph, then after one its cap is below, under {@code rule}. */
    private static long[] keptAfterSmallThenLarge(String rule) {
        return withRule(rule, () -> {
            try (ModelWeights w = ModelWeights.load(TestModels.preset("tiny-llama", GgmlType.F32), CPU.backend());
                 Engine engine = Engine.open(w, EngineOptions.defaults(64).withCacheType(GgmlType.F32))) {
                engine.prefill(new int[] {5, 17, 99, 3});
                PolicyServices services = (PolicyServices) engine.attentionContext();
                services.computeOverCache((ctx, keys, values, expand) -> expand.accept(ctx.scale(keys.apply(0), 2f)), 8);
                long small = services.keptStartMemoryBytes();
                services.keptStartMemoryCap(small - 1); // the same graph is now over the cap
                services.computeOverCache((ctx, keys, values, expand) -> expand.accept(ctx.scale(keys.apply(0), 2f)), 8);
                return new long[] {small, services.keptStartMemoryBytes()};
            }
        });
    }

    private static <T> T withRule(String rule, Supplier<T> body) {
        return SystemProperties.restoring("rbench.keepStartMemory", () -> {
            SystemProperties.set("rbench.keepStartMemory", rule);
            return body.get();
        });
    }

    @Test
    void byDefaultASmallStartsMemoryIsKeptAndALargerOnesFreed() {
        long[] kept = keptAfterSmallThenLarge(null);
        assertTrue(kept[0] > 0, "a small start's memory is kept");
        assertEquals(0, kept[1], "memory over the cap is freed after its start");
    }

    @Test
    void trueKeepsAnyStartsMemoryAndFalseNone() {
        long[] always = keptAfterSmallThenLarge("true");
        assertTrue(always[0] > 0 && always[1] == always[0], "kept whatever its size");
        long[] never = keptAfterSmallThenLarge("false");
        assertEquals(0, never[0]);
        assertEquals(0, never[1]);
    }

    @Test
    void anUnknownRuleIsRefusedWhenTheEngineOpens() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> keptAfterSmallThenLarge("yes"));
        assertTrue(e.getMessage().contains("auto, true or false"), e.getMessage());
    }
}
