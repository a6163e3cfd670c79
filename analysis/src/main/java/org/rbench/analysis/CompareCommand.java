package org.rbench.analysis;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code rbench compare BASELINE.csv CANDIDATE.csv [options]}: the nightly job's gate. Prints or
 * writes a Markdown report and exits non-zero when a metric regressed beyond its threshold and
 * significantly (see {@link RunComparator}).
 */
public final class CompareCommand {
    public static final String USAGE = "usage: rbench compare BASELINE.csv CANDIDATE.csv [--report FILE.md]"
            + " [--max-latency-regression PCT] [--max-accuracy-drop POINTS] [--alpha A] [--iterations N] [--seed S]";

    private static final String HELP = USAGE + "\n\n"
            + "Compares a candidate run with a baseline run. Exit status: 0 no regression, 1 regression, 2 usage or\n"
            + "input error. A change is a regression only when it is beyond its threshold AND significant.\n\n"
            + "  --report FILE.md               write the Markdown report there (default: print it)\n"
            + "  --max-latency-regression PCT   allowed increase of median decode ms/token, percent (default "
            + plain(ComparisonThresholds.DEFAULT_MAX_LATENCY_REGRESSION_PERCENT) + ")\n"
            + "  --max-accuracy-drop POINTS     allowed drop of a RULER average, points (default "
            + plain(ComparisonThresholds.DEFAULT_MAX_ACCURACY_DROP_POINTS) + ")\n"
            + "  --alpha A                      significance level (default " + ComparisonThresholds.DEFAULT_ALPHA
            + ")\n"
            + "  --iterations N                 permutation-test resamples (default "
            + RunComparator.DEFAULT_ITERATIONS + ")\n"
            + "  --seed S                       permutation-test seed (default " + RunComparator.DEFAULT_SEED + ")\n";

    private CompareCommand() {
    }

    /** @return 0 when nothing regressed, 1 on a regression, 2 on a usage or input error */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Arguments arguments;
        ComparisonThresholds thresholds;
        int iterations;
        long seed;
        try {
            arguments = Arguments.parse(args, Set.of("report", "max-latency-regression", "max-accuracy-drop", "alpha",
                    "iterations", "seed"));
            if (arguments.help()) {
                out.print(HELP);
                return 0;
            }
            if (arguments.positional().size() != 2) {
                throw new UsageException("expected BASELINE.csv and CANDIDATE.csv, got "
                        + arguments.positional().size() + " file" + (arguments.positional().size() == 1 ? "" : "s"));
            }
            double alpha = arguments.doubleOption("alpha", ComparisonThresholds.DEFAULT_ALPHA, 0, 1);
            if (alpha == 0 || alpha == 1) {
                throw new UsageException("--alpha must be strictly between 0 and 1, got " + arguments.option("alpha"));
            }
            thresholds = new ComparisonThresholds(
                    arguments.doubleOption("max-latency-regression",
                            ComparisonThresholds.DEFAULT_MAX_LATENCY_REGRESSION_PERCENT, 0, Double.POSITIVE_INFINITY),
                    arguments.doubleOption("max-accuracy-drop", ComparisonThresholds.DEFAULT_MAX_ACCURACY_DROP_POINTS,
                            0, 100),
                    alpha);
            iterations = arguments.intOption("iterations", RunComparator.DEFAULT_ITERATIONS, 1);
            seed = arguments.longOption("seed", RunComparator.DEFAULT_SEED);
        } catch (UsageException e) {
            err.println("rbench compare: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }

        String baselineFile = arguments.positional().get(0);
        String candidateFile = arguments.positional().get(1);
        List<ResultRow> baseline;
        List<ResultRow> candidate;
        try {
            ResultsReader reader = new ResultsReader(w -> err.println("warning: " + w));
            baseline = reader.read(Path.of(baselineFile));
            candidate = reader.read(Path.of(candidateFile));
        } catch (ResultsInputException e) {
            err.println("rbench compare: " + e.getMessage());
            return 2;
        }
        if (baseline.isEmpty() || candidate.isEmpty()) {
            err.println("rbench compare: " + (baseline.isEmpty() ? baselineFile : candidateFile) + " contains no rows");
            return 2;
        }

        Comparison comparison = new RunComparator(thresholds, iterations, seed).compare(baseline, candidate);
        if (!comparison.comparedAnything()) {
            // Different models or methods on both sides: passing silently would hide a broken job.
            err.println("rbench compare: nothing to compare, no (model, method, length) is in both files");
            return 2;
        }
        ComparisonReport report = new ComparisonReport(thresholds, iterations, seed);
        String markdown = report.markdown(comparison, baselineFile, candidateFile);
        String reportPath = arguments.option("report");
        if (reportPath == null) {
            out.print(markdown);
        } else {
            try {
                Path file = Path.of(reportPath);
                if (file.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(file.toAbsolutePath().getParent());
                }
                Files.writeString(file, markdown, StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println("rbench compare: cannot write " + reportPath + ": " + e.getMessage());
                return 2;
            }
            out.println(report.resultLine(comparison).replace("**", "") + " Report: " + reportPath);
            report.regressionLines(comparison).forEach(line -> out.println("  " + line));
        }
        return comparison.regressionCount() > 0 ? 1 : 0;
    }

    private static String plain(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
