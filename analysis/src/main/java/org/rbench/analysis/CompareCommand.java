package org.rbench.analysis;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code rbench compare BASELINE.csv CANDIDATE.csv [options]}: the nightly job's gate. Prints or
 * writes a Markdown report and exits non-zero when a metric regressed beyond its threshold and
 * significantly (see {@link RunComparator}).
 */
@Command(name = "compare", sortOptions = false, showDefaultValues = true,
        description = {"Compare two runs (the nightly gate): exit 1 on a significant regression.",
                "A change is a regression only when it is beyond its threshold AND significant.", ""},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:no regression", "1:regression", "2:usage or input error"})
public final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BASELINE.csv", description = "The baseline run's results.")
    Path baselineFile;

    @Parameters(index = "1", paramLabel = "CANDIDATE.csv", description = "The candidate run's results.")
    Path candidateFile;

    @Option(names = "--report", paramLabel = "FILE.md",
            description = "Write the Markdown report there (default: print it).")
    Path reportFile;

    @Option(names = "--max-latency-regression", paramLabel = "PCT",
            defaultValue = "" + ComparisonThresholds.DEFAULT_MAX_LATENCY_REGRESSION_PERCENT,
            description = "Allowed increase of median decode ms/token, percent.")
    double maxLatencyRegression;

    @Option(names = "--max-accuracy-drop", paramLabel = "POINTS",
            defaultValue = "" + ComparisonThresholds.DEFAULT_MAX_ACCURACY_DROP_POINTS,
            description = "Allowed drop of a RULER average, points (0 to 100).")
    double maxAccuracyDrop;

    @Option(names = "--alpha", paramLabel = "A", defaultValue = "" + ComparisonThresholds.DEFAULT_ALPHA,
            description = "Significance level, strictly between 0 and 1.")
    double alpha;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "" + RunComparator.DEFAULT_ITERATIONS,
            description = "Permutation-test resamples.")
    int iterations;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + RunComparator.DEFAULT_SEED,
            description = "Permutation-test seed.")
    long seed;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    /**
     * Runs the command on {@code args} (as on the command line after {@code compare}), printing
     * to the given streams. Never calls {@code System.exit}.
     *
     * @return 0 when nothing regressed, 1 on a regression, 2 on a usage or input error
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return Cli.execute(new CompareCommand(), args, out, err);
    }

    /** The thresholds from the options; a value out of range is a usage error. */
    private ComparisonThresholds thresholds() {
        if (!(alpha > 0 && alpha < 1)) {
            throw usageError("--alpha must be strictly between 0 and 1, not " + alpha);
        }
        if (!(maxLatencyRegression >= 0)) {
            throw usageError("--max-latency-regression must be at least 0, not " + maxLatencyRegression);
        }
        if (!(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 100)) {
            throw usageError("--max-accuracy-drop must be between 0 and 100, not " + maxAccuracyDrop);
        }
        if (iterations < 1) {
            throw usageError("--iterations must be at least 1, not " + iterations);
        }
        return new ComparisonThresholds(maxLatencyRegression, maxAccuracyDrop, alpha);
    }

    private ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    @Override
    public Integer call() {
        ComparisonThresholds thresholds = thresholds();
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        try {
            return compare(thresholds, stdout, stderr);
        } finally {
            stdout.flush();
            stderr.flush();
        }
    }

    private int compare(ComparisonThresholds thresholds, PrintWriter stdout, PrintWriter stderr) {
        List<ResultRow> baseline;
        List<ResultRow> candidate;
        try {
            ResultsReader reader = new ResultsReader(w -> stderr.println("warning: " + w));
            baseline = reader.read(baselineFile);
            candidate = reader.read(candidateFile);
        } catch (ResultsInputException e) {
            stderr.println("rbench compare: " + e.getMessage());
            return 2;
        }
        if (baseline.isEmpty() || candidate.isEmpty()) {
            stderr.println("rbench compare: " + (baseline.isEmpty() ? baselineFile : candidateFile) + " contains no rows");
            return 2;
        }

        Comparison comparison = new RunComparator(thresholds, iterations, seed).compare(baseline, candidate);
        if (!comparison.comparedAnything()) {
            // Different models or methods on both sides: passing silently would hide a broken job.
            stderr.println("rbench compare: nothing to compare, no (model, method, length) is in both files");
            return 2;
        }
        ComparisonReport report = new ComparisonReport(thresholds, iterations, seed);
        String markdown = report.markdown(comparison, baselineFile.toString(), candidateFile.toString());
        if (reportFile == null) {
            stdout.print(markdown);
        } else {
            try {
                Path parent = reportFile.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(reportFile, markdown, StandardCharsets.UTF_8);
            } catch (IOException e) {
                stderr.println("rbench compare: cannot write " + reportFile + ": " + e.getMessage());
                return 2;
            }
            stdout.println(report.resultLine(comparison).replace("**", "") + " Report: " + reportFile);
            report.regressionLines(comparison).forEach(line -> stdout.println("  " + line));
        }
        return comparison.regressionCount() > 0 ? 1 : 0;
    }
}
