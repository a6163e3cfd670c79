package org.rbench.harness.run;

import org.rbench.core.ModelSession;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.reference.LlamaReference;
import org.rbench.datasets.LlamaTokenizer;
import org.rbench.datasets.PerplexityTexts;
import org.rbench.datasets.Sources;
import org.rbench.harness.results.ResultsFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Perplexity under each method, teacher-forced: a document's first {@code prefix} tokens
 * are prefilled once (snapshot), then every method decodes the document's true next tokens
 * one step at a time from a restored copy, so its schedule and cache policy run exactly as
 * in generation; the negative log-likelihood of each true token is summed. The llama.cpp
 * references ({@link Method.Reference}) prefill the prefix and feed the same tokens through
 * llama_decode ({@code llamacpp-shift} truncating the prefix to its context and shifting as
 * the context fills). One CSV row per document and method ({@code kind=ppl}, {@code nll_sum},
 * {@code tokens_scored}).
 */
public final class PerplexityRun {
    /** {@code texts}: names of installed long texts (moby-dick, sotu) or paths of UTF-8 files. */
    public record Plan(String runId, Path model, List<Method> methods, List<String> texts, int prefix, int scored,
                       int documents, String backend, int threads, long seed) {
    }

    private final Plan plan;
    private final List<Method> methods;
    private final PrintStream log;
    private final AtomicBoolean stop;

    public PerplexityRun(Plan plan, PrintStream log, AtomicBoolean stop) {
        this.plan = plan;
        this.log = log;
        this.stop = stop;
        if (plan.prefix() < 1 || plan.scored() < 1 || plan.documents() < 1) {
            throw new IllegalArgumentException("prefix, scored tokens and documents must be positive");
        }
        this.methods = List.copyOf(plan.methods());
    }

    public int run(ResultsFile results) throws IOException {
        int before = results.rowsWritten();
        int length = plan.prefix() + plan.scored();
        // a document of length tokens (BOS included) with two spare rows where the model has them
        int contextRows = ModelCheck.of(plan.model()).contextRows(length, 2, "ppl length");
        Map<Method.Reference, LlamaReference> references = new LinkedHashMap<>();
        try (ModelSession s = ModelSession.open(plan.model(), plan.backend(), plan.threads(), EngineOptions.defaults(contextRows));
             LlamaTokenizer tokenizer = LlamaTokenizer.open(plan.model())) {
            Provenance prov = Provenance.of(plan.model(), s.backend(), plan.threads());
            Engine engine = s.engine();
            int bos = s.vocabulary().bos();
            List<PerplexityTexts.Document> docs = new ArrayList<>();
            for (String text : plan.texts()) {
                docs.addAll(documents(text, tokenizer, length - 1));
            }
            Progress progress = new Progress(log, docs.size());
            for (PerplexityTexts.Document doc : docs) {
                if (stop.get()) {
                    break;
                }
                int[] tokens = new int[doc.tokens().length + 1];
                tokens[0] = bos;
                System.arraycopy(doc.tokens(), 0, tokens, 1, doc.tokens().length);
                scoreDocument(s, engine, prov, doc, tokens, results, ref -> references.computeIfAbsent(ref,
                        r -> r.open(plan.model(), contextRows, plan.threads(), !s.backend().isCpu())));
                progress.advance(doc.source() + " #" + doc.index());
            }
        } finally {
            for (LlamaReference reference : references.values()) {
                reference.close();
            }
        }
        return results.rowsWritten() - before;
    }

    private List<PerplexityTexts.Document> documents(String text, LlamaTokenizer tokenizer, int tokensPerDocument)
            throws IOException {
        Path file = Path.of(text);
        if (Files.isRegularFile(file)) {
            return PerplexityTexts.cut(file.getFileName().toString(), Files.readString(file, StandardCharsets.UTF_8),
                    tokenizer, tokensPerDocument, plan.documents());
        }
        return new PerplexityTexts(Sources.locate(null), tokenizer).documents(text, tokensPerDocument, plan.documents());
    }

    /** One method's pass over a document: the summed loss, tokens scored, step times and attended rows. */
    private record Scored(double nll, int scored, long[] nanos, double rows, long prefillNanos, long startNanos) {
    }

