package org.rbench.harness.run;

import org.rbench.core.ModelSession;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.reference.LlamaReference;
import org.rbench.datasets.LlamaTokenizer;
import org.rbench.datasets.PromptTokens;
import org.rbench.datasets.RulerGenerator;
import org.rbench.datasets.RulerTask;
import org.rbench.datasets.Sample;
import org.rbench.datasets.Sources;
import org.rbench.harness.results.DiagnosticsFile;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.sweep.Shard;
import org.rbench.llamacpp.Vocabulary;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

/**
 * Runs a RULER sweep. With {@link Prefill#SHARED} (the default), for every (model, length, task,
 * sample) the prompt is prefilled once (collecting the union of the statistics the methods ask
 * for), the KV state is snapshotted, and every method decodes greedily from a restored copy of
 * it; with {@link Prefill#OWN} every method prefills the prompt itself, with only the statistics
 * it asks for, so that its row's prefill time is its own. One CSV row
 * per sample and method is appended and flushed as soon as it is known; rows already in
 * the file are skipped, so a killed run resumes where it stopped. With diagnostics, each
 * method decodes a second time, untimed, beside full attention ({@link AnswerDiagnostics}):
 * its summaries join the row and its per-step rows go to the detail file beside the results
 * ({@link DiagnosticsFile}).
 */
public final class RulerRun {
    /**
     * What to run. {@code maxTokens} null: each task's own tokens to generate;
     * {@code diagnosticsSteps} null: per-step rows for every decode step, else for the first N.
     */
    public record Plan(String runId, List<Path> models, List<Method> methods, List<RulerTask> tasks, List<Integer> lengths,
                       int samples, long seed, String backend, int threads, Integer maxTokens, Shard shard,
                       boolean diagnostics, Integer diagnosticsSteps, Prefill prefill) {
        public Plan {
            Objects.requireNonNull(prefill, "prefill");
        }
    }

    /** How the engine's methods get a sample's prompt into the cache (the run config's {@code prefill:}). */
    public enum Prefill {
        /**
         * One prefill per sample with the union of the statistics every method asks for; each
         * method decodes from a restored copy. Fastest for accuracy sweeps; every method's row
         * carries that one prefill's time ({@code kv_fill} {@code prefill-shared} where it computed
         * statistics the row's method did not ask for).
         */
        SHARED("shared"),
        /**
         * Every method's row times a prefill with only its own statistics: methods that ask for the
         * same statistics decode from one such prefill (the same work), the others prefill again.
         */
        OWN("own");

        /**
         * The value of {@code kv_fill} for a row whose prefill also computed statistics other
         * methods asked for: its time is not the row's method's own.
         */
        public static final String SHARED_FILL = org.rbench.analysis.ResultRow.SHARED_PREFILL;

        /** A row's {@code kv_fill}: a prefill that computed {@code done} for a method that asks for {@code own}. */
        public static String fill(PrefillRequest done, PrefillRequest own) {
            return done.equals(own) ? "prefill" : SHARED_FILL;
        }

        private final String configName;

        Prefill(String configName) {
            this.configName = configName;
        }

        /** The value in a run config. */
        public String configName() {
            return configName;
        }

        /** The config values, in order: {@code [shared, own]}. */
        public static List<String> configNames() {
            return Arrays.stream(values()).map(Prefill::configName).toList();
        }

        /** The mode a config value names; empty for anything else. */
        public static Optional<Prefill> ofConfigName(String name) {
            return Arrays.stream(values()).filter(p -> p.configName.equals(name)).findFirst();
        }
    }

    private record Unit(Path model, int length, RulerTask task, int sample) {
    }

    private final Plan plan;
    private final PrintStream log;
    private final AtomicBoolean stop;
    /** The per-step detail file of a diagnosed run, open while it runs. */
    private DiagnosticsFile details;
    /** Prompt prefills the engine did for samples (not the warm-up's), for tests. */
    private int enginePrefills;

