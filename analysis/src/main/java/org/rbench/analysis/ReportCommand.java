package org.rbench.analysis;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
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
 * {@code rbench report RESULTS.csv... --out DIR [--bootstrap N] [--seed S]}: reads one or more
 * results files and writes the tables and plots into DIR (see {@link ReportWriter}).
 */
@Command(name = "report", sortOptions = false, showDefaultValues = true,
        description = {"Paper-style tables (Markdown, LaTeX, CSV) and plots (PNG, SVG) from results CSVs.",
                "Files written into DIR:",
                "  summary.{md,tex,csv}   RULER average, 95%% CI, s/example, ms/token, speedup",
                "  per_task.{md,tex,csv}  RULER accuracy per task",
                "  ppl.{md,tex,csv}       perplexity per dataset (with ppl rows)",
                "  latency.{md,csv}       decode latency per length (with latency rows)",
                "  coverage.md, coverage.csv, coverage_by_step.csv",
                "                         answer coverage per method and by decode step (with",
                "                         diagnostics files beside the results: X.diagnostics.csv)",
                "  plots/*.{png,svg}      accuracy/speed frontier, ms/token vs length,",
                "                         attention mass recall, speedup vs bound (rows with one), answer",
                "                         coverage and focus-layer mass recall by decode step", ""},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:tables and plots written", "2:usage or input error"})
public final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RESULTS.csv", description = "Results files (schema: docs/CSV.md).")
    List<Path> files;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for the tables and plots.")
    Path out;

    @Option(names = "--bootstrap", paramLabel = "N", defaultValue = "" + ResultsAggregator.DEFAULT_BOOTSTRAP_RESAMPLES,
            description = "Bootstrap resamples for the confidence intervals; 0 turns them off.")
    int bootstrap;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + ResultsAggregator.DEFAULT_SEED,
            description = "Bootstrap seed.")
    long seed;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    /**
     * Runs the command on {@code args} (as on the command line after {@code report}), printing to
     * the given streams. Never calls {@code System.exit}.
     *
     * @return 0 on success, 2 on a usage or input error
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return Cli.execute(new ReportCommand(), args, out, err);
    }

    @Override
    public Integer call() {
        if (bootstrap < 0) {
            throw new ParameterException(spec.commandLine(), "--bootstrap must be at least 0, not " + bootstrap);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        try {
            return report(stdout, stderr);
        } finally {
            stdout.flush();
            stderr.flush();
        }
    }

    private int report(PrintWriter stdout, PrintWriter stderr) {
        List<ResultRow> rows;
        List<StepRow> steps;
        try {
            rows = new ResultsReader(w -> stderr.println("warning: " + w)).readAll(files);
            steps = new StepRowsReader().readBesides(files);
        } catch (ResultsInputException e) {
            stderr.println("rbench report: " + e.getMessage());
            return 2;
        }
        if (rows.isEmpty()) {
            stderr.println("rbench report: the results files contain no rows");
            return 2;
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            stderr.println("rbench report: --out " + out + " is a file, not a directory");
            return 2;
        }
        try {
            List<Path> written = new ReportWriter(new ResultsAggregator(bootstrap, seed),
                    w -> stderr.println("warning: " + w)).write(rows, steps, out);
            stdout.println("rbench report: " + rows.size() + " rows, wrote " + written.size() + " files to " + out);
            for (Path file : written) {
                stdout.println("  " + out.relativize(file));
            }
            return 0;
        } catch (IOException e) {
            // Some IOExceptions carry only a path as message; the type says what went wrong.
            stderr.println("rbench report: cannot write to " + out + ": " + e.getClass().getSimpleName() + ": "
                    + e.getMessage());
            return 2;
        }
    }
}
