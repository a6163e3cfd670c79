package org.rbench.core.attention;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every plan kind, selecting all cached rows, reproduces full attention. With an F32
 * cache, the explicit softmax path and no padding the rows are summed in the same order,
 * so the logits are equal to within float rounding of the gather's F32 copy.
 */
class AttentionPlanTest {
    private static final int PROMPT = 20;
    private static final int STEPS = 5;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();

    // GQA 2:1 so per-KV-head plans are exercised.
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    private static EngineOptions exact() {
        return EngineOptions.defaults(64).withCacheType(GgmlType.F32).withFlashAttention(false).withKvPadding(1);
    }

    /** Decodes the fixed continuation under a policy, from a fresh prefill; returns each step's logits. */
    private static List<float[]> decode(Engine engine, Supplier<AttentionPolicy> policy) {
        engine.reset();
        PrefillResult p = engine.prefill(java.util.Arrays.copyOf(TOKENS, PROMPT), policy.get().prefillRequest(), false);
        List<float[]> out = new ArrayList<>();
        try (Decoder d = engine.decoder(policy.get(), p.statistics())) {
            for (int s = 0; s < STEPS; s++) {
                out.add(d.step(TOKENS[PROMPT + s]));
            }
        }
        return out;
    }

    private static void assertSameLogits(List<float[]> expected, List<float[]> actual, double tolerance) {
        assertEquals(expected.size(), actual.size());
        for (int s = 0; s < expected.size(); s++) {
            float[] e = expected.get(s);
            float[] a = actual.get(s);
            for (int j = 0; j < e.length; j++) {
                assertEquals(e[j], a[j], tolerance, "step " + s + " logit " + j);
            }
        }
    }

    private static List<float[]> full(Engine e) {
        return decode(e, FullAttention::new);
    }

    /** A policy that plans the same way at every layer from the step's position. */
    private record Planner(String name, java.util.function.Function<LayerStep, AttentionPlan> planner) implements AttentionPolicy {
        @Override
        public AttentionPlan plan(LayerStep at) {
            return planner.apply(at);
        }
    }