    public RulerRun(Plan plan, PrintStream log, AtomicBoolean stop) {
        this.plan = plan;
        this.log = log;
        this.stop = stop;
    }

    /** Runs the plan into the results file; returns the number of rows written. */
    public int run(ResultsFile results) throws IOException {
        List<Unit> units = new ArrayList<>();
        for (Path model : plan.models()) {
            for (int length : plan.lengths()) {
                for (RulerTask task : plan.tasks()) {
                    for (int i = 0; i < plan.samples(); i++) {
                        units.add(new Unit(model, length, task, i));
                    }
                }
            }
        }
        units = plan.shard().select(units);
        int before = results.rowsWritten();
        Progress progress = new Progress(log, units.size());
        Path current = null;
        Session session = null;
        if (plan.diagnostics()) {
            // rows of a unit whose results row a kill prevented are dropped: the unit runs again
            details = DiagnosticsFile.open(DiagnosticsFile.besides(results.path()),
                    row -> results.isDone(DiagnosticsFile.resultsKey(row)));
        }
        try {
            for (Unit u : units) {
                if (stop.get()) {
                    log.println("rbench: stopped; " + (results.rowsWritten() - before) + " rows written, the rest resumes next time");
                    break;
                }
                if (!u.model().equals(current)) {
                    if (session != null) {
                        session.close();
                    }
                    session = new Session(u.model());
                    current = u.model();
                }
                runUnit(session, u, results);
                progress.advance(u.task().id() + " " + u.length() + " #" + u.sample());
            }
        } finally {
            if (session != null) {
                session.close();
            }
            if (details != null) {
                details.close();
                details = null;
            }
        }
        return results.rowsWritten() - before;
    }

    /** How many times the engine prefilled a sample's prompt so far (the warm-up not counted). */
    int enginePrefills() {
        return enginePrefills;
    }

    private int maxLength() {
        return plan.lengths().stream().mapToInt(Integer::intValue).max().orElseThrow();
    }

    /** One model loaded for the sweep: engine, tokenizer, generator, provenance, llama.cpp per reference method on demand. */
    private final class Session implements AutoCloseable {
        final ModelSession model;
        final LlamaTokenizer tokenizer;
        final RulerGenerator generator;
        final Provenance provenance;
        final Path path;
        /** Cache rows of the engine and of plain llama.cpp: the longest length, and a spare row where the model has it. */
        final int contextRows;
        final Map<Method.Reference, LlamaReference> references = new LinkedHashMap<>();

        Session(Path path) throws IOException {
            this.path = path;
            contextRows = ModelCheck.of(path).contextRows(maxLength(), 1, "length");
            model = ModelSession.open(path, plan.backend(), plan.threads(), EngineOptions.defaults(contextRows));
            tokenizer = LlamaTokenizer.open(path);
            Sources sources = Sources.locate(null);
            generator = RulerGenerator.builder(tokenizer).sources(sources).pieceCounting(true).build();
            provenance = Provenance.of(path, model.backend(), plan.threads());
            warmUp();
        }

        /**
         * Decodes a few untimed steps with every method first: the first steps of a JVM pay
         * for JIT compilation and first-touch memory, which would otherwise land in the
         * first sample's timings.
         */
        private void warmUp() {
            Engine engine = model.engine();
            int[] tokens = new int[Math.min(64, engine.contextSize() - 16)];
            java.util.Arrays.fill(tokens, Math.max(1, model.vocabulary().bos()));
            for (Method m : plan.methods()) {
                if (!(m instanceof Method.EngineStrategy e)) {
                    continue;
                }
                AttentionPolicy p = e.create(model.weights().hyperParameters(), tokens.length);
                try {
                    engine.reset();
                    PrefillResult pr = engine.prefill(tokens, p.prefillRequest(), false);
                    try (Decoder d = engine.decoder(p, pr.statistics())) {
                        d.generateGreedy(tokens[0], 8, t -> true); // the graphs a sample's decode uses
                    }
                } finally {
                    p.close();
                }
            }
            engine.reset();
        }

