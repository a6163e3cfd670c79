package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A snapshot is a rewind point, not a copy: decoding only appends rows after the cache's
 * length, so the rows below a snapshot stay as they were until the cache is reset, refilled
 * or rewound below it, and restoring is setting the length back (no host copy of a cache
 * that holds 64 GiB at 512K tokens of 8B shapes). One that can no longer be restored says so.
 */
class KvSnapshotTest {
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);
    private static final int[] TOKENS = IntStream.range(0, 40).map(i -> (i * 131 + 7) % 512).toArray();

    private static float[][] decode(Engine e, int from, int steps) {
        float[][] out = new float[steps][];
        try (Decoder d = e.decoder(new FullAttention(), null)) {
            for (int s = 0; s < steps; s++) {
                out[s] = d.step(TOKENS[from + s]);
            }
        }
        return out;
    }

    @Test
    void everyRestoreDecodesAsTheFirstDecodeDid() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            e.prefill(Arrays.copyOf(TOKENS, 20));
            try (KvSnapshot snap = e.snapshot()) {
                float[][] first = decode(e, 20, 8);
                for (int again = 0; again < 3; again++) {
                    e.restore(snap);
                    assertEquals(20, e.position());
                    float[][] next = decode(e, 20, 8);
                    for (int s = 0; s < first.length; s++) {
                        assertArrayEquals(first[s], next[s], "restore " + again + ", step " + s);
                    }
                }
            }
        }
    }

    @Test
    void aSnapshotWhoseRowsWereRewrittenIsRefused() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            e.prefill(Arrays.copyOf(TOKENS, 20));
            try (KvSnapshot old = e.snapshot()) {
                e.reset();
                e.prefill(Arrays.copyOfRange(TOKENS, 5, 30)); // another prompt over the same rows
                assertFalse(old.intact());
                IllegalStateException ex = assertThrows(IllegalStateException.class, () -> e.restore(old));
                assertTrue(ex.getMessage().contains("the KV snapshot of 20 tokens can no longer be restored"), ex.getMessage());
                assertEquals(25, e.position(), "a refused restore changes nothing");
            }
            try (KvSnapshot beforeFill = e.snapshot()) {
                e.fillSynthetic(10, 1);
                assertThrows(IllegalStateException.class, () -> e.restore(beforeFill));
            }
        }
    }

    @Test
    void rewindingToAnEarlierSnapshotKeepsItAndDropsTheLaterOne() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            e.prefill(Arrays.copyOf(TOKENS, 20));
            try (KvSnapshot early = e.snapshot()) {
                decode(e, 20, 4);
                try (KvSnapshot late = e.snapshot()) {
                    decode(e, 24, 2);
                    e.restore(late); // back to 24: nothing below it was written
                    assertTrue(late.intact() && early.intact());
                    e.restore(early); // back to 20: decoding will write rows 20.. that late holds
                    assertTrue(early.intact());
                    assertFalse(late.intact());
                    assertThrows(IllegalStateException.class, () -> e.restore(late));
                }
            }
            KvSnapshot closed = e.snapshot();
            closed.close();
            assertThrows(IllegalStateException.class, () -> e.restore(closed));
        }
    }

    @Test
    void theSyntheticFillDependsOnlyOnItsSeed() {
        try (Engine a = Engine.open(MODEL.weights(), EngineOptions.defaults(300));
             Engine b = Engine.open(MODEL.weights(), EngineOptions.defaults(300));
             Arena arena = Arena.ofConfined()) {
            a.fillSynthetic(257, 9);
            b.fillSynthetic(257, 9);
            KvCache ca = a.cache(), cb = b.cache();
            for (int l = 0; l < ca.layers(); l++) {
                for (boolean keys : new boolean[] {true, false}) {
                    byte[] x = rows(arena, keys ? ca.keys(l) : ca.values(l));
                    byte[] y = rows(arena, keys ? cb.keys(l) : cb.values(l));
                    assertArrayEquals(x, y, "layer " + l + (keys ? " keys" : " values"));
                }
            }
            b.fillSynthetic(257, 10);
            assertFalse(Arrays.equals(rows(arena, ca.keys(1)), rows(arena, cb.keys(1))), "another seed, other rows");
            // every head of every layer gets rows of its own, of the size real rows have
            assertFalse(Arrays.equals(rows(arena, ca.keys(0)), rows(arena, ca.keys(1))));
            MemorySegment k = arena.allocate(ca.keys(0).bytes());
            ca.keys(0).read(k, 0);
            for (long i = 0; i < 257 * 64; i++) {
                float v = Float.float16ToFloat(k.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i));
                assertTrue(v >= -1 && v <= 1, "value " + v + " at " + i);
            }
        }
    }

    private static byte[] rows(Arena arena, org.rbench.llamacpp.Tensor t) {
        MemorySegment m = arena.allocate(t.bytes());
        t.read(m, 0);
        return m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }
}
