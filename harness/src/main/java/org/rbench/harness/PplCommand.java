package org.rbench.harness;

import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.run.Method;
import org.rbench.harness.run.Models;
import org.rbench.harness.run.PerplexityRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code rbench ppl}: teacher-forced perplexity of long texts under each method. */
@Command(name = "ppl", mixinStandardHelpOptions = true,
        description = "Perplexity of long texts under each method (teacher-forced decoding, so schedules run as in generation).")
final class PplCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = Models.DEFAULT)
    String model;

    @Option(names = "--methods", defaultValue = "full", split = Method.LIST_SEPARATOR, splitSynopsisLabel = ",", paramLabel = "METHOD", converter = MethodConverters.Any.class,
            description = "Method specs, comma-separated.")
    List<Method> methods;

    @Option(names = "--text", defaultValue = "moby-dick", split = ",",
            description = "Installed texts (moby-dick, sotu) or UTF-8 files, comma-separated.")
    List<String> texts;

    @Option(names = "--prefix", defaultValue = "1024", description = "Tokens prefilled before scoring starts.")
    int prefix;

    @Option(names = "--tokens", defaultValue = "256", description = "Tokens scored per document (decoded one by one).")
    int tokens;

    @Option(names = "--documents", defaultValue = "2", description = "Documents per text.")
    int documents;

    @Option(names = "--backend", defaultValue = "best")
    String backend;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--out", defaultValue = "results/ppl.csv")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path file = Models.resolve(model, System.err).path();
        DatasetSources.ensureInstalled();
        PerplexityRun run = new PerplexityRun(new PerplexityRun.Plan("ppl-" + Instant.now().toString().replace(":", ""),
                file, methods, texts, prefix, tokens, documents, backend, threads.count, 0), System.err, new AtomicBoolean());
        try (ResultsFile results = ResultsFile.open(out)) {
            results.write(run::run);
        }
        // Per-method perplexity over everything in the file for this model: exp(sum nll / sum tokens).
        var rows = org.apache.commons.csv.CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(java.nio.file.Files.newBufferedReader(out));
        java.util.Map<String, double[]> agg = new java.util.LinkedHashMap<>();
        for (var r : rows) {
            if (r.get("kind").equals("ppl") && r.get("model_file").equals(file.getFileName().toString())) {
                double[] a = agg.computeIfAbsent(r.get("method"), k -> new double[3]);
                a[0] += Double.parseDouble(r.get("nll_sum"));
                a[1] += Double.parseDouble(r.get("tokens_scored"));
                a[2] += Double.parseDouble(r.get("attended_rows_mean"));
            }
        }
        System.out.printf("%-34s %12s %10s%n", "method", "perplexity", "tokens");
        agg.forEach((m, a) -> System.out.printf(Locale.ROOT, "%-34s %12.3f %10.0f%n", m, Math.exp(a[0] / a[1]), a[1]));
        System.out.println("rows in " + out);
        return 0;
    }
}