        LlamaReference reference(Method.Reference method, int contextSize) {
            return references.computeIfAbsent(method,
                    m -> m.open(path, contextSize, plan.threads(), !model.backend().isCpu()));
        }

        @Override
        public void close() {
            for (LlamaReference reference : references.values()) {
                reference.close();
            }
            tokenizer.close();
            model.close();
        }
    }

    private void runUnit(Session s, Unit u, ResultsFile results) throws IOException {
        List<Method> todo = new ArrayList<>();
        for (Method m : plan.methods()) {
            if (!results.isDone(key(s, u, m))) {
                todo.add(m);
            }
        }
        if (todo.isEmpty()) {
            return;
        }
        if (s.generator.skipReason(u.task()).isPresent()) {
            return; // qa without its dataset: reported by the command, never scored as zero
        }
        Sample sample = s.generator.generate(u.task(), u.length(), u.sample(), plan.seed());
        Vocabulary vocab = s.model.vocabulary();
        int[] prompt;
        int[] answerPositions = new int[0];
        if (plan.diagnostics()) {
            // the answer spans among the prompt's tokens, at their cache positions (BOS first)
            PromptTokens tokens = PromptTokens.of(sample, s.tokenizer).withLeadingToken(vocab.bos());
            prompt = tokens.ids();
            answerPositions = tokens.answerPositions();
        } else {
            int[] text = s.tokenizer.encode(sample.prompt());
            prompt = new int[text.length + 1];
            prompt[0] = vocab.bos();
            System.arraycopy(text, 0, prompt, 1, text.length);
        }
        int maxTokens = plan.maxTokens() != null ? plan.maxTokens() : sample.tokensToGenerate();
        Engine engine = s.model.engine();

        List<AttentionPolicy> policies = new ArrayList<>();
        // what each engine method's prefill collects on this engine (Engine.collects): equal requests share a prefill
        List<PrefillRequest> requests = new ArrayList<>();
        PrefillRequest request = PrefillRequest.NONE;
        for (Method m : todo) {
            if (m instanceof Method.EngineStrategy e) {
                AttentionPolicy p = e.create(s.model.weights().hyperParameters(), prompt.length);
                policies.add(p);
                requests.add(engine.collects(p.prefillRequest()));
                request = request.union(requests.getLast());
            } else {
                policies.add(null);
                requests.add(null);
            }
        }
        long engineMethods = policies.stream().filter(p -> p != null).count();
        boolean shared = plan.prefill() == Prefill.SHARED;
        PrefillResult prefill = null;
        KvSnapshot snapshot = null;
        PrefillRequest prefilledFor = null; // own mode: the statistics of the prefill in the cache
        try {
            if (shared && engineMethods > 0) {
                engine.reset();
                prefill = engine.prefill(prompt, request, false);
                enginePrefills++;
                snapshot = engine.snapshot();
            }
            for (int i : shared ? IntStream.range(0, todo.size()).toArray() : byOwnPrefill(requests)) {
                Method method = todo.get(i);
                Decoded d;
                AnswerDiagnostics diagnosed = null;
                if (method instanceof Method.Reference ref) {
                    d = decodeWithLlamaCpp(s, ref, prompt, maxTokens, vocab);
                } else {
                    PrefillRequest own = requests.get(i);
                    if (shared || own.equals(prefilledFor)) {
                        engine.restore(snapshot);
                    } else {
                        // this method's own prefill, with only the statistics it asks for; the methods
                        // after it that ask for the same ones decode from it (the same work, timed once)
                        if (snapshot != null) {
                            snapshot.close();
                            snapshot = null;
                        }
                        engine.reset();
                        prefill = engine.prefill(prompt, own, false);
                        enginePrefills++;
                        prefilledFor = own;
                        snapshot = engine.snapshot();
                    }
                    d = decode(engine, policies.get(i), prefill, maxTokens, vocab);
                    if (plan.diagnostics()) {
                        engine.restore(snapshot);
                        Method.EngineStrategy strategy = (Method.EngineStrategy) method;
                        diagnosed = AnswerDiagnostics.replay(engine, strategy.create(s.model.weights().hyperParameters(),
                                prompt.length), prefill, d.tokens(), d.stepNanos().length, answerPositions, vocab);
                        if (diagnosed.divergedAt() >= 0) {
                            log.println("rbench: warning: the diagnosed decode of " + method.text() + " on " + u.task().id()
                                    + " #" + u.sample() + " chose another token at step " + diagnosed.divergedAt()
                                    + " than the timed decode");
                        }
                    }
                }
                String prediction = vocab.detokenize(d.tokens(), true, false);
                Map<String, String> row = key(s, u, method);
                row.put("run_id", plan.runId());
                row.put("timestamp", Instant.now().toString());
                row.putAll(s.provenance.columns());
                row.put("method_name", method.name());
                row.put("metric", sample.metric().name().toLowerCase(java.util.Locale.ROOT));
                row.put("score", fmt(100 * sample.score(prediction)));
                row.put("prediction", prediction);
                row.put("answers", String.join(" | ", sample.outputs()));
                row.put("prompt_tokens", Integer.toString(prompt.length));
                row.put("prefill_ms", fmt(d.prefillNanos() / 1e6));
                row.put("start_ms", d.startNanos() < 0 ? "" : fmt(d.startNanos() / 1e6));
                putTimings(row, d.stepNanos());
                row.put("tokens_generated", Integer.toString(d.tokens().length));
                row.put("attended_rows_mean", d.attendedRows() < 0 ? "" : fmt(d.attendedRows()));
                row.put("full_steps", d.fullLayerSteps() < 0 ? "" : fmt((double) d.fullLayerSteps() / layers(s)));
                row.put("kv_fill", method instanceof Method.Reference ? "prefill"
                        : Prefill.fill(shared ? request : requests.get(i), requests.get(i)));
                if (diagnosed != null) {
                    row.put("attention_mass_recall", fmt(diagnosed.massRecall()));
                    row.putAll(diagnosed.summaryColumns());
                    Map<String, String> unit = new LinkedHashMap<>();
                    for (String c : DiagnosticsFile.UNIT) {
                        unit.put(c, c.equals("model_file") ? s.provenance.columns().get(c) : row.get(c));
                    }
                    // before the results row, which completes the unit
                    details.append(diagnosed.detailRows(unit, plan.diagnosticsSteps() == null ? Integer.MAX_VALUE
                            : plan.diagnosticsSteps()));
                }
                results.append(row);
            }
        } finally {
            if (snapshot != null) {
                snapshot.close();
            }
            for (AttentionPolicy p : policies) {
                if (p != null) {
                    p.close();
                }
            }
        }
    }

