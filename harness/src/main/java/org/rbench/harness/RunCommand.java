package org.rbench.harness;

import org.rbench.datasets.RulerTask;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.run.ModelCheck;
import org.rbench.harness.run.CpuThreads;
import org.rbench.harness.run.Models;
import org.rbench.harness.run.PerplexityRun;
import org.rbench.harness.run.RulerRun;
import org.rbench.harness.sweep.Shard;
import org.rbench.harness.sweep.SweepConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code rbench run CONFIG.yaml}: a sweep, resumable, shardable. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a sweep from a YAML config (models x methods x tasks x lengths x samples) into a results CSV."
                + " Re-running resumes; Ctrl-C finishes the current row. Ends by writing the report of the whole CSV"
                + " into the folder beside it (results/x.csv -> results/x-report/) and printing its table.")
final class RunCommand implements Callable<Integer> {
    @Parameters(paramLabel = "CONFIG.yaml")
    Path config;

    @Option(names = "--shard", paramLabel = "i/N", description = "Run shard i of N (0-based); merge with rbench merge.")
    String shard;

    @Option(names = "--out", paramLabel = "FILE", description = "Results CSV (default: the config's 'out'). The report"
            + " (tables and plots of the whole file) goes into the folder beside it: results/x.csv -> results/x-report/.")
    Path out;

    /** Exit status of a sweep that Ctrl-C stopped: no report, the rest resumes next time. */
    static final int STOPPED = 130;

    @Option(names = "--diagnostics", description = "As 'diagnostics: true' in the config: decode each sample again,"
            + " untimed, beside full attention, for attention mass recall and answer coverage per step and layer"
            + " (summary columns in the results CSV, per-step rows in <results>.diagnostics.csv).")
    boolean diagnostics;

    @Override
    public Integer call() throws Exception {
        SweepConfig c = SweepConfig.load(config);
        CpuThreads.warnIfOversubscribed(c.threads(), System.err);
        if (diagnostics) {
            c = c.withDiagnostics(true);
        }
        Shard s = shard == null ? Shard.ALL : Shard.parse(shard);
        Path target = out != null ? out : c.out();
        if (s.count() > 1 && out == null) {
            String name = target.getFileName().toString().replaceFirst("\\.csv$", "");
            target = target.resolveSibling(name + ".shard-" + s.index() + "-of-" + s.count() + ".csv");
        }
        int code = runRuler(c, s, target);
        if (code != 0) {
            return code;
        }
        return SweepSummary.print(c.kind(), target, SweepSummary.reportFolderOf(target), System.out, System.err);
    }

    /**
     * Every model of the sweep, resolved and checked (a GGUF the engine runs, trained for the
     * sweep's lengths) before the results CSV is created: a bad model fails the run with
     * nothing written.
     */
    static List<Path> checkedModels(SweepConfig c) throws Exception {
        int longest = c.lengths().stream().mapToInt(Integer::intValue).max().orElseThrow();
        List<Path> models = new ArrayList<>();
        for (String m : c.models()) {
            Path model = Models.resolve(m, System.err).path();
            ModelCheck check = ModelCheck.of(model);
            if (!c.kind().equals("latency")) { // latency lengths are contexts that bench checks with its steps
                check.contextRows(longest, 0, c.kind().equals("ppl") ? "ppl length" : "length");
            }
            models.add(model);
        }
        return models;
    }

    /**
     * kind: ppl: tasks name the texts (moby-dick, sotu or files), lengths the document
     * lengths, samples the documents per text, max_tokens the tokens scored at the end of
     * each document (default 256; the rest is prefilled).
     */
    static int runPerplexity(SweepConfig c, List<Path> models, Path target) throws Exception {
        int scored = c.maxTokens() != null ? c.maxTokens() : 256;
        for (int length : c.lengths()) {
            if (length <= scored) {
                throw new IllegalArgumentException("ppl length " + length + " must exceed the " + scored + " scored tokens");
            }
        }
        DatasetSources.ensureInstalled();
        String runId = c.name() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        int rows = 0;
        try (ResultsFile results = ResultsFile.open(target)) {
            for (Path model : models) {
                for (int length : c.lengths()) {
                    PerplexityRun run = new PerplexityRun(new PerplexityRun.Plan(runId, model, c.methods(), c.tasks(),
                            length - scored, scored, c.samples(), c.backend(), c.threads(), c.seed()), System.err,
                            new AtomicBoolean());
                    rows += results.write(run::run);
                }
            }
        }
        System.err.println("rbench: " + rows + " rows written to " + target);
        return 0;
    }

    /**
     * kind: latency: lengths are the contexts (filled with synthetic K/V), samples the
     * repetitions, max_tokens the decode steps per measurement (default 64); the same
     * measurement as rbench bench, for every model.
     */
    static int runLatency(SweepConfig c, List<Path> models, Path target) throws Exception {
        for (Path model : models) {
            BenchCommand bench = new BenchCommand();
            bench.model = model;
            bench.methods = c.methods();
            bench.contexts = c.lengths();
            bench.tokens = c.maxTokens() != null ? c.maxTokens() : 64;
            bench.repeats = c.samples();
            bench.fill = "synthetic";
            bench.backend = c.backend();
            bench.threads.count = c.threads();
            bench.out = target;
            bench.seed = c.seed();
            int code = bench.call();
            if (code != 0) {
                return code;
            }
        }
        return 0;
    }

    static int runRuler(SweepConfig c, Shard shard, Path target) throws Exception {
        if (c.kind().equals("latency")) {
            return runLatency(c, checkedModels(c), target);
        }
        if (c.kind().equals("ppl")) {
            return runPerplexity(c, checkedModels(c), target);
        }
        List<RulerTask> tasks = RulerTask.parseList(String.join(",", c.tasks()));
        List<Path> models = checkedModels(c);
        DatasetSources.ensureInstalled();
        String runId = c.name() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        RulerRun.Plan plan = new RulerRun.Plan(runId, models, c.methods(), tasks, c.lengths(), c.samples(), c.seed(),
                c.backend(), c.threads(), c.maxTokens(), shard, c.diagnostics(), c.diagnosticsSteps(), c.prefill());
        AtomicBoolean stop = new AtomicBoolean();
        RulerRun run = new RulerRun(plan, System.err, stop);
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null && Files.exists(parent) && !Files.isWritable(parent)) {
            throw new java.io.IOException("cannot write results into " + parent);
        }
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            // Ctrl-C: let the current row finish and the file close, then exit.
            stop.set(true);
            try {
                finished.await(120, TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        Runtime.getRuntime().addShutdownHook(hook);
        int rows;
        try (ResultsFile results = ResultsFile.open(target)) {
            if (results.completedRows() > 0) {
                System.err.println("rbench: " + target + " already holds " + results.completedRows() + " rows; rows of this sweep among them are not run again");
            }
            rows = results.write(run::run);
        } finally {
            finished.countDown();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // Ctrl-C arrived: the hook is running and returns now that the file is closed.
        }
        System.err.println("rbench: " + rows + " rows written to " + target);
        return stop.get() ? STOPPED : 0;
    }
}
