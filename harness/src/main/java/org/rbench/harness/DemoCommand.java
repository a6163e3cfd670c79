package org.rbench.harness;

import org.rbench.harness.run.Models;
import org.rbench.harness.sweep.Shard;
import org.rbench.harness.sweep.SweepConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code rbench demo}: the main job. A small RULER sweep of full attention, Recycled
 * Attention, StreamingLLM and H2O (same budget K) on the embedded default model, then full
 * attention and Recycled Attention on the embedded model fine-tuned to decode as Recycled
 * Attention does ({@link Models#RECYCLED_TUNED}), all with diagnostics (each method decodes
 * again, untimed, beside full attention); then the paper-style table per model, the answer
 * coverage of each method and the plots. Sized to finish in a minute or two on 2 CPU cores;
 * re-running resumes (and is instant when everything is done).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run a small RULER sweep of every method on the embedded default model, and of full and Recycled"
                + " Attention on the model fine-tuned for Recycled Attention; print the tables, write CSV and plots.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (default: results/demo).")
    Path out = Path.of("results", "demo");

    @Option(names = "--samples", description = "Samples per task and length (default: ${DEFAULT-VALUE}).")
    int samples = 3;

    @Option(names = "--model", description = "A GGUF model instead of the embedded default (the fine-tuned model's rows are then left out).")
    String model = Models.DEFAULT;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--backend", description = "cpu, cuda, metal or best (default: ${DEFAULT-VALUE}).")
    String backend = "best";

    static final List<String> TASKS = List.of("niah_single_1", "niah_single_2", "niah_multikey_2", "vt", "fwe");
    static final List<Integer> LENGTHS = List.of(2048, 4096);
    static final int BUDGET = 256;

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(out);
        String recycled = "recycled:k=" + BUDGET + ",s=16";
        List<String> methods = List.of("full", recycled, "streamingllm:k=" + BUDGET, "h2o:k=" + BUDGET);
        Path csv = out.resolve("results.csv");
        System.err.printf("rbench demo: %d tasks x %s tokens x %d samples x %d methods (K=%d) -> %s%n",
                TASKS.size(), LENGTHS, samples, methods.size(), BUDGET, csv);
        SweepConfig config = sweep(model, methods);
        int code = RunCommand.runRuler(config, Shard.ALL, csv);
        if (code != 0) {
            return code;
        }
        boolean tuned = model.equals(Models.DEFAULT) && Models.isEmbeddedPresent(Models.RECYCLED_TUNED);
        if (tuned) {
            // the same prompts on the fine-tuned model, into the same CSV: its rows are keyed by model
            System.err.printf("rbench demo: the same on %s (fine-tuned for Recycled Attention): full and %s%n",
                    Models.RECYCLED_TUNED, recycled);
            code = RunCommand.runRuler(sweep(Models.RECYCLED_TUNED, List.of("full", recycled)), Shard.ALL, csv);
            if (code != 0) {
                return code;
            }
        }
        code = SweepSummary.print(config.kind(), csv, out.resolve("report"), System.out, System.err);
        if (code != 0) {
            return code;
        }
        if (!Files.isRegularFile(out.resolve("report").resolve("coverage.md"))) {
            System.out.println("No answer coverage: " + csv + " was written without diagnostics (by an older version);"
                    + " move " + out + " away and run the demo again to measure it.");
        }
        System.out.println("Method order: full attention, then the K=" + BUDGET + " methods; speedup is against full in this run.");
        if (tuned) {
            System.out.println(Models.EMBEDDED.get(Models.RECYCLED_TUNED) + " is " + Models.EMBEDDED.get(Models.DEFAULT)
                    + " fine-tuned to decode as Recycled Attention does (models/README.md).");
        } else if (model.equals(Models.DEFAULT)) {
            System.out.println("The fine-tuned model (models/" + Models.EMBEDDED.get(Models.RECYCLED_TUNED)
                    + ") is missing from this checkout: its rows were left out.");
        }
        return 0;
    }

    private SweepConfig sweep(String modelName, List<String> methods) {
        Map<String, Object> cfg = Map.ofEntries(Map.entry("name", "demo"), Map.entry("kind", "ruler"),
                Map.entry("models", List.of(modelName)), Map.entry("methods", methods), Map.entry("tasks", TASKS),
                Map.entry("lengths", LENGTHS), Map.entry("samples", samples), Map.entry("seed", 42),
                Map.entry("backend", backend), Map.entry("threads", threads.count), Map.entry("diagnostics", true));
        return SweepConfigs.of(cfg);
    }
}