    /**
     * The order in which own-prefill mode runs a sample's methods: as listed, except that the
     * engine methods asking for the same prefill statistics follow the first of them, so that
     * one prefill (timed once: the same work for each) serves them all. {@code requests}: each
     * method's, as its engine collects it ({@code Engine.collects}); null for a reference method.
     */
    static int[] byOwnPrefill(List<PrefillRequest> requests) {
        Map<PrefillRequest, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i) != null) {
                groups.computeIfAbsent(requests.get(i), r -> new ArrayList<>()).add(i);
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            if (requests.get(i) == null) {
                order.add(i);
            } else {
                List<Integer> group = groups.remove(requests.get(i));
                if (group != null) {
                    order.addAll(group);
                }
            }
        }
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int layers(Session s) {
        return s.model.weights().hyperParameters().layers();
    }

    private Map<String, String> key(Session s, Unit u, Method method) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("kind", "ruler");
        k.put("model_sha256", s.provenance.modelSha256());
        k.put("method", method.text());
        k.put("seed", Long.toString(plan.seed()));
        k.put("task", u.task().id());
        k.put("length", Integer.toString(u.length()));
        k.put("sample_index", Integer.toString(u.sample()));
        return k;
    }

    /**
     * Generated tokens (without the end-of-generation token) and how long it took: the prefill,
     * the policy's start (what it built from the prefill; -1 for llama_decode) and every step.
     */
    record Decoded(int[] tokens, long prefillNanos, long startNanos, long[] stepNanos, double attendedRows, long fullLayerSteps) {
    }

    /**
     * Greedy decoding: the first token comes from the prefill's logits; every decode step
     * feeds the previous token. Stops at end of generation, after {@code maxTokens} or when the
     * context is full. On a GPU each step is picked in the step graph and fed to the next there,
     * queued before the host reads the pick (Decoder.generateGreedy): a step past the end of
     * generation may run, and its time counts with the others (the device spent it).
     */
    static Decoded decode(Engine engine, AttentionPolicy policy, PrefillResult prefill, int maxTokens, Vocabulary vocab) {
        List<Integer> out = new ArrayList<>();
        try (Decoder d = engine.decoder(policy, prefill.statistics())) {
            int first = Greedy.argmax(prefill.lastLogits());
            if (!vocab.isEndOfGeneration(first)) {
                out.add(first);
                if (out.size() < maxTokens) {
                    d.generateGreedy(first, maxTokens - 1, t -> {
                        if (vocab.isEndOfGeneration(t)) {
                            return false;
                        }
                        out.add(t);
                        return out.size() < maxTokens;
                    });
                }
            }
            return new Decoded(out.stream().mapToInt(Integer::intValue).toArray(), prefill.nanos(), d.startNanos(),
                    d.timings().wallNanos(), d.meanAttendedRows(), d.fullLayerSteps());
        }
    }

    /**
     * Greedy decoding through llama_decode: plain llama.cpp with a context that holds the
     * longest prompt, or {@code llamacpp-shift} with its own context of k tokens (the prompt
     * truncated, the context shifted as generation fills it).
     */
    private Decoded decodeWithLlamaCpp(Session s, Method.Reference method, int[] prompt, int maxTokens, Vocabulary vocab) {
        LlamaReference ref = s.reference(method, s.contextRows);
        ref.reset();
        float[][] logits = ref.prefill(prompt, false);
        long prefillNanos = ref.lastPrefillNanos();
        List<Integer> out = new ArrayList<>();
        int token = Greedy.argmax(logits[logits.length - 1]);
        // plain llama.cpp stops where the engine stops, when the context is full; llamacpp-shift shifts instead
        boolean stopsWhenFull = method.contextShift() == null;
        while (!vocab.isEndOfGeneration(token)) {
            out.add(token);
            if (out.size() >= maxTokens || (stopsWhenFull && prompt.length + out.size() - 1 >= s.contextRows)) {
                break;
            }
            token = Greedy.argmax(ref.step(token));
        }
        ref.pauseThreads(); // its workers sleep while the engine's methods run
        double rows = ref.stepNanos().length == 0 ? -1 : ref.meanStepRows(0);
        return new Decoded(out.stream().mapToInt(Integer::intValue).toArray(), prefillNanos, -1, ref.stepNanos(), rows, -1);
    }

    static void putTimings(Map<String, String> row, long[] stepNanos) {
        if (stepNanos.length == 0) {
            return;
        }
        long[] sorted = stepNanos.clone();
        Arrays.sort(sorted);
        double mean = Arrays.stream(stepNanos).average().orElse(0) / 1e6;
        row.put("decode_ms_mean", fmt(mean));
        row.put("decode_ms_p50", fmt(percentile(sorted, 0.5) / 1e6));
        row.put("decode_ms_p90", fmt(percentile(sorted, 0.9) / 1e6));
    }

    static double percentile(long[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
