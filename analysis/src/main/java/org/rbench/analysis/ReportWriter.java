package org.rbench.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.rbench.analysis.plot.ChartFiles;

/**
 * Writes the full report for a set of rows into a directory: tables (summary, per_task, ppl,
 * latency, and answer coverage from diagnostics rows) and plots/. Files for kinds without rows (ppl, latency) are not written, so a stale
 * file from an earlier report is the only way such a file can be there.
 */
public final class ReportWriter {
    private final ResultsAggregator aggregator;
    private final Consumer<String> warnings;

    /** @param warnings told what could not be written (plots on a machine without fonts) */
    public ReportWriter(ResultsAggregator aggregator, Consumer<String> warnings) {
        this.aggregator = aggregator;
        this.warnings = warnings;
    }

    /** @return every file written, in writing order */
    public List<Path> write(List<ResultRow> rows, Path directory) throws IOException {
        return write(rows, List.of(), directory);
    }

    /**
     * The report with the answer-coverage part when there are diagnostics rows ({@code coverage.md},
     * {@code coverage.csv}, {@code coverage_by_step.csv}, plots {@code answer_coverage_<L>} and
     * {@code focus_mass_recall_<L>[_<task>]}).
     *
     * @return every file written, in writing order
     */
    public List<Path> write(List<ResultRow> rows, List<StepRow> steps, Path directory) throws IOException {
        Files.createDirectories(directory);
        List<AccuracyRow> averages = aggregator.rulerAverages(rows);
        List<AccuracyRow> perTask = aggregator.rulerPerTask(rows);
        List<PerplexityRow> perplexity = aggregator.perplexity(rows);
        List<LatencyRow> latency = aggregator.latency(rows);
        List<RecallRow> recall = aggregator.attentionMassRecall(rows);
        ReportTables tables = new ReportTables(aggregator);

        List<Path> written = new ArrayList<>();
        written.add(text(directory.resolve("summary.md"), tables.summaryMarkdown(averages)));
        written.add(text(directory.resolve("summary.tex"), tables.summaryLatex(averages)));
        written.add(text(directory.resolve("summary.csv"), tables.summaryCsv(averages)));
        written.add(text(directory.resolve("per_task.md"), tables.perTaskMarkdown(perTask, averages)));
        written.add(text(directory.resolve("per_task.tex"), tables.perTaskLatex(perTask, averages)));
        written.add(text(directory.resolve("per_task.csv"), tables.perTaskCsv(perTask)));
        if (!perplexity.isEmpty()) {
            written.add(text(directory.resolve("ppl.md"), tables.perplexityMarkdown(perplexity)));
            written.add(text(directory.resolve("ppl.tex"), tables.perplexityLatex(perplexity)));
            written.add(text(directory.resolve("ppl.csv"), tables.perplexityCsv(perplexity)));
        }
        if (!latency.isEmpty()) {
            written.add(text(directory.resolve("latency.md"), tables.latencyMarkdown(latency)));
            written.add(text(directory.resolve("latency.csv"), tables.latencyCsv(latency)));
        }
        List<String> methods = rows.stream().map(ResultRow::method).toList();
        AnswerCoverage coverage = new AnswerCoverage(steps);
        CoverageReport coverageReport = coverage.isEmpty() ? null : new CoverageReport(coverage, averages, methods);
        if (coverageReport != null) {
            written.add(text(directory.resolve("coverage.md"), coverageReport.markdown()));
            written.add(text(directory.resolve("coverage.csv"), coverageReport.summaryCsv()));
            written.add(text(directory.resolve("coverage_by_step.csv"), coverageReport.stepsCsv()));
        }
        // charts are built only where they can be drawn: without java.desktop their classes cannot load
        java.util.Optional<String> cannotDraw = ChartFiles.cannotDraw();
        if (cannotDraw.isPresent()) {
            warnings.accept("no plots written: " + cannotDraw.get() + "; the tables are complete");
            return written;
        }
        List<ReportPlots.NamedChart> charts = new ArrayList<>(new ReportPlots(methods).charts(averages, latency, recall));
        if (coverageReport != null) {
            charts.addAll(coverageReport.charts());
        }
        Path plotDirectory = directory.resolve("plots");
        for (ReportPlots.NamedChart chart : charts) {
            written.addAll(ChartFiles.write(chart.chart(), plotDirectory, chart.name()));
        }
        return written;
    }

    private static Path text(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }
}
