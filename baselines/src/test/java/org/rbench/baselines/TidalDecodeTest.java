package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.FullPlan;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.ModelSpec;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TidalDecode's semantics: which layers are full, select or reuse (and the re-selecting
 * layer's scaling with depth); the graph pieces on hand-made tensors (q.k aggregated per KV
 * head or kept per query head, the newest row always chosen and rows past it never); and on
 * the engine, every reusing layer's rows against the host's top-k of its selecting layer's
 * attention in the same step (per query head, where softmax keeps the order of q.k).
 */
class TidalDecodeTest {
    private static final int PROMPT = 60;
    private static final int STEPS = 12;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel GQA = CpuModel.of(() -> TestModels.spec("tiny-llama-5-layers",
            ModelSpec.preset("tiny-llama", GgmlType.F32).withLayers(5))); // GQA 2:1
    @RegisterExtension
    static final CpuModel MHA = CpuModel.of(() -> TestModels.spec("tiny-llama-5-layers-mha",
            ModelSpec.preset("tiny-llama", GgmlType.F32).withLayers(5).withHeads(4, 4, 64)));

    // ---- which layers select and which reuse ----

    private static TidalDecode create(String spec, int layers) {
        return (TidalDecode) Strategies.create(spec, QuestTest.withLayers(GQA.weights().hyperParameters(), layers), PROMPT);
    }

    @ParameterizedTest
    @CsvSource({"32, 13", "16, 7", "28, 11", "40, 16", "8, 3", "5, 2"})
    void theReselectingLayerScalesWithDepth(int layers, int reselect) {
        assertEquals(reselect, TidalDecode.defaultReselect(layers));
    }

    @Test
    void layersBeforeSelectAreFullThenReuseTheLastChoice() {
        TidalDecode llama = create("tidaldecode", 32);
        for (int l = 0; l < 32; l++) {
            TidalDecode.Role expected = l < 2 ? TidalDecode.Role.FULL : l == 2 || l == 13 ? TidalDecode.Role.SELECT
                    : TidalDecode.Role.REUSE;
            assertEquals(expected, llama.role(l), "layer " + l);
            if (expected == TidalDecode.Role.REUSE) {
                assertEquals(l < 13 ? 2 : 13, llama.source(l), "layer " + l);
            }
        }
        TidalDecode once = create("tidaldecode:select=1,reselect=none", 6);
        assertEquals(TidalDecode.Role.FULL, once.role(0));
        assertEquals(TidalDecode.Role.SELECT, once.role(1));
        for (int l = 2; l < 6; l++) {
            assertEquals(TidalDecode.Role.REUSE, once.role(l));
            assertEquals(1, once.source(l));
        }
        // a 5-layer model's default re-selecting layer, round(65 / 32) = 2, is the selecting one: none
        TidalDecode small = create("tidaldecode", 5);
        assertEquals(TidalDecode.Role.SELECT, small.role(2));
        assertEquals(TidalDecode.Role.REUSE, small.role(4));
        assertEquals(2, small.source(4));
    }

