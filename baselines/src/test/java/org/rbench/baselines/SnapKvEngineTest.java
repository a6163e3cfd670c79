package org.rbench.baselines;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.parity.Parity;
import org.rbench.core.parity.ParityReport;
import org.rbench.core.parity.ParityRequest;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;
import org.rbench.llamacpp.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SnapKV and PyramidKV on the engine (tiny-llama: 2 layers, 4 query heads on 2 KV heads). A
 * covering budget is full attention bit for bit; a small one attends exactly the rows this test
 * selects on its own from the prefill's window rows: each step's logits equal those of a
 * reference policy that gathers just those rows from the full cache (per KV head with
 * {@code gather}, per query head with a flat-index gather of its own), and the policy reports
 * those positions.
 */
class SnapKvEngineTest {
    private static final int PROMPT = 200;

    @TempDir
    static Path dir;

    @BeforeAll
    static void init() {
        LlamaCpp.initialise();
    }

    private static Path model(GgmlType type) throws Exception {
        Path file = dir.resolve("tiny-llama-" + type + ".gguf");
        if (!Files.exists(file)) {
            RandomModelWriter.write(ModelSpec.preset("tiny-llama", type), file);
        }
        return file;
    }

    static Stream<Arguments> covering() {
        List<Arguments> out = new ArrayList<>();
        for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0}) {
            for (String m : new String[] {"snapkv:k=100000", "pyramidkv:k=100000", "snapkv:k=100000,gqa=query",
                    "snapkv:k=200", "pyramidkv:k=200,gqa=mean"}) {
                out.add(Arguments.of(t, m));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} weights: {1}")
    @MethodSource("covering")
    void coveringBudgetIsFullAttentionExactly(GgmlType type, String method) throws Exception {
        ParityReport r = Parity.run(ParityRequest.exact(model(type)).withTokens(PROMPT, 24), method);
        assertEquals(0.0, r.maxAbsDiff(), method + ": " + r.summary());
        assertArrayEquals(r.referenceTokens(), r.engineTokens(), "greedy continuations differ");
    }

    static Stream<Arguments> small() {
        return Stream.of(
                Arguments.of("snapkv:k=64", new int[] {32, 32}, GqaChoice.MAX, 7),
                Arguments.of("snapkv:k=64,gqa=mean,pool=3", new int[] {32, 32}, GqaChoice.MEAN, 3),
                Arguments.of("snapkv:k=64,gqa=query", new int[] {32, 32}, GqaChoice.QUERY, 7),
                Arguments.of("snapkv:k=48,window=8,pool=1", new int[] {40, 40}, GqaChoice.MAX, 1),
                Arguments.of("pyramidkv:k=64", new int[] {63, 1}, GqaChoice.MAX, 7),
                Arguments.of("pyramidkv:k=64,gqa=query", new int[] {63, 1}, GqaChoice.QUERY, 7));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("small")
    void smallBudgetAttendsExactlyTheSelectedRows(String spec, int[] voted, GqaChoice gqa, int pool) throws Exception {
        int window = spec.contains("window=8") ? 8 : 32;
        decodeAgainstReference(model(GgmlType.F32), false, 20, voted, window, pool, gqa,
                hp -> Strategies.create(spec, hp, PROMPT), 0.0);
    }

    static Stream<Arguments> growth() {
        return Stream.of(Arguments.of(GqaChoice.MAX), Arguments.of(GqaChoice.QUERY));
    }

    /** Room for 8 decoded rows: the 64 kept rows' cache of 256 rows is outgrown at step 192, and refilled. */
    @ParameterizedTest(name = "gqa={0}")
    @MethodSource("growth")
    void aCompactCacheOutgrownByTheDecodeIsRefilledFromTheFullCache(GqaChoice gqa) throws Exception {
        decodeAgainstReference(model(GgmlType.F32), false, 200, new int[] {32, 32}, 32, 7, gqa,
                hp -> new SnapKv(64, 32, 7, gqa, SnapKv.uniform(64), 8, "snapkv:k=64,grow=8"), 0.0);
    }

    static Stream<Arguments> flash() {
        return Stream.of(Arguments.of("snapkv:k=64"), Arguments.of("snapkv:k=64,gqa=query"), Arguments.of("pyramidkv:k=64"));
    }

    /** F16 cache with flash attention (the F16 mask, the F16 compact view) against the gathered rows, which come back F32. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("flash")
    void flashAttentionReadsTheSameRows(String spec) throws Exception {
        int[] voted = spec.startsWith("pyramidkv") ? new int[] {63, 1} : new int[] {32, 32};
        GqaChoice gqa = spec.contains("query") ? GqaChoice.QUERY : GqaChoice.MAX;
        decodeAgainstReference(model(GgmlType.F32), true, 12, voted, 32, 7, gqa, hp -> Strategies.create(spec, hp, PROMPT),
                1e-2);
    }

    private void decodeAgainstReference(Path file, boolean flash, int steps, int[] voted, int window, int pool,
                                        GqaChoice gqa, java.util.function.Function<HyperParameters, AttentionPolicy> make,
                                        double tolerance) throws Exception {
        int[] tokens = new SplittableRandom(7).ints(PROMPT + steps, 0, 512).toArray();
        EngineOptions options = EngineOptions.defaults(PROMPT + steps + 1)
                .withCacheType(flash ? GgmlType.F16 : GgmlType.F32).withFlashAttention(flash).withMicroBatch(64);
        try (Backend backend = Backends.open("cpu", 1);
             ModelWeights weights = ModelWeights.load(file, backend);
             Engine engine = Engine.open(weights, options);
             Engine reference = Engine.open(weights, options)) {
            HyperParameters hp = weights.hyperParameters();
            SnapKv policy = (SnapKv) make.apply(hp);
            PrefillResult p = engine.prefill(Arrays.copyOf(tokens, PROMPT), policy.prefillRequest(), false);
            int[][][] expected = expectedKept(p.statistics(), hp, window, voted, pool, gqa);
            reference.prefill(Arrays.copyOf(tokens, PROMPT));
            ReferencePolicy gathered = new ReferencePolicy(expected, gqa == GqaChoice.QUERY, PROMPT, hp);
            double worst = 0;
            try (Decoder mine = engine.decoder(policy, p.statistics());
                 Decoder theirs = reference.decoder(gathered, PrefillStatistics.none(0, PROMPT))) {
                boolean diagnose = !flash && steps <= 20;
                if (diagnose) {
                    mine.withDiagnostics(); // attention-mass recall over the positions the policy reports
                }
                for (int l = 0; l < hp.layers(); l++) {
                    for (int s = 0; s < expected[l].length; s++) {
                        assertArrayEquals(expected[l][s], policy.keptPrompt(l, s), "layer " + l + " store " + s);
                    }
                }
                for (int s = 0; s < steps; s++) {
                    int position = PROMPT + s;
                    float[] a = mine.step(tokens[position]);
                    float[] b = theirs.step(tokens[position]);
                    double max = 0;
                    for (int i = 0; i < a.length; i++) {
                        max = Math.max(max, Math.abs(a[i] - b[i]));
                    }
                    worst = Math.max(worst, max);
                    assertTrue(max <= tolerance, "step " + s + ": max logit difference " + max);
                    for (int l = 0; l < hp.layers(); l++) {
                        for (int kv = 0; kv < hp.kvHeads(); kv++) {
                            assertArrayEquals(gathered.kvHeadPositions(l, kv, position), policy.compactPositions(l, kv),
                                    "layer " + l + " KV head " + kv + " at step " + s);
                        }
                    }
                }
                if (diagnose) {
                    double recall = mine.meanMassRecall();
                    assertTrue(recall > 0 && recall < 1, "mass recall " + recall);
                }
                // One graph per 256-row block of the growing read (and per compact cache): not one per step.
                assertTrue(mine.graphsBuilt() <= 4, mine.graphsBuilt() + " graphs built for " + steps + " steps");
            }
            System.out.println("max logit difference over " + steps + " steps: " + worst);
        }
    }

    /**
     * This test's own SnapKV selection: votes of the last {@code window} queries on the keys
     * before the window, the GQA group aggregated (or not), max-pooled by brute force, ranked by
     * (score descending, position ascending), the window appended.
     */
    private static int[][][] expectedKept(PrefillStatistics stats, HyperParameters hp, int window, int[] voted, int pool,
                                          GqaChoice gqa) {
        int n = stats.promptEnd();
        int before = n - window;
        int heads = hp.heads();
        int group = heads / hp.kvHeads();
        int[][][] out = new int[hp.layers()][][];
        for (int l = 0; l < hp.layers(); l++) {
            assertTrue(voted[l] < before, "the test expects a selection in every layer");
            // the window's votes as the prefill summed them on the device (PrefillStatisticsTest holds
            // them to the host's sums of the window's rows)
            float[] sums = stats.windowSums(l);
            assertEquals(window, stats.window());
            float[][] votes = new float[heads][before];
            for (int h = 0; h < heads; h++) {
                for (int j = 0; j < before; j++) {
                    votes[h][j] = sums[h * n + j];
                }
            }
            int stores = gqa == GqaChoice.QUERY ? heads : hp.kvHeads();
            out[l] = new int[stores][];
            for (int s = 0; s < stores; s++) {
                float[] score = new float[before];
                if (gqa == GqaChoice.QUERY) {
                    score = votes[s].clone();
                } else {
                    for (int j = 0; j < before; j++) {
                        float acc = votes[s * group][j];
                        for (int h = s * group + 1; h < (s + 1) * group; h++) {
                            acc = gqa == GqaChoice.MAX ? Math.max(acc, votes[h][j]) : acc + votes[h][j];
                        }
                        score[j] = gqa == GqaChoice.MEAN ? acc / group : acc;
                    }
                }
                float[] pooled = new float[before];
                for (int j = 0; j < before; j++) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int i = Math.max(0, j - pool / 2); i <= Math.min(before - 1, j + pool / 2); i++) {
                        m = Math.max(m, score[i]);
                    }
                    pooled[j] = m;
                }
                Integer[] order = new Integer[before];
                Arrays.setAll(order, i -> i);
                Arrays.sort(order, (x, y) -> pooled[x] != pooled[y] ? Float.compare(pooled[y], pooled[x]) : Integer.compare(x, y));
                int[] kept = new int[voted[l] + window];
                for (int i = 0; i < voted[l]; i++) {
                    kept[i] = order[i];
                }
                Arrays.sort(kept, 0, voted[l]);
                for (int i = 0; i < window; i++) {
                    kept[voted[l] + i] = before + i;
                }
                out[l][s] = kept;
            }
        }
        return out;
    }

    /** Attends, per store, the given prompt rows and every decoded token: gathered from the full cache. */
    private static final class ReferencePolicy implements AttentionPolicy {
        private final int[][][] kept;
        private final boolean perQueryHead;
        private final int promptEnd;
        private final HyperParameters hp;

        ReferencePolicy(int[][][] kept, boolean perQueryHead, int promptEnd, HyperParameters hp) {
            this.kept = kept;
            this.perQueryHead = perQueryHead;
            this.promptEnd = promptEnd;
            this.hp = hp;
        }

        @Override
        public String name() {
            return "reference-gather";
        }

        private int[] storeRows(int layer, int store, int position) {
            int[] prompt = kept[layer][store];
            int[] rows = Arrays.copyOf(prompt, prompt.length + position - promptEnd + 1);
            for (int p = promptEnd; p <= position; p++) {
                rows[prompt.length + p - promptEnd] = p;
            }
            return rows;
        }

        /** What the KV head's reads cover: its rows, or the union of its query heads' rows. */
        int[] kvHeadPositions(int layer, int kvHead, int position) {
            if (!perQueryHead) {
                return storeRows(layer, kvHead, position);
            }
            int group = hp.heads() / hp.kvHeads();
            java.util.TreeSet<Integer> union = new java.util.TreeSet<>();
            for (int j = 0; j < group; j++) {
                for (int p : storeRows(layer, kvHead * group + j, position)) {
                    union.add(p);
                }
            }
            return union.stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            int stores = kept[at.layer()].length;
            int[][] rows = new int[stores][];
            for (int s = 0; s < stores; s++) {
                rows[s] = storeRows(at.layer(), s, at.position());
            }
            if (perQueryHead) {
                return new PerQueryHeadGather(rows);
            }
            int r = rows[0].length;
            int[] flat = new int[r * stores];
            for (int s = 0; s < stores; s++) {
                System.arraycopy(rows[s], 0, flat, s * r, r);
            }
            return AttentionPlan.gather(r, flat);
        }
    }

    /**
     * Each query head attends its own rows of the full cache: the cache viewed as
     * {@code [headDim, capacity x kvHeads]} and gathered with flat indices
     * {@code kvHead x capacity + row} into {@code [headDim, rows, heads]}, padded and masked as a
     * full read of as many rows.
     */
    private record PerQueryHeadGather(int[][] rowsPerHead) implements AttentionPlan {

        @Override
        public int rows(int position) {
            return rowsPerHead[0].length;
        }

        @Override
        public Object shape(int position) {
            return List.of(rowsPerHead.length, rowsPerHead[0].length);
        }

        private int[] flat(int padded, int group, long capacity) {
            int[] out = new int[padded * rowsPerHead.length];
            for (int h = 0; h < rowsPerHead.length; h++) {
                long base = (h / group) * capacity;
                for (int i = 0; i < padded; i++) {
                    int row = i < rowsPerHead[h].length ? rowsPerHead[h][i] : 0; // padding: row 0, masked
                    out[h * padded + i] = (int) (base + row);
                }
            }
            return out;
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            var ctx = g.ctx();
            int heads = g.model().heads();
            int group = heads / g.model().kvHeads();
            int r = rowsPerHead[0].length;
            int padded = g.paddedRows(r, Integer.MAX_VALUE);
            Tensor keys = g.cacheKeys();
            Tensor values = g.cacheValues();
            long capacity = keys.ne(1);
            long all = capacity * keys.ne(2);
            Tensor index = g.input("per_query_head_rows_" + g.layer(), GgmlType.I32,
                    (Tensor t, PerQueryHeadGather current, int position) -> t.setIndices(current.flat(padded, group, capacity), all),
                    (long) padded * heads);
            Tensor k = ctx.getRows(ctx.reshape(keys, keys.ne(0), all), index);
            Tensor v = ctx.getRows(ctx.reshape(values, values.ne(0), all), index);
            return new AttendedRows(ctx.reshape(k, keys.ne(0), padded, heads), ctx.reshape(v, values.ne(0), padded, heads),
                    g.paddingMask(r, padded));
        }
    }
}
