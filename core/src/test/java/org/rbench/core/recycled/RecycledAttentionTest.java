package org.rbench.core.recycled;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Decide;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.GatheredReads;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecycledAttentionTest {
    private static final int PROMPT = 40;
    private static final int STEPS = 12;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    private static EngineOptions exact() {
        return EngineOptions.defaults(128).withCacheType(GgmlType.F32).withFlashAttention(false).withKvPadding(1);
    }

    private record Run(List<float[]> logits, AttentionPolicy policy) {
    }

    private static Run decode(Engine engine, Supplier<AttentionPolicy> make) {
        engine.reset();
        AttentionPolicy policy = make.get();
        PrefillResult p = engine.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
        List<float[]> out = new ArrayList<>();
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            for (int s = 0; s < STEPS; s++) {
                out.add(d.step(TOKENS[PROMPT + s]));
            }
        }
        return new Run(out, policy);
    }

    private static AttentionPolicy recycled(String spec) {
        return Strategies.create(spec, MODEL.weights().hyperParameters(), PROMPT);
    }

    private static double maxDiff(List<float[]> a, List<float[]> b) {
        double m = 0;
        for (int s = 0; s < a.size(); s++) {
            for (int j = 0; j < a.get(s).length; j++) {
                m = Math.max(m, Math.abs(a.get(s)[j] - b.get(s)[j]));
            }
        }
        return m;
    }

    /** A decode's logits and Cp's rows (every layer's KV heads, after every {@code inspectEvery}-th step). */
    private record CpRun(List<int[]> cp, List<float[]> logits) {
    }

    /** Decodes STEPS tokens after the prompt with {@code policy} (closed after), on an engine of {@code options}. */
    private static CpRun decodeCp(RecycledAttention policy, EngineOptions options, int inspectEvery) {
        int layers = MODEL.weights().hyperParameters().layers();
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        List<int[]> rows = new ArrayList<>();
        List<float[]> out = new ArrayList<>();
        try (Engine e = Engine.open(MODEL.weights(), options)) {
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = e.decoder(policy, p.statistics())) {
                for (int s = 0; s < STEPS; s++) {
                    out.add(d.step(TOKENS[PROMPT + s]));
                    if ((s + 1) % inspectEvery != 0) {
                        continue;
                    }
                    for (int l = 0; l < layers; l++) {
                        for (int h = 0; h < kvHeads; h++) {
                            int[] cp = policy.cpRows(l, h);
                            int newest = PROMPT + s;
                            // never a row past the step's token: the padding its mask hides
                            assertTrue(Arrays.stream(cp).allMatch(r -> r >= 0 && r <= newest), "layer " + l + " head " + h
                                    + " after step " + s + " holds rows past position " + newest + ": " + Arrays.toString(cp));
                            rows.add(cp);
                        }
                    }
                }
            }
        } finally {
            policy.close();
        }
        return new CpRun(rows, out);
    }

    private static void assertSameCpAndLogits(CpRun expected, CpRun actual, String what) {
        for (int i = 0; i < expected.cp().size(); i++) {
            assertArrayEquals(expected.cp().get(i), actual.cp().get(i), what + ": Cp rows " + i);
        }
        for (int s = 0; s < STEPS; s++) {
            assertArrayEquals(expected.logits().get(s), actual.logits().get(s), what + ": logits of step " + s);
        }
    }

    /**
     * A refresh kept on the device (ties ordered there, Cp's rows copied in the step graph) gives
     * the Cp and the logits of one whose selection crosses to the host, bit for bit: fixed and
     * dynamic schedules, v1 and v2, a window reaching forward, a budget covering the context
     * (slots in position order), one covering the prompt and not the steps (slots in position order, then
     * evictions of the lowest-scored before the next refresh) and one that does not.
     */
    @Test
    void deviceRefreshGivesTheHostRefreshsCpAndLogits() {
        // Cp's positions after every step, and after every other step only: then recycled steps
        // have evicted entries before the first read of a device refresh's positions
        for (int every : new int[] {1, 2}) {
            deviceRefreshGivesTheHostRefreshsCpAndLogits(every, exact());
        }
        // an F16 cache read by flash attention, as on a GPU: the device copies Cp's rows as bytes
        deviceRefreshGivesTheHostRefreshsCpAndLogits(1,
                EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true).withKvPadding(1));
        // the probabilities from flash attention's logits, as the suite's CUDA build takes them: one batch of
        // every layer's, normalised and aggregated once (written here by a second product where the kernel would)
        deviceRefreshGivesTheHostRefreshsCpAndLogits(1, EngineOptions.defaults(128).withCacheType(GgmlType.F16)
                .withFlashAttention(true).withFlashScores(EngineOptions.FlashScores.EMULATED));
        // the same with rows padded to 16: the steps' key rows then outrun one padding block, and only the last
        // block of the pooled scores takes the causal mask (PlanGraph#causalMaskTail)
        deviceRefreshGivesTheHostRefreshsCpAndLogits(1, EngineOptions.defaults(128).withCacheType(GgmlType.F16)
                .withFlashAttention(true).withFlashScores(EngineOptions.FlashScores.EMULATED).withKvPadding(16));
    }

    private void deviceRefreshGivesTheHostRefreshsCpAndLogits(int inspectEvery, EngineOptions options) {
        int layers = MODEL.weights().hyperParameters().layers();
        for (String spec : List.of("recycled:k=8,s=3", "recycled:k=8,s=3,version=v1", "recycled:k=12,s=4,reach=9",
                "recycled:k=64,s=5", "recycled:k=44,s=10", "recycled-dynamic:k=8,qc=2,threshold=0.99",
                "recycled:k=1,s=2,pool=1")) {
            MethodSpec parsed = MethodSpec.parse(spec);
            RecycledAttention.Factory factory = spec.startsWith("recycled-dynamic")
                    ? new RecycledAttention.DynamicFactory() : new RecycledAttention.Factory();
            List<CpRun> runs = new ArrayList<>();
            List<RecycledAttention> policies = new ArrayList<>();
            for (boolean onDevice : new boolean[] {true, false}) {
                RecycledAttention policy = new RecycledAttention(factory.config(parsed, PROMPT, layers)
                        .withStart(onDevice ? Decide.DEVICE : Decide.HOST), spec, onDevice);
                policies.add(policy);
                runs.add(decodeCp(policy, options, inspectEvery));
            }
            // the start refreshes every layer; more than that is a step's refresh on the device
            assertTrue(policies.get(0).deviceRefreshes() > layers, spec + ": no step's refresh stayed on the device");
            assertEquals(0, policies.get(1).deviceRefreshes(), spec);
            assertSameCpAndLogits(runs.get(1), runs.get(0), spec);
        }
    }

    /**
     * Cp read where the full cache holds its rows (its positions kept, the rows gathered at every recycled
     * step, the new token written to the full cache alone) gives the Cp and the logits of Cp's copies, bit for
     * bit: refreshes on the device and on the host, v2 (evictions) and v1 (growth), a window reaching forward,
     * a budget covering the context (slots in position order), the dynamic schedule's host checks; an F32
     * cache, and an F16 cache read by flash attention with rows padded as a GPU pads them. Copies by default.
     */
    @Test
    void inPlaceCpGivesTheCopiesCpAndLogits() {
        int layers = MODEL.weights().hyperParameters().layers();
        List<EngineOptions> engines = List.of(exact(),
                EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true).withKvPadding(1),
                EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true)
                        .withFlashScores(EngineOptions.FlashScores.EMULATED).withKvPadding(16));
        for (EngineOptions options : engines) {
            // the dynamic schedule at thresholds this model's query similarities straddle: steps built layer by layer
            // read Cp in place from a graph of one layer, and one step's layers mix refreshes and in-place reads
            for (String spec : List.of("recycled:k=8,s=3", "recycled:k=8,s=3,version=v1", "recycled:k=12,s=4,reach=9",
                    "recycled:k=64,s=5", "recycled-dynamic:k=8,qc=2,threshold=0.99,decide=host", "recycled:k=1,s=2,pool=1",
                    "recycled-dynamic:k=2,qc=2,threshold=0.1,decide=host", "recycled-dynamic:k=3,qc=2,threshold=0.13,decide=host")) {
                RecycledAttention.Factory factory = spec.startsWith("recycled-dynamic")
                        ? new RecycledAttention.DynamicFactory() : new RecycledAttention.Factory();
                for (boolean onDevice : new boolean[] {true, false}) {
                    CpRun[] runs = new CpRun[2];
                    for (int i = 0; i < 2; i++) {
                        String layout = i == 0 ? ",cp=copy" : ",cp=inplace";
                        RecycledAttention policy = new RecycledAttention(factory.config(MethodSpec.parse(spec + layout), PROMPT,
                                layers).withStart(onDevice ? Decide.DEVICE : Decide.HOST), spec + layout, onDevice);
                        runs[i] = decodeCp(policy, options, 1);
                        assertEquals(i == 1, policy.cpInPlace(), spec + layout);
                    }
                    assertSameCpAndLogits(runs[0], runs[1], spec + " in place, refreshed on the " + (onDevice ? "device" : "host"));
                }
            }
        }
        RecycledAttention plain = (RecycledAttention) recycled("recycled:k=8,s=3");
        decodeCp(plain, exact(), STEPS);
        assertTrue(!plain.cpInPlace(), "Cp copies its rows unless cp=inplace");
    }

    /**
     * cp=inplace's recycled steps read Cp as gathers of the full cache in the shape the suite's CUDA build reads
     * in place ({@link GatheredReads}: the gathers read by flash attention alone, the positions a tensor of their
     * own); Cp's copies are read as they lie, with no gather.
     */
    @Test
    void inPlaceCpIsReadInTheShapeTheCudaBuildReadsInPlace() {
        int layers = MODEL.weights().hyperParameters().layers();
        EngineOptions options = EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true).withKvPadding(1);
        for (String layout : List.of("copy", "inplace")) {
            GatheredReads.Count[] seen = {new GatheredReads.Count(0, 0)};
            String spec = "recycled:k=8,s=3,cp=" + layout;
            RecycledAttention policy = new RecycledAttention(new RecycledAttention.Factory().config(MethodSpec.parse(spec), PROMPT,
                    layers), spec, true);
            try (Engine e = Engine.open(MODEL.weights(), options)) {
                e.observeStepGraphs(g -> seen[0] = seen[0].plus(GatheredReads.count(g)));
                PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
                try (Decoder d = e.decoder(policy, p.statistics())) {
                    for (int s = 0; s < STEPS; s++) {
                        d.step(TOKENS[PROMPT + s]);
                    }
                }
            } finally {
                policy.close();
            }
            if (layout.equals("copy")) {
                assertEquals(0, seen[0].gathered(), spec);
            } else {
                assertTrue(seen[0].inPlace() > 0, spec + ": no recycled step read Cp in place");
                assertEquals(seen[0].gathered(), seen[0].inPlace(), spec);
            }
        }
    }

    /**
     * cp=inplace keeps every layer's slot positions in one tensor: a refresh on the device writes them with one
     * copy (a copy a layer is 32 kernels at Llama-3.1-8B's shape).
     */
    @Test
    void anInPlaceRefreshWritesEveryLayersPositionsWithOneCopy() {
        int layers = MODEL.weights().hyperParameters().layers();
        String spec = "recycled:k=8,s=3,cp=inplace";
        RecycledAttention policy = new RecycledAttention(new RecycledAttention.Factory().config(MethodSpec.parse(spec), PROMPT,
                layers).withStart(Decide.DEVICE), spec, true);
        List<Integer> copiesPerRefresh = new ArrayList<>();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            e.observeStepGraphs(g -> {
                int copies = 0;
                for (int i = 0; i < g.nodeCount(); i++) {
                    org.rbench.llamacpp.Tensor node = g.node(i);
                    org.rbench.llamacpp.Tensor to = node.opName().equals("CPY") ? node.source(1) : null;
                    org.rbench.llamacpp.Tensor root = to == null || to.viewSource() == null ? to : to.viewSource();
                    if (root != null && root.name().startsWith("cp_positions")) {
                        copies++;
                    }
                }
                if (copies > 0) {
                    copiesPerRefresh.add(copies);
                }
            });
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = e.decoder(policy, p.statistics())) {
                for (int s = 0; s < 7; s++) { // two refreshes after the start's selection (a graph over the cache, unobserved)
                    d.step(TOKENS[PROMPT + s]);
                }
            }
        } finally {
            policy.close();
        }
        assertEquals(List.of(1, 1), copiesPerRefresh, "copies into the positions per refresh graph (" + layers + " layers)");
    }

    /**
     * Flash attention's logits give a refresh the Cp and the logits of the second product's
     * probabilities: every layer's written into one batch and normalised, aggregated and pooled
     * once ({@link EngineOptions.FlashScores#EMULATED}: the kernel's graph path, the logits written
     * by a second product on the CPU) against each layer's own softmax of its own product.
     */
    @Test
    void flashAttentionsLogitsGiveTheSecondProductsCp() {
        EngineOptions f16 = EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true);
        try (Engine e = Engine.open(MODEL.weights(), f16.withFlashScores(EngineOptions.FlashScores.EMULATED))) {
            assertTrue(e.probabilitiesFromFlashAttention(), "emulated scores on the CPU");
        }
        for (String spec : List.of("recycled:k=8,s=3", "recycled:k=12,s=4,reach=9", "recycled-dynamic:k=8,qc=2,threshold=0.99")) {
            CpRun fromLogits = decodeCp((RecycledAttention) recycled(spec), f16.withFlashScores(EngineOptions.FlashScores.EMULATED), 1);
            CpRun secondProduct = decodeCp((RecycledAttention) recycled(spec),
                    f16.withFlashScores(EngineOptions.FlashScores.SECOND_PRODUCT), 1);
            assertSameCpAndLogits(secondProduct, fromLogits, spec);
        }
    }

    /**
     * {@code start=device}: Cp's first selection stays on the device. The prefill returns the last
     * token's queries, not its attention rows (heads x context floats a layer), and every layer's
     * Cp is chosen in one graph before the first step (what it chooses:
     * {@link #deviceRefreshGivesTheHostRefreshsCpAndLogits}). {@code start=auto}, the default, asks
     * for the rows only where the prefill runs on the CPU, and there starts on the host.
     */
    @Test
    void startChoosesCpWhereTheSpecSays() {
        int layers = MODEL.weights().hyperParameters().layers();
        for (String spec : List.of("recycled:k=8,s=3,start=device", "recycled:k=8,s=3", "recycled:k=8,s=3,start=host")) {
            MethodSpec parsed = MethodSpec.parse(spec);
            RecycledAttention policy = new RecycledAttention(new RecycledAttention.Factory().config(parsed, PROMPT, layers),
                    parsed.text(), true);
            PrefillRequest request = policy.prefillRequest();
            boolean device = spec.endsWith("device");
            assertEquals(spec.endsWith("host") ? 1 : 0, request.lastRows(), spec);
            assertEquals(device || spec.endsWith("host") ? 0 : 1, request.hostLastRows(), spec);
            assertEquals(device, request.lastQuery(), spec);
            // auto asks for what host asks on the CPU and what device asks on a GPU: one prefill serves either pair
            PrefillRequest hostStart = new PrefillRequest(1, false, false);
            PrefillRequest deviceStart = new PrefillRequest(0, false, true);
            assertEquals(spec.endsWith("host") ? hostStart : deviceStart, request.on(false), spec);
            assertEquals(device ? deviceStart : hostStart, request.on(true), spec);
            try (Engine e = Engine.open(MODEL.weights(), exact())) {
                PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), request, false);
                assertEquals(device, p.statistics().lastRows(0) == null, spec + ": the CPU's prefill returns the rows unless told not to");
                try (Decoder d = e.decoder(policy, p.statistics())) {
                    assertEquals(device ? layers : 0, policy.deviceRefreshes(), spec);
                    assertEquals(8, policy.cpRows(0, 0).length);
                }
            } finally {
                policy.close();
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> Strategies.create("recycled:k=8,s=3,start=gpu", MODEL.weights().hyperParameters(), PROMPT));
    }

    /**
     * The device's start chooses the host's Cp after a prompt prefilled in two parts (the second
     * appended to the first's cache: the start reads every row, not only the second part's) and
     * with reads padded to 256 rows, as an engine runs by default.
     */
    @Test
    void startAfterAnAppendedPrefillChoosesTheHostsCp() {
        int layers = MODEL.weights().hyperParameters().layers();
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        EngineOptions padded = EngineOptions.defaults(128).withCacheType(GgmlType.F32).withFlashAttention(false);
        for (String spec : List.of("recycled:k=8,s=3", "recycled:k=12,s=4,reach=9", "recycled:k=64,s=5")) {
            MethodSpec parsed = MethodSpec.parse(spec);
            List<int[]> cp = new ArrayList<>();
            for (boolean onDevice : new boolean[] {true, false}) {
                RecycledAttention policy = new RecycledAttention(new RecycledAttention.Factory().config(parsed, PROMPT, layers)
                        .withStart(onDevice ? Decide.DEVICE : Decide.HOST), spec, onDevice);
                try (Engine e = Engine.open(MODEL.weights(), padded)) {
                    e.prefill(Arrays.copyOf(TOKENS, 25), PrefillRequest.NONE, false);
                    PrefillResult p = e.prefill(Arrays.copyOfRange(TOKENS, 25, PROMPT), policy.prefillRequest(), false);
                    assertEquals(25, p.statistics().promptStart());
                    try (Decoder d = e.decoder(policy, p.statistics())) {
                        for (int l = 0; l < layers; l++) {
                            for (int h = 0; h < kvHeads; h++) {
                                int[] rows = policy.cpRows(l, h);
                                if (onDevice) {
                                    cp.add(rows);
                                } else {
                                    assertArrayEquals(cp.get(l * kvHeads + h), rows, spec + ": layer " + l + " KV head " + h);
                                }
                            }
                        }
                    }
                } finally {
                    policy.close();
                }
            }
            assertEquals(Math.min(PROMPT, parsed.positiveInt("k", 0)), cp.get(0).length, spec);
        }
    }

    /**
     * The step timings say which steps attended the whole cache in how many layers, so a
     * refresh step's time can be told from a recycled step's: with S=4 the decode steps 3, 7
     * and 11 (steps 4, 8 and 12 counted from the prefill's token) are refreshes in every layer.
     */
    @Test
    void stepTimingsCountTheLayersThatAttendedTheWholeCache() {
        int layers = MODEL.weights().hyperParameters().layers();
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            AttentionPolicy policy = recycled("recycled:k=8,s=4");
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = e.decoder(policy, p.statistics())) {
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                int[] whole = d.timings().wholeCacheLayers();
                int[] expected = IntStream.range(0, STEPS).map(s -> (s + 1) % 4 == 0 ? layers : 0).toArray();
                assertArrayEquals(expected, whole);
            }
            policy.close();
        }
    }

    @Test
    void budgetAtLeastTheContextEqualsFullAttention() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> full = decode(e, FullAttention::new).logits();
            for (String spec : List.of("recycled:k=64,s=5", "recycled:k=64,s=4,version=v1", "recycled-dynamic:k=64,qc=2,threshold=0.5",
                    "recycled:k=64,s=5,reach=16", "recycled:k=64,s=5,pool=1,reach=60")) {
                Run r = decode(e, () -> recycled(spec));
                assertTrue(maxDiff(full, r.logits()) < 1e-4, spec + ": max logit difference " + maxDiff(full, r.logits()));
                r.policy().close();
            }
        }
    }

    @Test
    void fixedScheduleDoesFullStepsEverySSteps() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            Run r = decode(e, () -> recycled("recycled:k=8,s=5"));
            RecycledAttention ra = (RecycledAttention) r.policy();
            int layers = MODEL.weights().hyperParameters().layers();
            // Paper steps 1..12 (engine steps 0..11): full at 5 and 10.
            assertEquals(2L * layers, ra.fullLayerSteps());
            assertEquals((long) (STEPS - 2) * layers, ra.recycledLayerSteps());
            // After the full step at paper step 10 (position 49) and recycled steps 11, 12: K=8 rows per head.
            assertEquals(8, ra.cpRows(0, 0).length);
            int[] rows = ra.cpRows(0, 0);
            assertTrue(Arrays.stream(rows).anyMatch(p -> p == PROMPT + STEPS - 1), "the newest token is attended");
            ra.close();
        }
    }

    @Test
    void smallBudgetChangesTheResultButStaysFinite() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            List<float[]> full = decode(e, FullAttention::new).logits();
            Run r = decode(e, () -> recycled("recycled:k=4,s=50"));
            assertTrue(maxDiff(full, r.logits()) > 1e-3, "attending 4 of ~50 rows must change the logits");
            for (float[] l : r.logits()) {
                for (float x : l) {
                    assertTrue(Float.isFinite(x));
                }
            }
            r.policy().close();
        }
    }

    @Test
    void dynamicScheduleRecyclesWhenQueriesStaySimilar() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            Run never = decode(e, () -> recycled("recycled-dynamic:k=16,qc=3,threshold=-1"));
            assertEquals(0, ((RecycledAttention) never.policy()).fullLayerSteps(), "similarity > -1 always holds");
            never.policy().close();
            Run always = decode(e, () -> recycled("recycled-dynamic:k=16,qc=3,threshold=1"));
            int layers = MODEL.weights().hyperParameters().layers();
            assertEquals(4L * layers, ((RecycledAttention) always.policy()).fullLayerSteps(), "every check step (3,6,9,12) is full");
            always.policy().close();
        }
    }

    /**
     * The dynamic schedule's checks made in the step graph (decide=device: every layer of a check
     * step computes both reads, the device keeps one) give the logits, the Cp and the decisions of
     * checks made on the host layer by layer, bit for bit, where the layers of a check step choose
     * differently; on an F32 cache read without flash attention and on an F16 cache read with it.
     */
    @Test
    void deviceChecksGiveTheHostChecksLogitsCpAndDecisions() {
        int layers = MODEL.weights().hyperParameters().layers();
        int kvHeads = MODEL.weights().hyperParameters().kvHeads();
        boolean mixed = false;
        // the last: llama.cpp's padding of 256 rows, which a read of Cp must not carry into the spare rows
        for (EngineOptions options : List.of(exact(),
                EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true).withKvPadding(1),
                EngineOptions.defaults(128).withCacheType(GgmlType.F16).withFlashAttention(true))) {
            // a random model's queries change a lot from step to step: its layers differ around cosine 0
            for (String spec : List.of("recycled-dynamic:k=8,qc=2,threshold=0.1", "recycled-dynamic:k=8,qc=2,threshold=0",
                    "recycled-dynamic:k=8,qc=2,threshold=-0.1", "recycled-dynamic:k=12,qc=3,threshold=0.7,version=v1",
                    "recycled-dynamic:k=64,qc=2,threshold=0.9")) {
                List<float[]>[] logits = new List[2];
                List<int[]>[] cp = new List[2];
                long[][] decisions = new long[2][];
                int[][] whole = new int[2][];
                double[] recall = new double[2];
                String[] decide = {"host", "device"};
                for (int i = 0; i < 2; i++) {
                    RecycledAttention policy = (RecycledAttention) recycled(spec + ",decide=" + decide[i]);
                    logits[i] = new ArrayList<>();
                    cp[i] = new ArrayList<>();
                    try (Engine e = Engine.open(MODEL.weights(), options)) {
                        PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
                        // with diagnostics: what each layer attended is asked after the device's choice
                        try (Decoder d = e.decoder(policy, p.statistics()).withDiagnostics()) {
                            for (int s = 0; s < STEPS; s++) {
                                logits[i].add(d.step(TOKENS[PROMPT + s]));
                                for (int l = 0; l < layers; l++) {
                                    for (int h = 0; h < kvHeads; h++) {
                                        cp[i].add(policy.cpRows(l, h));
                                    }
                                }
                            }
                            whole[i] = d.timings().wholeCacheLayers();
                            recall[i] = d.meanMassRecall();
                        }
                    }
                    assertEquals(i == 1, policy.checksOnDevice(), spec + " decide=" + decide[i]);
                    decisions[i] = new long[] {policy.fullLayerSteps(), policy.recycledLayerSteps()};
                    policy.close();
                }
                String at = spec + " (" + options.cacheType() + " cache)";
                assertArrayEquals(decisions[0], decisions[1], at + ": full and recycled layer-steps");
                assertArrayEquals(whole[0], whole[1], at + ": layers that attended the whole cache, by step");
                assertEquals(recall[0], recall[1], 1e-12, at + ": attention mass recall");
                assertTrue(recall[1] > 0 && recall[1] <= 1 + 1e-6, at + ": recall " + recall[1]); // F32 sums of F16 rows
                for (int s = 0; s < STEPS; s++) {
                    assertArrayEquals(logits[0].get(s), logits[1].get(s), at + ": logits of step " + s);
                }
                for (int j = 0; j < cp[0].size(); j++) {
                    assertArrayEquals(cp[0].get(j), cp[1].get(j), at + ": Cp rows " + j);
                }
                mixed |= Arrays.stream(whole[1]).anyMatch(w -> w > 0 && w < layers);
            }
        }
        assertTrue(mixed, "no check step had layers choosing differently: the comparison would not test the blend");
    }

    /** decide=auto checks on the host on the CPU backend; decide=device in the graph; both report the bytes read. */
    @Test
    void deviceChecksReadBothCachesAndSayWhere() {
        try (Engine e = Engine.open(MODEL.weights(), exact())) {
            RecycledAttention auto = (RecycledAttention) recycled("recycled-dynamic:k=8,qc=2");
            RecycledAttention device = (RecycledAttention) recycled("recycled-dynamic:k=8,qc=2,decide=device");
            double[] extra = new double[2];
            int i = 0;
            for (RecycledAttention policy : List.of(auto, device)) {
                PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
                try (Decoder d = e.decoder(policy, p.statistics())) {
                    for (int s = 0; s < STEPS; s++) {
                        d.step(TOKENS[PROMPT + s]);
                    }
                    extra[i++] = d.meanExtraBytes();
                }
                policy.close();
                e.reset();
            }
            assertTrue(!auto.checksOnDevice() && device.checksOnDevice());
            assertEquals(0, extra[0], "host checks read only what each layer attends");
            assertTrue(extra[1] > 0, "a device check reads the whole cache and Cp whatever it keeps");
        }
        assertThrows(IllegalArgumentException.class, () -> recycled("recycled-dynamic:k=8,decide=gpu"));
    }

    @Test
    void reachSetsHowFarTheSelectionWindowReachesForward() {
        RecycledAttention.Factory f = new RecycledAttention.Factory();
        assertEquals(new TopRows(256, org.rbench.core.attention.GqaAggregation.MAX, 7, 16),
                f.config(MethodSpec.parse("recycled:k=256,s=16,reach=16"), 4000, 2).selection());
        assertEquals(new TopRows(256, org.rbench.core.attention.GqaAggregation.MAX, 7, 3),
                f.config(MethodSpec.parse("recycled:k=256,s=16"), 4000, 2).selection(), "default: symmetric");
        assertEquals(new TopRows(256, org.rbench.core.attention.GqaAggregation.FIRST, 1, 0),
                f.config(MethodSpec.parse("recycled:k=256,s=16,version=v1"), 4000, 2).selection());
        assertEquals(new TopRows(64, org.rbench.core.attention.GqaAggregation.FIRST, 1, 5),
                new RecycledAttention.DynamicFactory().config(MethodSpec.parse("recycled-dynamic:k=64,version=v1,reach=5"), 4000, 2)
                        .selection());
    }

    @Test
    void specsAreValidatedWithClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("recycled:k=10,stride=5")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("recycled:k=-1")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("recycled:pool=4")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("recycled:gqa=median")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("recycled:reach=-1")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("recycled:reach=forward")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("recycled:cp=pointers")));
        assertThrows(IllegalArgumentException.class,
                () -> Strategies.forSpec(MethodSpec.parse("recycled-dynamic:k=8,cp=inplace,decide=device")));
        assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse("nosuch")));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.parse("recycled:k"));
        assertTrue(Strategies.all().keySet().containsAll(List.of("full", "recycled", "recycled-dynamic")));
    }
}