    @Test
    void specsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> create("tidaldecode", 2)); // select=2 of 2 layers
        assertThrows(IllegalArgumentException.class, () -> create("tidaldecode:select=2,reselect=2", 8));
        assertThrows(IllegalArgumentException.class, () -> create("tidaldecode:reselect=9", 8));
        assertThrows(IllegalArgumentException.class, () -> create("tidaldecode:k=0", 8));
        assertThrows(IllegalArgumentException.class, () -> create("tidaldecode:gqa=sum", 8));
        assertThrows(IllegalArgumentException.class, () -> create("tidaldecode:window=3", 8));
        assertEquals(TidalDecode.Role.SELECT, create("tidaldecode:reselect=5", 8).role(5));
    }

    // ---- graph pieces on hand-made tensors ----

    @ParameterizedTest
    @EnumSource(GqaChoice.class)
    void scoresAreQDotKPerQueryHeadAggregatedPerKvHead(GqaChoice gqa) {
        int dim = 2;
        int rows = 4;
        int kvHeads = 2;
        int heads = 4;
        float[] keys = new float[dim * rows * kvHeads];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (i * 5 % 7) - 3f;
        }
        float[][] q = {{1, -1}, {2, 0.5f}, {-1, 3}, {0, -2}};
        float[] flatQ = new float[dim * heads];
        float[][] qk = new float[heads][rows];
        for (int h = 0; h < heads; h++) {
            System.arraycopy(q[h], 0, flatQ, h * dim, dim);
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < dim; i++) {
                    qk[h][r] += q[h][i] * keys[((h / 2) * rows + r) * dim + i];
                }
            }
        }
        int columns = gqa == GqaChoice.QUERY ? heads : kvHeads;
        float[] expected = new float[rows * columns];
        for (int c = 0; c < columns; c++) {
            for (int r = 0; r < rows; r++) {
                expected[c * rows + r] = switch (gqa) {
                    case QUERY -> qk[c][r];
                    case MAX -> Math.max(qk[2 * c][r], qk[2 * c + 1][r]);
                    case MEAN -> (qk[2 * c][r] + qk[2 * c + 1][r]) / 2;
                };
            }
        }
        try (CpuGraph g = new CpuGraph(GQA.backend())) {
            Tensor k = g.floats(keys, dim, rows, kvHeads);
            Tensor query = g.floats(flatQ, dim, heads, 1);
            float[] out = g.compute(ctx -> new Tensor[] {TidalDecode.scores(ctx, k, query, gqa)})[0];
            assertArrayEquals(expected, out, 1e-6f);
        }
    }

    @Test
    void theNewestRowIsAlwaysChosenAndRowsPastItNever() {
        int rows = 6;
        int position = 3;
        // column 0: the newest row scores lowest, rows 4 and 5 (padding) highest; column 1 the same shape
        float[] scores = {1, 5, 2, -9, 50, 60, /* column 1 */ 7, 3, 8, -1, 90, 90};
        float[] causal = new float[rows];
        Arrays.fill(causal, position + 1, rows, Float.NEGATIVE_INFINITY);
        try (CpuGraph g = new CpuGraph(GQA.backend())) {
            Tensor s = g.floats(scores, rows, 2);
            Tensor mask = g.floats(causal, rows, 1);
            Tensor newest = g.ints(new int[] {position}, 1);
            Tensor boost = g.floats(new float[] {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY}, 1, 1, 2);
            float[] out = g.compute(ctx -> new Tensor[] {TidalDecode.top(ctx, s, mask, newest, boost, 2)})[0];
            assertEquals(Set.of(3, 1), Set.of((int) out[0], (int) out[1]));
            assertEquals(Set.of(3, 2), Set.of((int) out[2], (int) out[3]));
        }
    }

    // ---- on the engine ----

    /** Reads the selecting layers' attention back and checks every reusing layer's rows after each step. */
    private static final class Probe implements AttentionPolicy {
        final TidalDecode tidal;
        final HyperParameters hp;
        final GqaChoice gqa;
        final int k;
        final boolean hostComparable;
        final AttentionPlan[] plans;
        final AttentionProbabilities[] probabilities;
        /** Every reusing layer's rows per KV head, step after step, as the plans report them. */
        final List<int[]> attended = new java.util.ArrayList<>();
        int checked;

        Probe(TidalDecode tidal, HyperParameters hp, GqaChoice gqa, int k) {
            this.tidal = tidal;
            this.hp = hp;
            this.gqa = gqa;
            this.k = k;
            // softmax keeps q.k's order within a query head: the host can rank a head's rows by its probabilities
            this.hostComparable = gqa == GqaChoice.QUERY || hp.heads() == hp.kvHeads();
            this.plans = new AttentionPlan[hp.layers()];
            this.probabilities = new AttentionProbabilities[hp.layers()];
        }

        @Override
        public String name() {
            return "probe:" + tidal.name();
        }

        @Override
        public void start(AttentionContext context, PrefillStatistics prefill) {
            tidal.start(context, prefill);
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            AttentionPlan p = tidal.plan(at);
            plans[at.layer()] = p;
            switch (tidal.role(at.layer())) {
                case FULL -> assertInstanceOf(FullPlan.class, p);
                case SELECT -> assertInstanceOf(TidalDecode.Select.class, p);
                case REUSE -> {
                    TidalDecode.Reuse r = assertInstanceOf(TidalDecode.Reuse.class, p);
                    assertEquals(tidal.source(at.layer()), r.source());
                }
            }
            return p instanceof TidalDecode.Select ? p.withProbabilities() : p;
        }

        @Override
        public void observe(LayerObservation o) {
            probabilities[o.layer()] = o.probabilities();
        }

        @Override
        public void endStep(int step, int position, int token) {
            for (int l = 0; l < hp.layers(); l++) {
                if (plans[l] instanceof TidalDecode.Reuse r) {
                    check(r, position);
                }
            }
            tidal.endStep(step, position, token);
        }

        private void check(TidalDecode.Reuse plan, int position) {
            int group = hp.heads() / hp.kvHeads();
            int[][] chosen = tidal.rows().chosen(plan.source());
            assertEquals(gqa == GqaChoice.QUERY ? hp.heads() : hp.kvHeads(), chosen.length);
            for (int c = 0; c < chosen.length; c++) {
                Set<Integer> rows = new HashSet<>();
                for (int r : chosen[c]) {
                    assertTrue(r >= 0 && r <= position, "row " + r + " is cached");
                    assertTrue(rows.add(r), "row " + r + " chosen twice");
                }
                assertEquals(k, rows.size());
                assertTrue(rows.contains(position), "the newest row is attended");
                if (hostComparable) {
                    float[] p = probabilities[plan.source()].row(c, 0); // query head c (= KV head c without GQA)
                    double worstChosen = rows.stream().filter(r -> r != position).mapToDouble(r -> p[r]).min().orElseThrow();
                    double bestLeft = IntStream.range(0, position).filter(r -> !rows.contains(r)).mapToDouble(r -> p[r])
                            .max().orElseThrow();
                    assertTrue(worstChosen >= bestLeft * (1 - 1e-4), "layer " + plan.layer() + " position " + position
                            + " column " + c + ": chose " + rows + " (worst " + worstChosen + ") over a row of " + bestLeft);
                }
            }
            for (int h = 0; h < hp.kvHeads(); h++) {
                Set<Integer> union = new HashSet<>();
                for (int c = 0; c < chosen.length; c++) {
                    if (gqa == GqaChoice.QUERY ? c / group == h : c == h) {
                        Arrays.stream(chosen[c]).forEach(union::add);
                    }
                }
                int[] read = plan.attendedPositions(h, position);
                assertArrayEquals(union.stream().mapToInt(Integer::intValue).sorted().toArray(), read);
                attended.add(read);
            }
            assertEquals(gqa == GqaChoice.QUERY ? k * group : k, plan.rows(position));
            checked++;
        }

        @Override
        public void close() {
            tidal.close();
        }
    }

    @ParameterizedTest(name = "{0}, gqa={1}, flash attention {2}, probabilities {3}")
    @CsvSource({"mha, MAX, true, KERNEL", "mha, MEAN, false, KERNEL", "gqa, QUERY, true, KERNEL", "gqa, QUERY, false, KERNEL",
            "gqa, MAX, true, KERNEL", "gqa, MEAN, false, KERNEL", "gqa, MAX, true, EMULATED", "mha, QUERY, true, EMULATED"})
    void reusingLayersAttendTheTopRowsTheirSelectingLayerChose(String heads, GqaChoice gqa, boolean flash,
                                                               EngineOptions.FlashScores scores) {
        ModelWeights weights = heads.equals("mha") ? MHA.weights() : GQA.weights();
        int k = 12;
        // layers: 0 full, 1 selects, 2 reuses 1, 3 selects again, 4 reuses 3
        String spec = "tidaldecode:k=" + k + ",select=1,reselect=3,gqa=" + gqa;
        Probe probe = new Probe((TidalDecode) Strategies.create(spec, weights.hyperParameters(), PROMPT),
                weights.hyperParameters(), gqa, k);
        // EMULATED: the selecting layers' probabilities from flash attention's logits, as on the suite's CUDA build
        EngineOptions options = EngineOptions.defaults(128).withFlashAttention(flash).withFlashScores(scores);
        try (Engine engine = Engine.open(weights, options)) {
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            try (Decoder d = engine.decoder(probe, null).withDiagnostics()) {
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                assertTrue(d.meanMassRecall() > 0 && d.meanMassRecall() < 1, "recall " + d.meanMassRecall());
                assertEquals(STEPS * 3L, d.fullLayerSteps(), "layers 0, 1 and 3 read everything");
            }
        }
        assertEquals(STEPS * 2, probe.checked);
    }

    /**
     * Where flash attention writes its logits (EMULATED here, as the suite's CUDA build), the selecting
     * layers rank rows by those instead of a second product over every key: the same rows each step (the
     * logits are q.k scaled, by 1/8 at head dimension 64, and masked), and the bytes-moved bound no
     * longer counts the keys read a second time.
     */
    @ParameterizedTest(name = "{0}, gqa={1}")
    @CsvSource({"gqa, MAX", "gqa, MEAN", "gqa, QUERY", "mha, MAX"})
    void selectingLayersRankByFlashAttentionsLogitsWhereItWritesThem(String heads, GqaChoice gqa) {
        ModelWeights weights = heads.equals("mha") ? MHA.weights() : GQA.weights();
        String spec = "tidaldecode:k=12,select=1,reselect=3,gqa=" + gqa;
        double[] extra = new double[2];
        List<List<int[]>> rows = new java.util.ArrayList<>();
        int mode = 0;
        for (EngineOptions.FlashScores scores : new EngineOptions.FlashScores[] {EngineOptions.FlashScores.SECOND_PRODUCT,
                EngineOptions.FlashScores.EMULATED}) {
            Probe probe = new Probe((TidalDecode) Strategies.create(spec, weights.hyperParameters(), PROMPT),
                    weights.hyperParameters(), gqa, 12);
            try (Engine engine = Engine.open(weights, EngineOptions.defaults(128).withFlashScores(scores))) {
                engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
                try (Decoder d = engine.decoder(probe, null)) {
                    for (int s = 0; s < STEPS; s++) {
                        d.step(TOKENS[PROMPT + s]);
                    }
                    extra[mode] = d.meanExtraBytes();
                } finally {
                    probe.close();
                }
            }
            rows.add(probe.attended);
            mode++;
        }
        assertEquals(rows.get(0).size(), rows.get(1).size());
        assertFalse(rows.get(0).isEmpty());
        for (int i = 0; i < rows.get(0).size(); i++) {
            assertArrayEquals(rows.get(0).get(i), rows.get(1).get(i), "reusing layer read " + i);
        }
        assertTrue(extra[0] > 0, "the second product reads every key again");
        assertEquals(0, extra[1], "flash attention's logits: no key read twice");
    }

    /** A policy that plans given plans (a reference step). */
    record Fixed(AttentionPlan[] plans) implements AttentionPolicy {
        @Override
        public String name() {
            return "fixed";
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            return plans[at.layer()];
        }
    }

    /**
     * The step's logits equal those of the same step with each reusing layer's chosen rows
     * gathered as host rows: the device gathers exactly those rows (per query head through the
     * flat row list with {@code gqa=query}, which without GQA is one query head per KV head).
     */
    @ParameterizedTest
    @CsvSource({"gqa, MAX", "mha, QUERY"})
    void aReusingLayerAttendsExactlyTheChosenRows(String heads, GqaChoice gqa) {
        ModelWeights weights = heads.equals("mha") ? MHA.weights() : GQA.weights();
        HyperParameters hp = weights.hyperParameters();
        int k = 12;
        TidalDecode tidal = (TidalDecode) Strategies.create("tidaldecode:k=" + k + ",select=1,reselect=3,gqa=" + gqa, hp,
                PROMPT);
        EngineOptions options = EngineOptions.defaults(128).withCacheType(GgmlType.F32).withFlashAttention(false);
        try (Engine engine = Engine.open(weights, options)) {
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            try (Decoder d = engine.decoder(tidal, null)) {
                for (int s = 0; s < STEPS - 1; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                int token = TOKENS[PROMPT + STEPS - 1];
                try (org.rbench.core.engine.KvSnapshot before = engine.snapshot()) {
                    float[] logits = d.step(token);
                    // the same step with each reusing layer's rows gathered as host rows
                    AttentionPlan[] plans = new AttentionPlan[hp.layers()];
                    for (int l = 0; l < hp.layers(); l++) {
                        if (tidal.role(l) == TidalDecode.Role.REUSE) {
                            int[][] chosen = tidal.rows().chosen(tidal.source(l));
                            int[] rows = new int[k * hp.kvHeads()];
                            for (int h = 0; h < hp.kvHeads(); h++) {
                                int[] sorted = chosen[h].clone();
                                Arrays.sort(sorted);
                                System.arraycopy(sorted, 0, rows, h * k, k);
                            }
                            plans[l] = AttentionPlan.gather(k, rows);
                        } else {
                            plans[l] = AttentionPlan.full();
                        }
                    }
                    engine.restore(before);
                    try (Decoder reference = engine.decoder(new Fixed(plans), null)) {
                        float[] expected = reference.step(token);
                        for (int i = 0; i < expected.length; i++) {
                            assertEquals(expected[i], logits[i], 1e-4f, "logit " + i);
                        }
                    }
                }
            }
        }
    }

    /**
     * A reusing layer gathers with the selecting layer's indices from the same graph: a step built
     * layer by layer (the engine's mode for policies that want queries before planning, which
     * TidalDecode never asks for) has no such graph, and the plan refuses it in Java.
     */
    @Test
    void aStepBuiltLayerByLayerIsRefused() {
        TidalDecode tidal = (TidalDecode) Strategies.create("tidaldecode:k=8,select=1,reselect=none",
                GQA.weights().hyperParameters(), PROMPT);
        AttentionPolicy layered = new AttentionPolicy() {
            @Override
            public String name() {
                return "layer-by-layer " + tidal.name();
            }

            @Override
            public void start(AttentionContext context, PrefillStatistics prefill) {
                tidal.start(context, prefill);
            }

            @Override
            public boolean needsQueryBeforePlanning(int step) {
                return true;
            }

            @Override
            public AttentionPlan plan(LayerStep at) {
                return tidal.plan(at);
            }

            @Override
            public void close() {
                tidal.close();
            }
        };
        try (Engine engine = Engine.open(GQA.weights(), EngineOptions.defaults(128))) {
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            try (Decoder d = engine.decoder(layered, null)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.step(TOKENS[PROMPT]));
                assertTrue(e.getMessage().contains("built whole"), e.getMessage());
            }
        }
    }
}
