package org.rbench.core.bench;

import org.rbench.core.attention.FullAttention;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.reference.LlamaReference;
import org.rbench.gguf.ModelSpec;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Decode speed of the engine (full attention) against llama_decode on the same model,
 * backend and threads, at several context depths: both prefill the same random prompt of
 * the depth's length, then decode in alternating blocks (so drift in a shared machine's
 * load hits both alike) and the per-step wall times are compared. Not a unit test: a
 * harness command or {@link #main} runs it and writes CSV.
 */
public final class DecodeBenchmark {
    private DecodeBenchmark() {
    }

    /**
     * @param contexts     depths (prompt tokens before decoding starts)
     * @param steps        timed decode steps per side and depth
     * @param warmupSteps  untimed steps per side first
     * @param block        steps per side before switching to the other
     */
    public record Config(Path model, String backend, int threads, List<Integer> contexts, int steps, int warmupSteps,
                         int block, GgmlType cacheType, boolean flashAttention, int microBatch, long seed) {
        public Config {
            contexts = List.copyOf(contexts);
            if (steps <= 0 || warmupSteps < 0 || block <= 0 || threads <= 0 || microBatch <= 0 || contexts.isEmpty()) {
                throw new IllegalArgumentException("steps, block, threads and micro-batch must be positive; contexts non-empty");
            }
        }

        public static Config defaults(Path model, int threads) {
            return new Config(model, "cpu", threads, List.of(1024, 4096, 16384), 128, 64, 4, GgmlType.F16, true, 512, 1);
        }
    }

    /** One side at one depth. */
    public record Row(String engine, String model, String backend, String device, int threads, int context,
                      GgmlType cacheType, boolean flashAttention, double prefillMs, int steps, double decodeMsMean,
                      double decodeMsP50, double decodeMsP90, double tokensPerSecond) {
    }

    /**
     * The model the committed CPU numbers were measured on (core/benchmarks): Llama
     * architecture with GQA 4:1, d=512, 8 layers, 8 heads of 64, 2 KV heads, n_ff 1536,
     * vocabulary 32000, random weights. Small enough that a 16K prefill takes a minute on
     * two cores, large enough that attention dominates at 16K.
     */
    public static ModelSpec benchmarkModel(GgmlType weights) {
        return ModelSpec.preset("bench-512", weights);
    }

    public static List<Row> run(Config c, Consumer<String> log) {
        LlamaCpp.initialise();
        List<Row> rows = new ArrayList<>();
        String modelName = c.model().getFileName().toString();
        try (Backend backend = Backends.open(c.backend(), c.threads());
             ModelWeights weights = ModelWeights.load(c.model(), backend)) {
            int vocab = weights.hyperParameters().vocabSize();
            for (int depth : c.contexts()) {
                int total = depth + c.warmupSteps() + c.steps() + 1;
                int[] prompt = new SplittableRandom(c.seed() + depth).ints(depth, 0, vocab).toArray();
                EngineOptions options = EngineOptions.defaults(total).withCacheType(c.cacheType())
                        .withFlashAttention(c.flashAttention()).withMicroBatch(c.microBatch());
                try (Engine engine = Engine.open(weights, options);
                     LlamaReference reference = new LlamaReference(c.model(), total, c.microBatch(), c.threads(),
                             c.flashAttention(), c.cacheType(), !backend.isCpu())) {
                    PrefillResult mine = engine.prefill(prompt);
                    log.accept(String.format(Locale.ROOT, "depth %d: engine prefill %.1f s", depth, mine.nanos() / 1e9));
                    float[] theirs = reference.prefill(prompt, false)[0];
                    log.accept(String.format(Locale.ROOT, "depth %d: llama.cpp prefill %.1f s", depth,
                            reference.lastPrefillNanos() / 1e9));
                    try (Decoder decoder = engine.decoder(new FullAttention(), mine.statistics())) {
                        int myToken = Greedy.argmax(mine.lastLogits());
                        int theirToken = Greedy.argmax(theirs);
                        for (int i = 0; i < c.warmupSteps(); i++) {
                            myToken = Greedy.argmax(decoder.step(myToken));
                            theirToken = Greedy.argmax(reference.step(theirToken));
                        }
                        long[] mineNanos = new long[c.steps()];
                        long[] theirNanos = new long[c.steps()];
                        for (int done = 0; done < c.steps(); ) {
                            int n = Math.min(c.block(), c.steps() - done);
                            for (int i = 0; i < n; i++) {
                                long t0 = System.nanoTime();
                                myToken = Greedy.argmax(decoder.step(myToken));
                                mineNanos[done + i] = System.nanoTime() - t0;
                            }
                            for (int i = 0; i < n; i++) {
                                long t0 = System.nanoTime();
                                theirToken = Greedy.argmax(reference.step(theirToken));
                                theirNanos[done + i] = System.nanoTime() - t0;
                            }
                            done += n;
                        }
                        rows.add(row("rbench", modelName, backend, c, depth, mine.nanos(), mineNanos));
                        rows.add(row("llama.cpp", modelName, backend, c, depth, reference.lastPrefillNanos(), theirNanos));
                        Row a = rows.get(rows.size() - 2);
                        Row b = rows.getLast();
                        log.accept(String.format(Locale.ROOT, "depth %d: engine %.2f tok/s (p50 %.3f ms), llama.cpp %.2f tok/s"
                                        + " (p50 %.3f ms), ratio %.3f (by median %.3f)", depth, a.tokensPerSecond(),
                                a.decodeMsP50(), b.tokensPerSecond(), b.decodeMsP50(), a.tokensPerSecond() / b.tokensPerSecond(),
                                b.decodeMsP50() / a.decodeMsP50()));
                    }
                }
            }
        }
        return rows;
    }

    private static Row row(String engine, String model, Backend backend, Config c, int depth, long prefillNanos, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double mean = Arrays.stream(nanos).average().orElse(0) / 1e6;
        return new Row(engine, model, backend.kind(), backend.deviceDescription(), c.threads(), depth, c.cacheType(),
                c.flashAttention(), prefillNanos / 1e6, nanos.length, mean, percentile(sorted, 0.5) / 1e6,
                percentile(sorted, 0.9) / 1e6, 1000.0 / mean);
    }

    private static double percentile(long[] sorted, double p) {
        int i = (int) Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)));
        return sorted[i];
    }

    public static void writeCsv(List<Row> rows, Path out) throws IOException {
        try (Writer w = Files.newBufferedWriter(out)) {
            w.write("engine,model_file,backend,device,threads,context,cache_type,flash_attention,llamacpp_version,ggml_version,"
                    + "prefill_ms,tokens_generated,decode_ms_mean,decode_ms_p50,decode_ms_p90,tokens_per_second\n");
            LlamaCpp.Info info = LlamaCpp.initialise();
            String release = info.location().release();
            String version = info.ggmlVersion();
            for (Row r : rows) {
                w.write(String.join(",", r.engine(), quote(r.model()), r.backend(), quote(r.device()),
                        Integer.toString(r.threads()), Integer.toString(r.context()), r.cacheType().name(),
                        Boolean.toString(r.flashAttention()), quote(release), quote(version), fmt(r.prefillMs()), Integer.toString(r.steps()),
                        fmt(r.decodeMsMean()), fmt(r.decodeMsP50()), fmt(r.decodeMsP90()), fmt(r.tokensPerSecond())));
                w.write('\n');
            }
        }
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }

    /**
     * {@code java ... DecodeBenchmark MODEL.gguf OUT.csv [threads] [contexts,comma,separated] [steps]}
     */
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: DecodeBenchmark MODEL.gguf OUT.csv [threads] [1024,4096,16384] [steps]");
            System.exit(2);
        }
        Config c = Config.defaults(Path.of(args[0]), args.length > 2 ? Integer.parseInt(args[2]) : 2);
        if (args.length > 3) {
            c = new Config(c.model(), c.backend(), c.threads(),
                    Arrays.stream(args[3].split(",")).map(Integer::parseInt).toList(),
                    c.steps(), c.warmupSteps(), c.block(), c.cacheType(), c.flashAttention(), c.microBatch(), c.seed());
        }
        if (args.length > 4) {
            c = new Config(c.model(), c.backend(), c.threads(), c.contexts(), Integer.parseInt(args[4]), c.warmupSteps(),
                    c.block(), c.cacheType(), c.flashAttention(), c.microBatch(), c.seed());
        }
        List<Row> rows = run(c, System.err::println);
        writeCsv(rows, Path.of(args[1]));
    }
}
