package org.rbench.analysis;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code rbench report RESULTS.csv... --out DIR [--bootstrap N] [--seed S]}: reads one or more
 * results files and writes the tables and plots into DIR (see {@link ReportWriter}).
 */
public final class ReportCommand {
    public static final String USAGE = "usage: rbench report RESULTS.csv... --out DIR [--bootstrap N] [--seed S]";

    private static final String HELP = USAGE + "\n\n"
            + "Writes paper-style tables (Markdown, LaTeX, CSV) and plots (PNG, SVG) into DIR:\n"
            + "  summary.{md,tex,csv}   RULER average per method and length, 95% CI, s/example, ms/token, speedup\n"
            + "  per_task.{md,tex,csv}  RULER accuracy per task\n"
            + "  ppl.{md,tex,csv}       perplexity per dataset (when there are ppl rows)\n"
            + "  latency.{md,csv}       decode latency per length (when there are latency rows)\n"
            + "  plots/*.png, *.svg     frontier, ms/token vs length, attention mass recall, speedup vs bound\n\n"
            + "  --bootstrap N  bootstrap resamples for confidence intervals (default "
            + ResultsAggregator.DEFAULT_BOOTSTRAP_RESAMPLES + "; 0 turns them off)\n"
            + "  --seed S       bootstrap seed (default " + ResultsAggregator.DEFAULT_SEED + ")\n";

    private ReportCommand() {
    }

    /** @return 0 on success, 2 on a usage or input error */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Arguments arguments;
        int resamples;
        long seed;
        try {
            arguments = Arguments.parse(args, Set.of("out", "bootstrap", "seed"));
            if (arguments.help()) {
                out.print(HELP);
                return 0;
            }
            if (arguments.positional().isEmpty()) {
                throw new UsageException("no results file given");
            }
            if (arguments.option("out") == null) {
                throw new UsageException("--out DIR is required");
            }
            resamples = arguments.intOption("bootstrap", ResultsAggregator.DEFAULT_BOOTSTRAP_RESAMPLES, 0);
            seed = arguments.longOption("seed", ResultsAggregator.DEFAULT_SEED);
        } catch (UsageException e) {
            err.println("rbench report: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }

        List<ResultRow> rows;
        try {
            List<Path> files = arguments.positional().stream().map(Path::of).toList();
            rows = new ResultsReader(w -> err.println("warning: " + w)).readAll(files);
        } catch (ResultsInputException e) {
            err.println("rbench report: " + e.getMessage());
            return 2;
        }
        if (rows.isEmpty()) {
            err.println("rbench report: the results files contain no rows");
            return 2;
        }

        Path directory = Path.of(arguments.option("out"));
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            err.println("rbench report: --out " + directory + " is a file, not a directory");
            return 2;
        }
        try {
            List<Path> written = new ReportWriter(new ResultsAggregator(resamples, seed)).write(rows, directory);
            out.println("rbench report: " + rows.size() + " rows, wrote " + written.size() + " files to " + directory);
            for (Path file : written) {
                out.println("  " + directory.relativize(file));
            }
            return 0;
        } catch (IOException e) {
            // Some IOExceptions carry only a path as message; the type says what went wrong.
            err.println("rbench report: cannot write to " + directory + ": " + e.getClass().getSimpleName() + ": "
                    + e.getMessage());
            return 2;
        }
    }
}