    private void scoreDocument(ModelSession s, Engine engine, Provenance prov, PerplexityTexts.Document doc, int[] tokens,
                               ResultsFile results, java.util.function.Function<Method.Reference, LlamaReference> references)
            throws IOException {
        List<Method> todo = new ArrayList<>();
        for (Method m : methods) {
            if (!results.isDone(key(prov, m, doc))) {
                todo.add(m);
            }
        }
        if (todo.isEmpty()) {
            return;
        }
        int prefix = Math.min(plan.prefix(), tokens.length - 1);
        int[] head = java.util.Arrays.copyOf(tokens, prefix);
        List<AttentionPolicy> policies = new ArrayList<>();
        PrefillRequest request = PrefillRequest.NONE;
        for (Method m : todo) {
            AttentionPolicy p = m instanceof Method.EngineStrategy e ? e.create(s.weights().hyperParameters(), prefix) : null;
            policies.add(p);
            if (p != null) {
                request = request.union(engine.collects(p.prefillRequest()));
            }
        }
        PrefillResult prefill = null;
        KvSnapshot snap = null;
        try {
            if (policies.stream().anyMatch(p -> p != null)) {
                engine.reset();
                prefill = engine.prefill(head, request, false);
                snap = engine.snapshot();
            }
            for (int i = 0; i < todo.size(); i++) {
                Method method = todo.get(i);
                Scored r;
                if (method instanceof Method.Reference ref) {
                    r = scoreWithLlamaCpp(references.apply(ref), tokens, prefix);
                } else {
                    engine.restore(snap);
                    r = scoreOnEngine(engine, policies.get(i), prefill, tokens, prefix);
                }
                Map<String, String> row = key(prov, method, doc);
                row.put("run_id", plan.runId());
                row.put("timestamp", Instant.now().toString());
                row.putAll(prov.columns());
                row.put("method_name", method.name());
                row.put("metric", "ppl");
                row.put("prompt_tokens", Integer.toString(prefix));
                row.put("prefill_ms", RulerRun.fmt(r.prefillNanos() / 1e6));
                row.put("start_ms", r.startNanos() < 0 ? "" : RulerRun.fmt(r.startNanos() / 1e6));
                RulerRun.putTimings(row, r.nanos());
                row.put("tokens_generated", Integer.toString(r.nanos().length));
                row.put("attended_rows_mean", RulerRun.fmt(r.rows()));
                row.put("nll_sum", RulerRun.fmt(r.nll()));
                row.put("tokens_scored", Integer.toString(r.scored()));
                row.put("kv_fill", "prefill");
                results.append(row);
            }
        } finally {
            if (snap != null) {
                snap.close();
            }
            for (AttentionPolicy p : policies) {
                if (p != null) {
                    p.close();
                }
            }
        }
    }

    /** Teacher-forced decoding of {@code tokens[prefix..]} on the engine from the restored prefill. */
    private static Scored scoreOnEngine(Engine engine, AttentionPolicy policy, PrefillResult prefill, int[] tokens, int prefix) {
        double nll = logProbLoss(prefill.lastLogits(), tokens[prefix]);
        int scored = 1;
        try (Decoder d = engine.decoder(policy, prefill.statistics())) {
            for (int t = prefix; t < tokens.length - 1; t++) {
                float[] logits = d.step(tokens[t]);
                nll += logProbLoss(logits, tokens[t + 1]);
                scored++;
            }
            return new Scored(nll, scored, d.timings().wallNanos(), d.meanAttendedRows(), prefill.nanos(), d.startNanos());
        }
    }

    /**
     * The same through llama_decode: the prefix prefilled (truncated first by
     * {@code llamacpp-shift} when it does not fit its context), then every true token fed,
     * the context shifting as it fills.
     */
    private static Scored scoreWithLlamaCpp(LlamaReference ref, int[] tokens, int prefix) {
        ref.reset();
        float[][] logits = ref.prefill(java.util.Arrays.copyOf(tokens, prefix), false);
        double nll = logProbLoss(logits[logits.length - 1], tokens[prefix]);
        int scored = 1;
        for (int t = prefix; t < tokens.length - 1; t++) {
            nll += logProbLoss(ref.step(tokens[t]), tokens[t + 1]);
            scored++;
        }
        return new Scored(nll, scored, ref.stepNanos(), ref.meanStepRows(0), ref.lastPrefillNanos(), -1);
    }

    /** -log softmax(logits)[target], computed stably in double. */
    static double logProbLoss(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp(x - max);
        }
        return -(logits[target] - max - Math.log(sum));
    }

    private Map<String, String> key(Provenance p, Method method, PerplexityTexts.Document doc) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("kind", "ppl");
        k.put("model_sha256", p.modelSha256());
        k.put("method", method.text());
        k.put("seed", Long.toString(plan.seed()));
        k.put("task", doc.source());
        k.put("length", Integer.toString(plan.prefix() + plan.scored()));
        k.put("sample_index", Integer.toString(doc.index()));
        return k;
    }
}
