package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.Strategies;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.Decoding;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A recycled step may leave its token's full-cache write to the next step that reads the full
 * cache ({@link DeferredWrites}): the logits, and the full cache once flushed, are those of
 * writing at every step, bit for bit.
 */
class DeferredWritesTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 14;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    private static EngineOptions exact() {
        return EngineOptions.defaults(128).withCacheType(GgmlType.F32).withFlashAttention(false).withKvPadding(1);
    }

    private static EngineOptions flash() {
        return EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true);
    }

    private record Run(List<float[]> logits, byte[][] cache, long deferredRows, long runCopies, long gatheredCopies,
                       long everyLayerCopies) {
    }

    private static Run decode(EngineOptions options, String spec, boolean diagnostics) {
        HyperParameters hp = MODEL.weights().hyperParameters();
        try (Engine e = Engine.open(MODEL.weights(), options)) {
            AttentionPolicy policy = Strategies.create(spec, hp, PROMPT);
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            List<float[]> out = new ArrayList<>();
            try (Decoder d = e.decoder(policy, p.statistics())) {
                if (diagnostics) {
                    d.withDiagnostics(new int[0], x -> { });
                }
                for (int s = 0; s < STEPS; s++) {
                    out.add(d.step(TOKENS[PROMPT + s]));
                }
            }
            assertTrue(e.deferredWrites().isEmpty(), spec + ": rows left pending after the decoder closed");
            return new Run(out, cacheRows(e), e.deferredWrites().deferredRows(), e.deferredWrites().runCopies(),
                    e.deferredWrites().gatheredCopies(), e.deferredWrites().everyLayerCopies());
        }
    }

    /** Every layer's K and V rows [0, length) per KV head, as bytes. */
    private static byte[][] cacheRows(Engine e) {
        KvCache cache = e.graphResources().cache();
        byte[][] out = new byte[2 * cache.layers()][];
        for (int l = 0; l < cache.layers(); l++) {
            out[2 * l] = rows(cache.keys(l), cache.length());
            out[2 * l + 1] = rows(cache.values(l), cache.length());
        }
        return out;
    }

    private static byte[] rows(Tensor t, int length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = arena.allocate(t.bytes());
            t.read(all, 0);
            long rowBytes = t.nb(1);
            int heads = (int) t.ne(2);
            byte[] out = new byte[(int) (rowBytes * length * heads)];
            for (int h = 0; h < heads; h++) {
                MemorySegment.copy(all, ValueLayout.JAVA_BYTE, h * t.nb(2), out, (int) (h * rowBytes * length),
                        (int) (rowBytes * length));
            }
            return out;
        }
    }

    private static void assertSameRun(Run direct, Run deferred, String what) {
        for (int s = 0; s < STEPS; s++) {
            assertArrayEquals(direct.logits().get(s), deferred.logits().get(s), what + ": logits of step " + s);
        }
        for (int i = 0; i < direct.cache().length; i++) {
            assertArrayEquals(direct.cache()[i], deferred.cache()[i], what + ": full cache, layer " + i / 2 + (i % 2 == 0 ? " K" : " V"));
        }
    }

    @Test
    void deferredWritesGiveTheLogitsAndTheFullCacheOfDirectWrites() {
        for (EngineOptions options : List.of(exact(), flash())) {
            for (String spec : List.of("recycled:k=8,s=3", "recycled:k=8,s=4,version=v1", "recycled:k=64,s=5",
                    "recycled-dynamic:k=8,qc=2,threshold=0.99,decide=host", "recycled-dynamic:k=8,qc=2,threshold=0.99,decide=device",
                    // layers choosing differently: a declining layer's rows are gathered, every layer's with them
                    // (qc=3: runs of two rows, in v2's descending order, gathered in step order)
                    "recycled-dynamic:k=8,qc=2,threshold=0,decide=device", "recycled-dynamic:k=8,qc=3,threshold=0,decide=device")) {
                String what = spec + " (" + options.cacheType() + ")";
                Run direct = decode(options, spec + ",writes=direct", false);
                Run deferred = decode(options, spec, false);
                assertEquals(0, direct.deferredRows(), what + ": direct writes deferred rows");
                assertTrue(deferred.deferredRows() > 0, what + ": nothing was deferred");
                // Cp's new tokens take one run of slots (v2: downwards from the last live one; v1: upwards), set
                // into the full cache from a view of the compact cache, not gathered
                assertTrue(deferred.runCopies() > 0, what + ": every layer's pending rows were gathered");
                if (spec.startsWith("recycled:k=8")) {
                    // K under the prompt: every refresh refills Cp, and the next run begins where the first did
                    assertEquals(0, deferred.gatheredCopies(), what + ": the fixed schedule's pending rows were gathered");
                    // every layer's in the same slots of Cp's stack: one set_rows a kind for all of them
                    assertTrue(deferred.everyLayerCopies() > 0, what + ": every layer's pending rows were set layer by layer");
                }
                if (spec.contains("threshold=0,")) {
                    assertTrue(deferred.gatheredCopies() > 0, what + ": no layer's rows were gathered");
                }
                assertSameRun(direct, deferred, what);
            }
        }
    }

    /**
     * A decode's first runs set where its runs begin: a decode before it on the engine whose prompt was shorter than K
     * (Cp holding fewer rows, its runs elsewhere) does not turn this one's copies into gathers.
     */
    @Test
    void aDecodeCopiesFromViewsWhateverTheDecodeBeforeIt() {
        HyperParameters hp = MODEL.weights().hyperParameters();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            Decoding.decode(e, hp, "recycled:k=8,s=3", TOKENS, 5, STEPS);
            long gathered = e.deferredWrites().gatheredCopies();
            long runs = e.deferredWrites().runCopies();
            Decoding.decode(e, hp, "recycled:k=8,s=3", TOKENS, PROMPT, STEPS);
            assertEquals(gathered, e.deferredWrites().gatheredCopies(), "the later decode gathered its pending rows");
            assertTrue(e.deferredWrites().runCopies() > runs, "the later decode copied nothing from views");
        }
    }

    /** Diagnostics read the whole cache at every step: nothing is deferred, the logits stay the same. */
    @Test
    void diagnosticsWriteTheFullCacheAtEveryStep() {
        Run direct = decode(exact(), "recycled:k=8,s=3,writes=direct", true);
        Run deferred = decode(exact(), "recycled:k=8,s=3", true);
        assertEquals(0, deferred.deferredRows());
        assertSameRun(direct, deferred, "with diagnostics");
    }

    /**
     * Recycled steps leave their rows pending until the next full step, whose graph writes them
     * first; a snapshot, a restore and the decoder's end write them in a graph of their own.
     */
    @Test
    void pendingRowsReachTheFullCacheBeforeAnythingReadsIt() {
        HyperParameters hp = MODEL.weights().hyperParameters();
        int layers = hp.layers();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            AttentionPolicy policy = Strategies.create("recycled:k=8,s=4", hp, PROMPT);
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            DeferredWrites pending = e.deferredWrites();
            try (Decoder d = e.decoder(policy, p.statistics())) {
                // steps 1-3 after the prefill's token are recycled, step 4 a full step
                for (int s = 0; s < 3; s++) {
                    d.step(TOKENS[PROMPT + s]);
                    for (int l = 0; l < layers; l++) {
                        assertEquals(s + 1, pending.pending(l), "layer " + l + " after step " + s);
                    }
                }
                d.step(TOKENS[PROMPT + 3]);
                assertTrue(pending.isEmpty(), "the full step wrote the pending rows");
                assertEquals(0, pending.flushes(), "in its own graph");
                d.step(TOKENS[PROMPT + 4]);
                assertEquals(1, pending.pending(0));
                KvSnapshot s = e.snapshot();
                assertTrue(pending.isEmpty(), "a snapshot writes the pending rows first");
                assertEquals(PROMPT + 5, s.length());
                d.step(TOKENS[PROMPT + 5]);
                assertEquals(1, pending.pending(0));
                e.restore(s);
                assertTrue(pending.isEmpty(), "a restore writes the pending rows first");
                d.step(TOKENS[PROMPT + 5]);
                assertEquals(1, pending.pending(0));
            }
            assertTrue(pending.isEmpty(), "closing the decoder writes the pending rows");
            assertEquals(3, pending.flushes(), "the snapshot's, the restore's and the decoder's end");
        }
    }

    /** Keys rotated at another position than their own cannot stand in for the full cache's row. */
    @Test
    void aDeferredWriteNeedsKeysAtTheirOwnPositions() {
        HyperParameters hp = MODEL.weights().hyperParameters();
        try (Engine e = Engine.open(MODEL.weights(), exact());
             CompactCache cache = e.attentionContext().newCompactCache(8, 0)) {
            var plan = AttentionPlan.compact(cache, 0, 1).deferringWrite();
            assertNotNull(plan.deferredWrite());
            assertEquals(cache, plan.deferredWrite().cache());
            assertNull(AttentionPlan.compact(cache, 0, 1).deferredWrite());
            PlanCheck at = new PlanCheck("test", 0, 5, hp, 128);
            plan.check(at);
            var moved = plan.atPosition(3);
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> moved.check(at));
            assertTrue(bad.getMessage().contains("cannot wait"), bad.getMessage());
        }
    }

    @Test
    void aCopyOfEveryLayerAtOnceTakesLayerZerosPositionsAlone() {
        int[] counts = {3, 3, 3, 3};
        assertEquals(3, DeferredWrites.positionCount(new DeferredWrites.Copy(counts, true, true)));
        assertEquals(12, DeferredWrites.positionCount(new DeferredWrites.Copy(counts, true, false)));
        assertEquals(5, DeferredWrites.positionCount(new DeferredWrites.Copy(new int[] {2, 0, 3}, false, false)));
    }
}