    @Test
    void gatherOfAllRowsEqualsFull() {
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> expected = full(e);
            List<float[]> gathered = decode(e, () -> new Planner("gather-all", at -> {
                int n = at.cachedRows();
                int[] rows = new int[n * kvHeads];
                for (int h = 0; h < kvHeads; h++) {
                    for (int i = 0; i < n; i++) {
                        rows[h * n + i] = i;
                    }
                }
                return AttentionPlan.gather(n, rows);
            }));
            assertSameLogits(expected, gathered, 1e-6);
        }
    }

    @Test
    void gatheringPermutedRowsPerHeadEqualsFull() {
        // Attention is a set operation: any order of all rows gives the same result (up to rounding).
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> expected = full(e);
            List<float[]> gathered = decode(e, () -> new Planner("gather-reversed", at -> {
                int n = at.cachedRows();
                int[] rows = new int[n * kvHeads];
                for (int h = 0; h < kvHeads; h++) {
                    for (int i = 0; i < n; i++) {
                        rows[h * n + i] = h == 0 ? n - 1 - i : i;
                    }
                }
                return AttentionPlan.gather(n, rows);
            }));
            assertSameLogits(expected, gathered, 1e-4);
        }
    }

    @Test
    void deviceRowIndicesEqualHostRows() {
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> expected = full(e);
            List<float[]> gathered = decode(e, () -> new AttentionPolicy() {
                RowIndices[] indices;

                @Override
                public String name() {
                    return "device-gather";
                }

                @Override
                public void start(AttentionContext context, PrefillStatistics prefill) {
                    indices = new RowIndices[PROMPT + STEPS + 1];
                    for (int n = PROMPT + 1; n <= PROMPT + STEPS; n++) {
                        indices[n] = context.newRowIndices(n);
                        int[] rows = new int[n * kvHeads];
                        for (int h = 0; h < kvHeads; h++) {
                            for (int i = 0; i < n; i++) {
                                rows[h * n + i] = i;
                            }
                        }
                        indices[n].write(rows);
                    }
                }

                @Override
                public AttentionPlan plan(LayerStep at) {
                    return AttentionPlan.gather(indices[at.cachedRows()]);
                }

                @Override
                public void close() {
                    for (RowIndices r : indices) {
                        if (r != null) {
                            r.close();
                        }
                    }
                }
            });
            assertSameLogits(expected, gathered, 1e-6);
        }
    }

    @Test
    void rangesCoveringAllRowsEqualFull() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> expected = full(e);
            List<float[]> ranged = decode(e, () -> new Planner("sink+rest", at ->
                    AttentionPlan.ranges(new int[] {0, 4, 9}, new int[] {4, 9, at.cachedRows()})));
            assertSameLogits(expected, ranged, 1e-6);
            List<float[]> single = decode(e, () -> new Planner("one-range", at ->
                    AttentionPlan.ranges(new int[] {0}, new int[] {at.cachedRows()})));
            assertSameLogits(expected, single, 0);
        }
    }

    @Test
    void slidingWindowByGatherEqualsSlidingWindowByRanges() {
        // Same rows per head every step: the gather graph is reused with new row inputs,
        // while the range views change shape and are rebuilt; both must agree.
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        int window = 8;
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> ranged = decode(e, () -> new Planner("window-ranges", at ->
                    AttentionPlan.ranges(new int[] {0, at.cachedRows() - window}, new int[] {2, at.cachedRows()})));
            List<float[]> gathered = decode(e, () -> new Planner("window-gather", at -> {
                int[] rows = new int[(window + 2) * kvHeads];
                for (int h = 0; h < kvHeads; h++) {
                    rows[h * (window + 2)] = 0;
                    rows[h * (window + 2) + 1] = 1;
                    for (int i = 0; i < window; i++) {
                        rows[h * (window + 2) + 2 + i] = at.cachedRows() - window + i;
                    }
                }
                return AttentionPlan.gather(window + 2, rows);
            }));
            assertSameLogits(ranged, gathered, 1e-6);
            List<float[]> full = full(e);
            assertTrue(Math.abs(full.get(STEPS - 1)[0] - ranged.get(STEPS - 1)[0]) > 1e-6, "a window must differ from full");
        }
    }

    @Test
    void compactCacheHoldingEveryRowEqualsFull() {
        int layers = MODEL.weights().hyperParameters().layers();
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> expected = full(e);
            List<float[]> compacted = decode(e, () -> new AttentionPolicy() {
                CompactCache[] caches;

                @Override
                public String name() {
                    return "compact-all";
                }

                @Override
                public void start(AttentionContext context, PrefillStatistics prefill) {
                    caches = new CompactCache[layers];
                    int n = context.position();
                    int[] rows = new int[n * kvHeads];
                    for (int h = 0; h < kvHeads; h++) {
                        for (int i = 0; i < n; i++) {
                            rows[h * n + i] = i;
                        }
                    }
                    List<AttentionContext.RowCopy> copies = new ArrayList<>();
                    for (int l = 0; l < layers; l++) {
                        caches[l] = context.newCompactCache(32);
                        copies.add(new AttentionContext.RowCopy(l, rows, n, caches[l], 0));
                    }
                    context.copyRows(copies);
                }

                @Override
                public AttentionPlan plan(LayerStep at) {
                    return AttentionPlan.compact(caches[at.layer()], at.position(), at.cachedRows());
                }

                @Override
                public void close() {
                    for (CompactCache c : caches) {
                        c.close();
                    }
                }
            });
            assertSameLogits(expected, compacted, 0);
        }
    }

    @Test
    void layerByLayerStepsEqualOneGraphAndSeeTheQuery() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> expected = full(e);
            List<QueryVectors> seen = new ArrayList<>();
            List<QueryVectors> observed = new ArrayList<>();
            List<float[]> split = decode(e, () -> new AttentionPolicy() {
                @Override
                public String name() {
                    return "split";
                }

                @Override
                public boolean needsQueryBeforePlanning(int step) {
                    return step % 2 == 0;
                }

                @Override
                public AttentionPlan plan(LayerStep at) {
                    if (at.query() != null) {
                        seen.add(at.query());
                    }
                    return AttentionPlan.full().withQuery();
                }

                @Override
                public void observe(LayerObservation o) {
                    if (o.step() % 2 == 0) {
                        observed.add(o.query());
                    }
                }
            });
            assertSameLogits(expected, split, 0);
            int layers = MODEL.weights().hyperParameters().layers();
            assertEquals(3 * layers, seen.size());
            for (int i = 0; i < seen.size(); i++) {
                assertArrayEquals(seen.get(i).afterRope(), observed.get(i).afterRope(), 0f);
                assertArrayEquals(seen.get(i).beforeRope(), observed.get(i).beforeRope(), 0f);
            }
        }
    }

    @Test
    void probabilitiesAreSoftmaxRowsAndAgreeAcrossKernels() {
        List<AttentionProbabilities> flash = new ArrayList<>();
        List<AttentionProbabilities> plain = new ArrayList<>();
        for (boolean fa : new boolean[] {true, false}) {
            List<AttentionProbabilities> into = fa ? flash : plain;
            try (Engine e = Engine.open(MODEL.weights(), exact().withFlashAttention(fa))) {
                decode(e, () -> new AttentionPolicy() {
                    @Override
                    public String name() {
                        return "probe";
                    }

                    @Override
                    public AttentionPlan plan(LayerStep at) {
                        return AttentionPlan.full().withProbabilities();
                    }

                    @Override
                    public void observe(LayerObservation o) {
                        into.add(o.probabilities());
                    }
                });
            }
        }
        assertEquals(plain.size(), flash.size());
        int heads = MODEL.weights().hyperParameters().heads();
        for (int i = 0; i < plain.size(); i++) {
            AttentionProbabilities p = plain.get(i);
            assertEquals(heads, p.heads());
            assertEquals(PROMPT + 1 + i / MODEL.weights().hyperParameters().layers(), p.keys());
            for (int h = 0; h < heads; h++) {
                double sum = 0;
                for (int k = 0; k < p.keys(); k++) {
                    sum += p.get(h, 0, k);
                }
                assertEquals(1.0, sum, 1e-5);
            }
            assertArrayEquals(p.data(), flash.get(i).data(), 1e-6f);
        }
    }

    @Test
    void snapshotRestoresTheExactState() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            e.prefill(java.util.Arrays.copyOf(TOKENS, PROMPT));
            try (KvSnapshot snap = e.snapshot()) {
                assertEquals(PROMPT, snap.length());
                List<float[]> first = steps(e);
                assertEquals(PROMPT + STEPS, e.position());
                e.restore(snap);
                assertEquals(PROMPT, e.position());
                List<float[]> second = steps(e);
                assertSameLogits(first, second, 0);
            }
        }
    }

    @Test
    void snapshotOfAnotherCacheIsRejected() {
        try (Engine a = Engine.open(MODEL.weights(), EngineOptions.defaults(64)); Engine b = Engine.open(MODEL.weights(), EngineOptions.defaults(64))) {
            a.prefill(new int[] {1, 2, 3});
            try (KvSnapshot snap = a.snapshot()) {
                assertThrows(IllegalArgumentException.class, () -> b.restore(snap));
            }
        }
    }

    private static List<float[]> steps(Engine e) {
        List<float[]> out = new ArrayList<>();
        try (Decoder d = e.decoder(new FullAttention(), null)) {
            for (int s = 0; s < STEPS; s++) {
                out.add(d.step(TOKENS[PROMPT + s]));
            }
            assertEquals(STEPS, d.timings().steps());
            assertEquals(STEPS, d.fullSteps());
            assertEquals(PROMPT + (STEPS + 1) / 2.0, d.meanAttendedRows(), 1e-9);
            assertTrue(d.timings().tokensPerSecond() > 0);
        }
        assertNotNull(out.get(0));
        return out;
    }

    /** A plan kind that asks for nothing reads nothing back, and one asked to read says which kind cannot. */
    @Test
    void aPlanKindReadsNothingBackUnlessItSaysSo() {
        record RowsOnly(int k) implements AttentionPlan {
            @Override
            public int rows(int position) {
                return k;
            }

            @Override
            public Object shape(int position) {
                return k;
            }

            @Override
            public AttendedRows attend(PlanGraph g) {
                throw new AssertionError("not built here");
            }
        }
        AttentionPlan plan = new RowsOnly(4);
        assertTrue(!plan.probabilities() && !plan.query());
        var noProbabilities = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                plan::withProbabilities);
        assertTrue(noProbabilities.getMessage().contains("RowsOnly"), noProbabilities.getMessage());
        assertThrows(UnsupportedOperationException.class, plan::withQuery);
    }

    private static <T extends Throwable> void assertThrows(Class<T> type, org.junit.jupiter.api.function.Executable x) {
        org.junit.jupiter.api.Assertions.assertThrows(type, x);
    }
}
