package org.rbench.harness.history;

import org.rbench.analysis.ComparisonThresholds;
import org.rbench.analysis.NightlyHistory;
import org.rbench.analysis.NightlyMeasurement;
import org.rbench.analysis.NightlyMetrics;
import org.rbench.analysis.ResultRow;
import org.rbench.analysis.ResultsInputException;
import org.rbench.analysis.ResultsReader;
import org.rbench.analysis.TrendCheck;
import org.rbench.analysis.TrendCheckResult;
import org.rbench.analysis.TrendChange;
import org.rbench.analysis.TrendPlot;
import org.rbench.analysis.TrendPlotRenderer;
import org.rbench.analysis.TrendPlots;
import org.rbench.analysis.TrendTable;
import org.rbench.analysis.XyTrendPlotRenderer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;

/**
 * {@code rbench history}: the nightly results as a history ({@link HistoryDatabase}) and its
 * trends: {@code add} a night's results CSVs, {@code show} the trend table, {@code plot} the
 * trend lines with their noise bands, {@code check} the newest night against the nights before
 * it. Input and usage errors exit 2, a regression found by {@code check} exits 1.
 */
@Command(name = "history", mixinStandardHelpOptions = true,
        description = "Nightly results in an SQLite history: add a night, show the trends, plot them, check the newest night.",
        subcommands = {HistoryCommand.Add.class, HistoryCommand.Show.class, HistoryCommand.Plot.class,
                HistoryCommand.Check.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done (check: no regression)", "1:check: a regression", "2:usage or input error"})
public final class HistoryCommand implements Callable<Integer> {
    static final String DEFAULT_DB = "results/history.sqlite";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    /** The history file, shared by every verb. */
    static final class DatabaseOption {
        @Option(names = "--db", paramLabel = "FILE", defaultValue = DEFAULT_DB,
                description = "The history database (SQLite; default: ${DEFAULT-VALUE}).")
        Path file;
    }

    /** The noise band: how many previous nights, at which significance. */
    static final class BandOptions {
        @Option(names = "--window", paramLabel = "N", defaultValue = "" + TrendCheck.DEFAULT_WINDOW,
                description = "Previous nights the noise band is estimated from (at least 2; default: ${DEFAULT-VALUE}).")
        int window;

        @Option(names = "--alpha", paramLabel = "A", defaultValue = "" + ComparisonThresholds.DEFAULT_ALPHA,
                description = "Significance level: the noise band is the (1 - A) prediction interval (default: ${DEFAULT-VALUE}).")
        double alpha;

        void validate(CommandSpec spec) {
            if (!(alpha > 0 && alpha < 1)) {
                throw new ParameterException(spec.commandLine(), "--alpha must be strictly between 0 and 1, not " + alpha);
            }
            if (window < 2) {
                throw new ParameterException(spec.commandLine(), "--window must be at least 2, not " + window);
            }
        }
    }

    /** When a change is a regression: compare's thresholds, judged against the previous nights' noise. */
    static final class GateOptions {
        @Mixin
        BandOptions band;

        @Option(names = "--max-latency-regression", paramLabel = "PCT",
                defaultValue = "" + ComparisonThresholds.DEFAULT_MAX_LATENCY_REGRESSION_PERCENT,
                description = "Allowed increase of ms/token and s/example, percent (default: ${DEFAULT-VALUE}).")
        double maxLatencyRegression;

        @Option(names = "--max-accuracy-drop", paramLabel = "POINTS",
                defaultValue = "" + ComparisonThresholds.DEFAULT_MAX_ACCURACY_DROP_POINTS,
                description = "Allowed drop of a RULER average, points (default: ${DEFAULT-VALUE}).")
        double maxAccuracyDrop;

        TrendCheck check(CommandSpec spec) {
            band.validate(spec);
            if (!(maxLatencyRegression >= 0) || !(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 100)) {
                throw new ParameterException(spec.commandLine(),
                        "--max-latency-regression must be at least 0 and --max-accuracy-drop between 0 and 100");
            }
            return new TrendCheck(new ComparisonThresholds(maxLatencyRegression, maxAccuracyDrop, band.alpha), band.window);
        }
    }

    /** Which metrics a verb shows: names starting with one of the prefixes, or all. */
    static final class MetricFilter {
        @Option(names = "--metric", paramLabel = "PREFIX", split = ",",
                description = "Only metrics whose name starts with one of these (latency., ruler.accuracy, ...).")
        List<String> prefixes = List.of();

        Predicate<String> predicate() {
            return name -> prefixes.isEmpty() || prefixes.stream().anyMatch(name::startsWith);
        }
    }

    /** Runs a verb, turning bad input into one line on stderr and exit status 2. */
    abstract static class Verb implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public final Integer call() {
            try {
                return run(System.out);
            } catch (HistoryException | ResultsInputException | IllegalArgumentException | IOException e) {
                System.err.println("rbench history " + spec.name() + ": " + e.getMessage());
                return 2;
            }
        }

        abstract int run(PrintStream out) throws HistoryException, ResultsInputException, IOException;

        NightlyHistory load(Path db) throws HistoryException {
            try (HistoryDatabase history = HistoryDatabase.open(db, false)) {
                NightlyHistory nights = new NightlyHistory(history.all());
                if (nights.isEmpty()) {
                    throw new HistoryException(db + ": the history is empty (rbench history add adds a night)");
                }
                return nights;
            }
        }

        /** Writes the text to the file, or prints it when there is none. */
        static void emit(String text, Path file, PrintStream out) throws IOException {
            if (file == null) {
                out.print(text);
                return;
            }
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, text, StandardCharsets.UTF_8);
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Add a night's results CSVs to the history: per (suite commit, machine, backend, model, method,"
                    + " length) its ms/token and tokens/s (latency rows), RULER accuracy, s/example and ms/token, and"
                    + " perplexity. Adding the same night again replaces its rows.", ""})
    static final class Add extends Verb {
        @Parameters(paramLabel = "RESULTS.csv", arity = "1..*", description = "Results CSVs of one night (docs/CSV.md).")
        List<Path> files;

        @Mixin
        DatabaseOption db;

        @Option(names = "--night", paramLabel = "YYYY-MM-DD", description = "The night the results belong to (default: today).")
        String night;

        @Option(names = "--machine", paramLabel = "NAME",
                description = "The machine's name (default: each row's device column, e.g. the CPU model).")
        String machine;

        @Override
        int run(PrintStream out) throws HistoryException, ResultsInputException {
            String date = night(night, spec);
            if (machine != null && machine.isBlank()) {
                throw new ParameterException(spec.commandLine(), "--machine must not be blank");
            }
            ResultsReader reader = new ResultsReader(w -> System.err.println("warning: " + w));
            List<ResultRow> rows = reader.readAll(files);
            List<NightlyMeasurement> measurements = NightlyMetrics.of(rows, date, machine);
            if (measurements.isEmpty()) {
                throw new HistoryException("nothing to add: " + files + " hold no latency, ruler or ppl rows with values");
            }
            HistoryDatabase.Added added;
            try (HistoryDatabase history = HistoryDatabase.open(db.file, true)) {
                added = history.add(measurements, String.join(" ", files.stream().map(Path::toString).toList()));
            }
            Set<String> settings = new LinkedHashSet<>();
            Set<String> commits = new LinkedHashSet<>();
            measurements.forEach(m -> {
                settings.add(m.series().setting());
                commits.add(m.suiteCommit());
            });
            out.printf("%s: night %s, %d rows (%d replaced a row added before), commit %s, %s%n", db.file, date,
                    added.rows(), added.replaced(), String.join(", ", commits), String.join("; ", settings));
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"The trend table: per setting, a row per metric, method and length, a column per night,"
                    + " then the newest night's noise band and verdict (as check judges it).", ""})
    static final class Show extends Verb {
        @Mixin
        DatabaseOption db;

        @Option(names = "--nights", paramLabel = "K", defaultValue = "7", description = "Latest nights shown (default: ${DEFAULT-VALUE}).")
        int nights;

        @Mixin
        MetricFilter metrics;

        @Mixin
        GateOptions gate;

        @Option(names = "--format", paramLabel = "md|csv", defaultValue = "md", description = "Output format (default: ${DEFAULT-VALUE}).")
        String format;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the table there (default: print it).")
        Path outFile;

        @Override
        int run(PrintStream out) throws HistoryException, IOException {
            if (!format.equals("md") && !format.equals("csv")) {
                throw new ParameterException(spec.commandLine(), "--format must be md or csv, not " + format);
            }
            if (nights < 1) {
                throw new ParameterException(spec.commandLine(), "--nights must be at least 1, not " + nights);
            }
            TrendTable table = new TrendTable(gate.check(spec), nights);
            NightlyHistory history = load(db.file);
            if (table.tables(history, metrics.predicate()).isEmpty()) {
                throw new HistoryException("no metric matches " + metrics.prefixes);
            }
            emit(format.equals("md") ? table.markdown(history, metrics.predicate()) : table.csv(history, metrics.predicate()),
                    outFile, out);
            return 0;
        }
    }

    @Command(name = "plot", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Trend plots (PNG and SVG): per setting, metric and length, a line per method over the"
                    + " nights, each point with the noise band of the nights before it.", ""})
    static final class Plot extends Verb {
        @Mixin
        DatabaseOption db;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Folder for the plots.")
        Path dir;

        @Option(names = "--nights", paramLabel = "K", defaultValue = "30", description = "Latest nights plotted (default: ${DEFAULT-VALUE}).")
        int nights;

        @Mixin
        MetricFilter metrics;

        @Mixin
        BandOptions band;

        /** The plotting library behind the plots; see {@link TrendPlotRenderer}. */
        private final TrendPlotRenderer renderer = new XyTrendPlotRenderer();

        @Override
        int run(PrintStream out) throws HistoryException, IOException {
            if (nights < 1) {
                throw new ParameterException(spec.commandLine(), "--nights must be at least 1, not " + nights);
            }
            band.validate(spec);
            NightlyHistory history = load(db.file);
            List<TrendPlot> plots = new TrendPlots(nights, band.window, band.alpha)
                    .plots(history, metrics.predicate());
            if (plots.isEmpty()) {
                throw new HistoryException("no metric matches " + metrics.prefixes);
            }
            List<Path> written = new ArrayList<>();
            for (TrendPlot plot : plots) {
                written.addAll(renderer.write(plot, dir));
            }
            out.printf("%d plots (%d files) in %s%n", plots.size(), written.size(), dir);
            return 0;
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Check a night (default: the newest) against each series' previous nights: exit 1 when a"
                    + " gated metric (ms/token, s/example, RULER accuracy) changed beyond its threshold AND outside the"
                    + " night-to-night noise band, naming it.", ""},
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {"0:no regression", "1:regression", "2:usage or input error"})
    static final class Check extends Verb {
        @Mixin
        DatabaseOption db;

        @Option(names = "--night", paramLabel = "YYYY-MM-DD", description = "The night to check (default: the newest).")
        String night;

        @Mixin
        GateOptions gate;

        @Option(names = "--report", paramLabel = "FILE.md", description = "Write the Markdown report there (default: print it).")
        Path report;

        @Override
        int run(PrintStream out) throws HistoryException, IOException {
            TrendCheck check = gate.check(spec);
            String date = night == null ? null : night(night, spec);
            TrendCheckResult result = check.check(load(db.file), date);
            if (report == null) {
                out.print(result.markdown());
            } else {
                emit(result.markdown(), report, out);
                out.println(result.resultLine() + " Report: " + report);
                for (TrendChange c : result.regressions()) {
                    out.println("  REGRESSION " + c.describe());
                }
            }
            return result.regressions().isEmpty() ? 0 : 1;
        }
    }

    /** The --night value, checked: an ISO date, default today. */
    static String night(String value, CommandSpec spec) {
        if (value == null) {
            return LocalDate.now().toString();
        }
        try {
            return LocalDate.parse(value).toString();
        } catch (DateTimeParseException e) {
            throw new ParameterException(spec.commandLine(), "--night must be a date like 2026-12-04, not '" + value + "'");
        }
    }

    /** For tests and scripts: runs {@code rbench history ARGS} and returns the exit status. */
    public static int run(String... args) {
        return new CommandLine(new HistoryCommand()).execute(args);
    }
}
