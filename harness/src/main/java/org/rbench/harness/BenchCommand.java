package org.rbench.harness;

import org.rbench.core.ModelSession;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.OpProfiler;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.engine.StepTimings;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.reference.LlamaReference;
import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.harness.llamabench.BenchSetting;
import org.rbench.harness.llamabench.LlamaBenchFormat;
import org.rbench.harness.llamabench.LlamaBenchProgram;
import org.rbench.harness.llamabench.LlamaBenchResult;
import org.rbench.harness.llamabench.LlamaBenchTests;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.run.Method;
import org.rbench.harness.run.ModelCheck;
import org.rbench.harness.run.Provenance;
import org.rbench.harness.run.RulerRun;
import org.rbench.llamacpp.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code rbench bench}: decode ms/token per method, side by side in one run. At each
 * context length the cache is filled once (a real prefill, or seeded random K/V rows for
 * pure decode latency), snapshotted, and every method decodes the same token sequence from
 * a restored copy, in an order that rotates between repetitions so drift hits all methods
 * alike. Each row carries the bytes-moved bound on the speedup over full attention:
 * (weights + full KV) / (weights + the method's attended KV) per decode step.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Decode latency per method and context length, side by side, with the bytes-moved bound; writes CSV.")
final class BenchCommand implements Callable<Integer> {
    /**
     * Unrecorded tokens before each sample. llama-bench decodes one before each of its samples, in
     * a process whose graph stays captured; here methods take turns, and a turn can come more
     * than 10 s after the last (llama-bench's own runs load the model), after which ggml-cuda has
     * dropped the step's CUDA graph: it then runs one step uncaptured and captures at the next.
     * Two tokens leave the sample's steps replaying a captured graph, as llama-bench's do.
     */
    static final int SAMPLE_WARMUP_TOKENS = 2;

    @Option(names = "--model", required = true)
    Path model;

    @Option(names = "--methods", required = true, split = Method.LIST_SEPARATOR, splitSynopsisLabel = ",", paramLabel = "METHOD", converter = MethodConverters.Bench.class,
            description = "Method specs, comma-separated (full,recycled:k=1024,s=50,streamingllm:k=1024,llamacpp); llama-bench"
                    + " runs stock llama-bench, the program, beside them, on a context it prefills itself whatever --fill says"
                    + " (llama-bench:depth=0: an empty one).")
    List<Method> methods;

    @Option(names = "--ctx", required = true, split = ",", description = "Context lengths, e.g. 16384,32768.")
    List<Integer> contexts;

    @Option(names = "--tokens", defaultValue = "64", description = "Decode steps per measurement.")
    int tokens;

    @Option(names = "--repeats", defaultValue = "3", description = "Measurements per method and length.")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "Unrecorded decodes per method and length before the "
            + "measured ones, at least (JIT compilation, kernel loading, graph builds): more follow while the JIT compiler"
            + " spent 5%% or more of the last one compiling (20 rounds and 30 s at most); 0 to measure a cold start. With --fill prefill"
            + " and a positive value, also one unrecorded prefill before the first length.")
    int warmups;

    @Option(names = "--fill", defaultValue = "synthetic", description = "synthetic (random K/V rows) or prefill (random tokens).")
    String fill;

    @Option(names = "--backend", defaultValue = "cpu")
    String backend;

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Option(names = "--out", required = true, description = "Results CSV (appended; re-running resumes).")
    Path out;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = {"-o", "--output-format"}, paramLabel = "md|csv|json|jsonl|sql", converter = LlamaBenchFormat.Converter.class,
            description = "Also print the run's tests in llama-bench's format on stdout (tg<tokens> @ d<ctx>, tokens/s as mean"
                    + " and standard deviation over the repetitions, read back from --out); the table then goes to stderr.")
    LlamaBenchFormat outputFormat;

    @Option(names = "--llama-bench", paramLabel = "FILE", description = "The llama-bench binary for the llama-bench method"
            + " (default: $RBENCH_LLAMA_BENCH, else where scripts/build-llama-bench.sh builds it for the backend).")
    Path llamaBenchBinary;

    @Option(names = "--steps-out", description = "Also append every decode step's wall time and its parts here (CSV: "
            + "compute, build, inputs, readback, policy): where a mean above the median comes from (Recycled's full steps).")
    Path stepsOut;

    @Option(names = "--queue-ahead", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "On a GPU, plan and queue each decode step while the step before computes, where the method"
                    + " allows it (default); --no-queue-ahead waits for every step first, as llama-bench does"
                    + " (the column steps_queued_ahead says how many steps overlapped).")
    boolean queueAhead;

    @Option(names = "--op-profile", description = "Also decode once more per engine method and length with every step"
            + " graph computed node by node, and write each op's time per step here (CSV), the whole-cache steps apart from the"
            + " sparse ones; prints the largest. Slower than a real step (no fusion, no CUDA graph): read the shares.")
    Path opProfile;

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(model)) {
            throw new java.nio.file.NoSuchFileException(model.toString(), null, "model file not found");
        }
        boolean synthetic = switch (fill) {
            case "synthetic" -> true;
            case "prefill" -> false;
            default -> throw new IllegalArgumentException("--fill must be synthetic or prefill");
        };
        if (methods.stream().noneMatch(m -> m.text().equals(FULL))) {
            throw new IllegalArgumentException("--methods must include full (the speedups and bounds are relative to it)");
        }
        for (Method m : methods) {
            // llama-bench prefills its own context (none at depth=0), so it runs beside either fill
            if (m.isReference() && synthetic && !(m instanceof Method.LlamaBench)) {
                throw new IllegalArgumentException(m.text() + " needs --fill prefill (its cache cannot be filled synthetically)");
            }
        }
        if (tokens <= 0 || repeats <= 0 || warmups < 0 || contexts.stream().anyMatch(c -> c < 2)) {
            throw new IllegalArgumentException("--tokens and --repeats must be positive, --warmup at least 0 and contexts at least 2");
        }
        int maxCtx = contexts.stream().mapToInt(Integer::intValue).max().orElseThrow();
        checkDepths(ModelCheck.of(model), contexts, tokens);
        long weightBytes = weightBytesPerToken(model);
        String runId = "bench-" + Instant.now().toString().replace(":", "");
        Map<String, List<double[]>> summary = new TreeMap<>();
        RefreshSteps refreshSteps = new RefreshSteps(FULL);
        GraphBuildingSteps graphBuildingSteps = new GraphBuildingSteps();
        StepAnatomy stepAnatomy = new StepAnatomy();
        EngineOptions engineOptions = EngineOptions.defaults(maxCtx + tokens + 1);
        BenchSetting setting;
        String modelSha256;
        // found before anything is loaded or written, so that a missing binary costs nothing
        LlamaBenchProgram llamaBench = methods.stream().anyMatch(m -> m instanceof Method.LlamaBench)
                ? LlamaBenchProgram.locate(llamaBenchBinary, System.getenv(LlamaBenchProgram.ENV),
                        LlamaBenchProgram.defaultLocations(backend), backend)
                : null;
        try (ModelSession s = ModelSession.open(model, backend, threads.count, engineOptions);
             ResultsFile results = ResultsFile.open(out);
             ResultsFile stepLog = stepsOut == null ? null : ResultsFile.open(stepsOut, STEP_COLUMNS)) {
            HyperParameters hp = s.weights().hyperParameters();
            long kvRowBytes = 2L * hp.kvHeads() * hp.headDim() * GgmlType.F16.typeSize * hp.layers();
            Provenance prov = Provenance.of(model, s.backend(), threads.count);
            modelSha256 = prov.modelSha256();
            tensorCoreFrom = prov.tensorCoreFrom();
            stableArgsortFrom = s.backend().stableArgsortFrom();
            topKColumnOrderFrom = s.backend().topKColumnOrderFrom();
            setting = outputFormat == null ? null : BenchSetting.of(model, s, engineOptions);
            Engine engine = s.engine();
            // one llama.cpp per reference method, each with its own cache
            Map<Method.Reference, LlamaReference> references = new LinkedHashMap<>();
            try {
                for (Method m : methods) {
                    if (m instanceof Method.Reference r && !references.containsKey(r)) {
                        references.put(r, r.open(model, maxCtx + tokens + 1, threads.count, !s.backend().isCpu()));
                    }
                }
                if (!synthetic && warmups > 0 && !contexts.stream().allMatch(c -> allDone(results, prov, c))) {
                    warmUpPrefill(engine, references.values(), hp, Math.min(PREFILL_WARMUP_TOKENS, java.util.Collections.min(contexts)));
                }
                for (int ctx : contexts) {
                    int[] steps = randomTokens(tokens, hp.vocabSize(), seed + ctx);
                    PrefillRequest request = PrefillRequest.NONE;
                    Map<Method, PrefillRequest> own = new HashMap<>(); // what each engine method's prefill would compute
                    for (Method m : methods) {
                        if (m instanceof Method.EngineStrategy e) {
                            AttentionPolicy p = e.create(hp, ctx);
                            try {
                                own.put(m, engine.collects(p.prefillRequest()));
                            } finally {
                                p.close();
                            }
                            request = request.union(own.get(m));
                        }
                    }
                    if (allDone(results, prov, ctx)) {
                        // a resumed run: every row of this length is in the file, so skip its fill
                        // (a real prefill at 128K costs a minute on a GPU)
                        System.err.printf(Locale.ROOT, "bench: %d tokens: every row already in %s%n", ctx, out);
                        continue;
                    }
                    engine.reset();
                    long fillStart = System.nanoTime();
                    PrefillResult prefill;
                    if (synthetic) {
                        // random rows, then a real prefill of the last rows the policies' statistics cover
                        // (SnapKV's observation window), at least the last token
                        int last = Math.max(1, Math.min(request.lastTokensRead(), ctx - 1));
                        engine.fillSynthetic(ctx - last, seed);
                        prefill = engine.prefill(randomTokens(last, hp.vocabSize(), seed), request, false);
                    } else {
                        prefill = engine.prefill(randomTokens(ctx, hp.vocabSize(), seed), request, false);
                    }
                    System.err.printf(Locale.ROOT, "bench: %d tokens in the cache (%s) after %.1f s%n", ctx, fill,
                            (System.nanoTime() - fillStart) / 1e9);
                    for (LlamaReference reference : references.values()) {
                        reference.reset();
                        reference.prefill(randomTokens(ctx, hp.vocabSize(), seed), false);
                    }
                    try (KvSnapshot snap = engine.snapshot()) {
                        // r < 0: warm-up rounds, decoded like the measured ones and not recorded, until the
                        // JIT compiler is quiet (JitWarmUp)
                        JitWarmUp warmUp = JitWarmUp.ofThisJvm(warmups);
                        int r = warmUp.wanted() ? -1 : 0;
                        if (r < 0) {
                            warmUp.startRound();
                        }
                        for (; r < repeats; r = nextRound(r, warmUp, ctx)) {
                            for (int i = 0; i < methods.size(); i++) {
                                Method m = methods.get(Math.floorMod(i + r, methods.size()));
                                Map<String, String> row = r < 0 ? null : key(prov, m, ctx, r);
                                if (row != null && results.isDone(row)) {
                                    continue;
                                }
                                long[] nanos = null; // every step's wall time; llama-bench gives only its total
                                double meanMs = 0;
                                StepTimings stepTimings = null;
                                double rows;
                                double extraBytes = 0; // what a step reads besides its attended rows
                                double prefillMs;
                                double startMs = Double.NaN; // an engine method's policy start (Decoder.startNanos)
                                int queuedAhead = -1; // an engine method's steps queued before the last one's result
                                if (m instanceof Method.LlamaBench lb) {
                                    if (row == null) {
                                        continue; // llama-bench warms up by itself (one token before its samples)
                                    }
                                    // one sample a repetition, so that it takes its turn in the rotation like the others
                                    int depth = lb.depthFor(ctx);
                                    LlamaBenchResult result = llamaBench.run(new LlamaBenchProgram.Run(model, depth, tokens,
                                            threads.count, !s.backend().isCpu(), 1));
                                    if (!result.backends().toLowerCase(Locale.ROOT).contains(s.backend().kind())) {
                                        throw new IllegalArgumentException(llamaBench.binary() + " is a build for "
                                                + result.backends() + ", not " + s.backend().kind() + ": build one with "
                                                + LlamaBenchProgram.BUILD_SCRIPT + " --backend " + s.backend().kind());
                                    }
                                    meanMs = result.msPerToken()[0];
                                    rows = depth + (tokens + 1) / 2.0;
                                    prefillMs = Double.NaN; // llama-bench does not time its fill
                                } else if (m instanceof Method.Reference ref) {
                                    LlamaReference reference = references.get(ref);
                                    if (row != null) {
                                        // tokens first, not recorded, as llama-bench warms up before each sample
                                        reference.rewindToPrefill();
                                        for (int w = 0; w < SAMPLE_WARMUP_TOKENS; w++) {
                                            reference.advance(steps[w % steps.length]);
                                        }
                                    }
                                    reference.rewindToPrefill();
                                    int before = reference.stepNanos().length;
                                    for (int t : steps) {
                                        reference.advance(t); // as llama-bench: the logits stay in llama.cpp
                                    }
                                    reference.pauseThreads(); // its workers sleep while the next method runs
                                    long[] all = reference.stepNanos();
                                    nanos = Arrays.copyOfRange(all, before, all.length);
                                    // ctx + (tokens + 1) / 2 for plain llama.cpp; under llamacpp-shift what its context held
                                    rows = reference.meanStepRows(before);
                                    prefillMs = reference.lastPrefillNanos() / 1e6;
                                } else {
                                    if (row != null) {
                                        // tokens first, not recorded, as llama-bench warms up before each sample:
                                        // a fresh policy from the same snapshot decodes them, then the measured one starts
                                        engine.restore(snap);
                                        AttentionPolicy first = ((Method.EngineStrategy) m).create(hp, ctx);
                                        try (Decoder d = engine.decoder(first, prefill.statistics())) {
                                            int[] warm = new int[SAMPLE_WARMUP_TOKENS];
                                            for (int w = 0; w < warm.length; w++) {
                                                warm[w] = steps[w % steps.length];
                                            }
                                            d.queueAhead(queueAhead && Decoder.queuesAheadByDefault()).advance(warm);
                                        } finally {
                                            first.close();
                                        }
                                    }
                                    engine.restore(snap);
                                    long startNanos;
                                    AttentionPolicy policy = ((Method.EngineStrategy) m).create(hp, ctx);
                                    try (Decoder d = engine.decoder(policy, prefill.statistics())) {
                                        // the step's result left where it was computed, as llama-bench leaves
                                        // llama.cpp's logits (Decoder.advance); on a GPU each step queued
                                        // while the one before computes, where the method allows
                                        d.queueAhead(queueAhead && Decoder.queuesAheadByDefault()).advance(steps);
                                        queuedAhead = d.stepsQueuedAhead();
                                        if (row != null) {
                                            engineSteps += steps.length;
                                            queuedSteps += queuedAhead;
                                        }
                                        nanos = d.timings().wallNanos();
                                        stepTimings = d.timings();
                                        rows = d.meanAttendedRows();
                                        extraBytes = d.meanExtraBytes();
                                        startNanos = d.startNanos();
                                    } finally {
                                        policy.close();
                                    }
                                    prefillMs = prefill.nanos() / 1e6;
                                    startMs = startNanos / 1e6;
                                }
                                if (row == null) {
                                    continue;
                                }
                                double p50 = Double.NaN;
                                double p90 = Double.NaN;
                                if (nanos != null) {
                                    long[] sorted = nanos.clone();
                                    Arrays.sort(sorted);
                                    meanMs = Arrays.stream(nanos).average().orElse(0) / 1e6;
                                    p50 = sorted[sorted.length / 2] / 1e6;
                                    p90 = sorted[(int) Math.floor(0.9 * (sorted.length - 1))] / 1e6;
                                }
                                double fullRows = ctx + (tokens + 1) / 2.0;
                                double bound = (weightBytes + fullRows * kvRowBytes)
                                        / (weightBytes + rows * kvRowBytes + extraBytes);
                                row.put("run_id", runId);
                                row.put("timestamp", Instant.now().toString());
                                row.putAll(prov.columns());
                                row.put("method_name", m.name());
                                row.put("metric", "none");
                                double memMb = s.backend().isCpu() ? Double.NaN : s.backend().memoryUsedBytes() / 1048576.0;
                                row.put("prefill_ms", fmt(prefillMs));
                                row.put("start_ms", fmt(startMs));
                                if (queuedAhead >= 0) {
                                    row.put("steps_queued_ahead", Integer.toString(queuedAhead));
                                    row.put("flash_scores", engine.probabilitiesFromFlashAttention() ? "1" : "0");
                                    flashScores |= engine.probabilitiesFromFlashAttention();
                                }
                                if (!Double.isNaN(memMb)) {
                                    row.put("device_mem_used_mb", fmt(memMb));
                                }
                                row.put("decode_ms_mean", fmt(meanMs));
                                row.put("decode_ms_p50", fmt(p50));
                                row.put("decode_ms_p90", fmt(p90));
                                row.put("tokens_generated", Integer.toString(nanos == null ? tokens : nanos.length));
                                row.put("attended_rows_mean", fmt(rows));
                                // a real prefill computed every engine method's statistics: shared where this one asks for fewer
                                String fill = m instanceof Method.LlamaBench ? "prefill" : synthetic ? "synthetic" : m instanceof Method.EngineStrategy
                                        ? RulerRun.Prefill.fill(request, own.get(m)) : "prefill";
                                sharedPrefill |= fill.equals(RulerRun.Prefill.SHARED_FILL);
                                row.put("kv_fill", fill);
                                row.put("bound_speedup", fmt(bound));
                                results.append(row);
                                if (nanos != null) {
                                    appendSteps(stepLog, ctx, m, r, nanos, stepTimings);
                                    stepAnatomy.add(ctx, m.text(), nanos);
                                    if (stepTimings != null) {
                                        refreshSteps.add(ctx, m.text(), nanos, stepTimings.wholeCacheLayers());
                                        graphBuildingSteps.add(ctx, m.text(), stepTimings.nanos(StepTimings.Part.BUILD));
                                    }
                                }
                                summary.computeIfAbsent(ctx + "\u0000" + m.text(), k -> new ArrayList<>())
                                        .add(new double[] {meanMs, bound, rows, prefillMs, memMb, startMs});
                            }
                        }
                        if (opProfile != null) {
                            profileOps(engine, snap, prefill, hp, ctx, steps);
                        }
                    }
                }
            } finally {
                stepGraphsRebuilt = engine.stepGraphsRebuilt();
                for (LlamaReference reference : references.values()) {
                    reference.close();
                }
            }
        }
        // with -o, stdout holds only the chosen format, for scripts to read
        PrintStream table = outputFormat == null ? System.out : System.err;
        printSummary(summary, table);
        refreshSteps.print(table);
        if (!refreshSteps.lines().isEmpty()) {
            table.println(RefreshSteps.tiesNote(stableArgsortFrom, topKColumnOrderFrom));
        }
        stepAnatomy.print(table);
        graphBuildingSteps.print(table);
        if (stepGraphsRebuilt > 0) {
            table.println(stepGraphsNote(stepGraphsRebuilt));
        }
        if (opProfile != null) {
            try (ResultsFile profile = ResultsFile.open(opProfile, OpProfileReport.COLUMNS)) {
                for (OpProfileReport.Line l : opProfileLines) {
                    profile.append(l.row());
                }
            }
            OpProfileReport.print(opProfileLines, OP_PROFILE_PRINTED, table);
            table.println("op profile rows appended to " + opProfile);
        }
        table.println("rows appended to " + out);
        if (outputFormat != null) {
            outputFormat.write(LlamaBenchTests.read(out, new LlamaBenchTests.Selection(modelSha256, seed,
                    methods.stream().map(Method::text).toList(), contexts, repeats), setting), System.out);
        }
        return 0;
    }

    /**
     * The line that warns of step graphs rebuilt after the engine's graph cache evicted them: the methods take turns,
     * and a method whose graphs were evicted between its turns paid their build again in measured steps.
     */
    static String stepGraphsNote(long rebuilt) {
        return String.format(Locale.ROOT, "step graphs: %d rebuilt after the graph cache evicted them between the methods'"
                + " turns: each slowed the step that rebuilt it (the build; on CUDA an uncaptured run and a capture), which a"
                + " run of one method would not pay; -D%s=MiB gives the cache more room where the device has it", rebuilt,
                org.rbench.core.engine.Engine.STEP_GRAPH_MIB);
    }

    /** Lines of each op profile printed (the CSV has them all). */
    private static final int OP_PROFILE_PRINTED = 12;

    private final List<OpProfileReport.Line> opProfileLines = new ArrayList<>();
    /** Engine methods' measured steps, and of them those queued while the step before computed (--queue-ahead). */
    private long engineSteps;
    private long queuedSteps;
    /** Whether a row's prefill computed statistics its method did not ask for (kv_fill prefill-shared). */
    private boolean sharedPrefill;
    /** Whether the engine's steps took their probabilities from flash attention's logits. */
    private boolean flashScores;
    /** The rows from which this run's decodes ran flash attention's tensor-core kernel (empty: stock's choice). */
    private java.util.OptionalLong tensorCoreFrom = java.util.OptionalLong.empty();
    /** Step graphs the engine built again after its cache evicted them (stepGraphsNote). */
    private long stepGraphsRebuilt;
    /** What the backend promises of its argsort and top_k, which decides a refresh's tie ordering (printed with it). */
    private java.util.OptionalInt stableArgsortFrom = java.util.OptionalInt.empty();
    private java.util.OptionalInt topKColumnOrderFrom = java.util.OptionalInt.empty();

    /** One unrecorded decode per engine method from the filled cache, computed node by node (--op-profile). */
    private void profileOps(Engine engine, KvSnapshot snap, PrefillResult prefill, HyperParameters hp, int ctx, int[] steps) {
        for (Method m : methods) {
            if (!(m instanceof Method.EngineStrategy strategy)) {
                continue;
            }
            engine.restore(snap);
            AttentionPolicy policy = strategy.create(hp, ctx);
            try (OpProfiler profiler = new OpProfiler(); Decoder d = engine.decoder(policy, prefill.statistics())) {
                engine.profileOps(profiler);
                for (int t : steps) {
                    profiler.startStep();
                    d.advance(t);
                    profiler.endStep();
                }
                opProfileLines.addAll(OpProfileReport.summarize(ctx, m.text(), profiler.steps(), d.timings().wholeCacheLayers()));
            } finally {
                engine.profileOps(null);
                policy.close();
            }
        }
    }

    /** The round after {@code r}: another warm-up round (-1) while {@code warmUp} wants one, then 0, 1, ... */
    private static int nextRound(int r, JitWarmUp warmUp, int ctx) {
        if (r >= 0) {
            return r + 1;
        }
        if (warmUp.another()) {
            warmUp.startRound();
            return -1;
        }
        System.err.printf(Locale.ROOT, "bench: %d tokens: %d warm-up round(s); in the last, the JIT compiler threads' time %s"
                        + " of its wall time%n", ctx, warmUp.rounds(), Double.isNaN(warmUp.lastShare()) ? "(not reported)"
                        : String.format(Locale.ROOT, "%.1f%%", 100 * warmUp.lastShare()));
        return 0;
    }

    private void printSummary(Map<String, List<double[]>> summary, PrintStream out) {
        // ms/token: the median over repetitions of each run's mean step time (a mean, so
        // Recycled's periodic full steps count); speedup and bound are against full.
        // full attention's line over this run's lengths (FullAttentionLine): a second bound
        List<double[]> fullPoints = new ArrayList<>();
        for (int ctx : contexts) {
            List<double[]> v = summary.get(ctx + "\u0000" + FULL);
            if (v != null) {
                fullPoints.add(new double[] {v.getFirst()[2], Medians.of(v.stream().mapToDouble(a -> a[0]).toArray())});
            }
        }
        FullAttentionLine line = FullAttentionLine.fit(fullPoints);
        // the method column as wide as the longest spec (at least 32), so that the columns after it line up
        String methodColumn = "%-" + Math.max(32, methods.stream().mapToInt(m -> m.text().length()).max().orElse(0)) + "s";
        out.printf("%-8s " + methodColumn + " %-14s %10s %16s %12s %10s %14s %9s %9s %8s %10s %8s%n", "context", "method", "test", "ms/token",
                "t/s", "prefill ms", "start ms", "attended rows", "speedup", "bound", "of bound", "mem MiB", "of line");
        for (int ctx : contexts) {
            List<double[]> full = summary.get(ctx + "\u0000" + FULL);
            if (full == null) {
                continue;
            }
            double fullMs = Medians.of(full.stream().mapToDouble(a -> a[0]).toArray());
            for (Method method : methods) {
                String m = method.text();
                List<double[]> v = summary.get(ctx + "\u0000" + m);
                if (v == null) {
                    continue;
                }
                double ms = Medians.of(v.stream().mapToDouble(a -> a[0]).toArray());
                double bound = v.getFirst()[1];
                double speedup = fullMs / ms;
                double mem = v.stream().mapToDouble(a -> a[4]).max().orElse(Double.NaN);
                double[] starts = v.stream().mapToDouble(a -> a[5]).filter(x -> !Double.isNaN(x)).toArray();
                double start = starts.length == 0 ? Double.NaN : Medians.of(starts);
                double lineBound = line == null || m.equals(FULL) ? Double.NaN : line.boundFor(fullMs, v.getFirst()[2]);
                // tokens/s as llama-bench reports it: mean and standard deviation over the repetitions
                double[] perSecond = v.stream().mapToDouble(a -> 1000 / a[0]).toArray();
                double tsMean = Arrays.stream(perSecond).average().orElse(Double.NaN);
                double tsSd = perSecond.length < 2 ? 0 : Math.sqrt(Arrays.stream(perSecond)
                        .map(x -> (x - tsMean) * (x - tsMean)).sum() / (perSecond.length - 1));
                out.printf(Locale.ROOT, "%-8d " + methodColumn + " %-14s %10.2f %16s %12s %10s %14.0f %8.2fx %8.2fx %8s %10s %8s%n", ctx, m,
                        "tg" + tokens + " @ d" + ctx, ms, String.format(Locale.ROOT, "%.2f ± %.2f", tsMean, tsSd),
                        Double.isNaN(v.getFirst()[3]) ? "-" : String.format(Locale.ROOT, "%.1f", v.getFirst()[3]),
                        Double.isNaN(start) ? "-" : String.format(Locale.ROOT, "%.1f", start),
                        v.getFirst()[2], speedup, bound,
                        m.equals(FULL) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * speedup / bound),
                        Double.isNaN(mem) ? "-" : String.format(Locale.ROOT, "%.0f", mem),
                        Double.isNaN(lineBound) ? "-" : String.format(Locale.ROOT, "%.0f%%", 100 * speedup / lineBound));
            }
        }
        printAgainstLlamaBench(summary, out);
        out.println("start ms: what an engine method's policy builds from the prefill before its first step (median;"
                + " s/example counts it with the prefill)");
        if (queuedSteps > 0) {
            out.printf(Locale.ROOT, "queued: %d of the engine methods' %d measured steps were queued on the device while the"
                    + " step before computed, the host's work between steps hidden (steps_queued_ahead; --no-queue-ahead"
                    + " waits for every step, as llama-bench does)%n", queuedSteps, engineSteps);
        }
        if (tensorCoreFrom.isPresent()) {
            out.printf(Locale.ROOT, "flash attention: every decoded token over %d KV rows or more, in every method and reference"
                    + " of this run, ran ggml-cuda's tensor-core kernel, not stock's vector kernel (fa_tensor_core_from;"
                    + " %s): full attention is faster there, and every bound and speedup is against that%n",
                    tensorCoreFrom.getAsLong(), org.rbench.llamacpp.TensorCoreDecode.VARIABLE);
        }
        if (flashScores) {
            out.println("probabilities: a step that needs them (a refresh, H2O) took them from flash attention's own logits"
                    + " (flash_scores; RBENCH_FA_SCORES=0 computes them from a second K^T q product)");
        }
        if (sharedPrefill) {
            out.println("prefill ms: the engine's methods share one prefill, with the statistics all of them ask for"
                    + " (kv_fill prefill-shared where a method asks for fewer; rbench run's prefill: own times each method's own)");
        }
        if (line != null) {
            out.printf(Locale.ROOT, "of line: speedup over the bound of full attention's own line, t = %.3f ms + %.4f ms"
                    + " per 1000 rows, fitted over %d lengths (FullAttentionLine)%n", line.interceptMs(), 1000 * line.msPerRow(),
                    line.points());
        }
    }

    /**
     * With llama-bench among the methods, one line per length and llama-bench method: every other
     * method's tokens/s as a share of llama-bench's, from the medians of ms/token.
     */
    private void printAgainstLlamaBench(Map<String, List<double[]>> summary, PrintStream out) {
        for (int ctx : contexts) {
            for (Method against : methods) {
                if (!(against instanceof Method.LlamaBench lb)) {
                    continue;
                }
                List<double[]> reference = summary.get(ctx + "\u0000" + against.text());
                if (reference == null) {
                    continue;
                }
                double referenceMs = Medians.of(reference.stream().mapToDouble(a -> a[0]).toArray());
                List<String> shares = new ArrayList<>();
                for (Method method : methods) {
                    List<double[]> v = summary.get(ctx + "\u0000" + method.text());
                    if (v != null && !(method instanceof Method.LlamaBench)) {
                        shares.add(String.format(Locale.ROOT, "%s %.2fx", method.text(),
                                referenceMs / Medians.of(v.stream().mapToDouble(a -> a[0]).toArray())));
                    }
                }
                String where = lb.depthFor(ctx) == ctx ? "" : String.format(Locale.ROOT, " (llama-bench at d%d)", lb.depthFor(ctx));
                out.printf(Locale.ROOT, "tokens/s against %s (%.2f ms/token), tg%d @ d%d%s: %s%n", against.text(), referenceMs,
                        tokens, ctx, where, String.join(", ", shares));
            }
        }
    }

    /** The method the speedups and bounds are relative to, by its spec text. */
    private static final String FULL = "full";

    /** Columns of the --steps-out file: the step's wall time, then each part of it (StepTimings.Part). */
    private static final List<String> STEP_COLUMNS = stepColumns();

    private static List<String> stepColumns() {
        List<String> columns = new java.util.ArrayList<>(List.of("length", "method", "sample_index", "step", "wall_ms"));
        for (StepTimings.Part p : StepTimings.Part.values()) {
            columns.add(p.name().toLowerCase(java.util.Locale.ROOT) + "_ms");
        }
        columns.add("whole_cache_layers");
        return List.copyOf(columns);
    }

    /**
     * One row per decode step: wall time and, where the engine decoded (not llama.cpp), its
     * parts: graph compute, graph building, input uploads, read-backs, and the policy's work
     * after the compute.
     */
    private static void appendSteps(ResultsFile steps, int ctx, Method method, int repeat, long[] wall, StepTimings parts)
            throws IOException {
        if (steps == null) {
            return;
        }
        Map<StepTimings.Part, long[]> byPart = parts == null ? null : parts.allParts();
        int[] wholeCache = parts == null ? null : parts.wholeCacheLayers();
        for (int i = 0; i < wall.length; i++) {
            Map<String, String> row = new LinkedHashMap<>();
            row.put("length", Integer.toString(ctx));
            row.put("method", method.text());
            row.put("sample_index", Integer.toString(repeat));
            row.put("step", Integer.toString(i));
            row.put("wall_ms", fmt(wall[i] / 1e6));
            if (byPart != null) {
                for (Map.Entry<StepTimings.Part, long[]> e : byPart.entrySet()) {
                    row.put(e.getKey().name().toLowerCase(java.util.Locale.ROOT) + "_ms", fmt(e.getValue()[i] / 1e6));
                }
                row.put("whole_cache_layers", Integer.toString(wholeCache[i]));
            }
            steps.append(row);
        }
    }

    private boolean allDone(ResultsFile results, Provenance prov, int ctx) {
        for (int r = 0; r < repeats; r++) {
            for (Method m : methods) {
                if (!results.isDone(key(prov, m, ctx, r))) {
                    return false;
                }
            }
        }
        return true;
    }

    private Map<String, String> key(Provenance p, Method method, int ctx, int repeat) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("kind", "latency");
        k.put("model_sha256", p.modelSha256());
        k.put("method", method.text());
        k.put("seed", Long.toString(seed));
        k.put("task", "latency");
        k.put("length", Integer.toString(ctx));
        k.put("sample_index", Integer.toString(repeat));
        return k;
    }

    /**
     * Bytes of weights one decode step reads: every tensor except the token embedding (one
     * row of it is read), which counts in full when it doubles as the output matrix.
     */
    /** Tokens of the unrecorded prefill before the first length (at most the shortest context). */
    static final int PREFILL_WARMUP_TOKENS = 1024;

    /**
     * One unrecorded prefill of {@code n} random tokens on the engine and on llama.cpp before
     * the first length, so that the first length's prefill time holds no one-time costs (the
     * GPU kernels' first loads, JIT compilation): without it the first length measured read
     * 641 ms against llama.cpp's 410 at 8K on an H200, and 429 against 409 when measured last.
     */
    private static void warmUpPrefill(Engine engine, java.util.Collection<LlamaReference> references, HyperParameters hp, int n) {
        long t0 = System.nanoTime();
        engine.reset();
        engine.prefill(randomTokens(n, hp.vocabSize(), 7));
        engine.reset();
        for (LlamaReference reference : references) {
            reference.reset();
            reference.prefill(randomTokens(n, hp.vocabSize(), 7), false);
            reference.reset();
        }
        System.err.printf(Locale.ROOT, "bench: warm-up prefill of %d tokens (not recorded) in %.1f s%n", n,
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Every depth, with its decode steps and one spare row (the engine's cache is sized so),
     * fits the context the model was trained for; a deeper one is refused in the options'
     * terms before a model or cache is allocated (make-model --context makes longer models).
     */
    static void checkDepths(ModelCheck model, List<Integer> depths, int tokens) {
        int trained = model.trainedContext();
        for (int depth : depths) {
            long rows = (long) depth + tokens + 1;
            if (rows > trained) {
                throw new IllegalArgumentException("--ctx " + depth + " with --tokens " + tokens + " needs " + rows
                        + " cache rows, more than the " + trained + " tokens " + model.path().getFileName()
                        + " was trained for (depths up to " + (trained - tokens - 1) + " with --tokens " + tokens + ")");
            }
        }
    }

    static long weightBytesPerToken(Path model) throws IOException {
        try (GgufFile g = GgufFile.open(model)) {
            long total = 0;
            boolean tied = g.tensor("output.weight").isEmpty();
            for (GgufTensorInfo t : g.tensors()) {
                if (t.name().equals("token_embd.weight") && !tied) {
                    continue;
                }
                total += t.bytes();
            }
            return total;
        }
    }

    private static int[] randomTokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = 1 + r.nextInt(vocab - 1);
        }
        return t;
    }

    /** A CSV number; NaN (not measured) is an empty field. */
    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v);
    }
}
