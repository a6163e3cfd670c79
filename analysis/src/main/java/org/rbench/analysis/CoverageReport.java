package org.rbench.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.rbench.analysis.plot.Palette;
import org.rbench.analysis.plot.LineChart;
import org.knowm.xchart.XYChart;

/**
 * The report's answer-coverage part, from diagnostics rows ({@link AnswerCoverage}):
 * {@code coverage.md} (a summary per method and length, then per task the steps at the focus
 * layer), {@code coverage.csv} (the summary), {@code coverage_by_step.csv} (the curves) and the
 * plots {@code answer_coverage_<L>} and {@code focus_mass_recall_<L>} (one line per method,
 * averaged over tasks) and {@code focus_mass_recall_<L>_<task>}, of the first
 * {@value #STEP_COLUMNS} steps.
 */
final class CoverageReport {
    /** Steps shown as columns in the Markdown tables (an answer of a few dozen tokens at most). */
    static final int STEP_COLUMNS = 20;

    private final AnswerCoverage coverage;
    private final List<AccuracyRow> averages;
    private final List<String> allMethods;

    /**
     * @param averages   the RULER averages of the same rows, for the accuracy column
     * @param allMethods every method of the report, which fixes each method's colour
     */
    CoverageReport(AnswerCoverage coverage, List<AccuracyRow> averages, List<String> allMethods) {
        this.coverage = coverage;
        this.averages = averages;
        this.allMethods = allMethods.stream().distinct().sorted(MethodOrder.INSTANCE).toList();
    }

    String markdown() {
        StringBuilder out = new StringBuilder("# Answer coverage\n\n");
        out.append("Per decode step and layer, what each method attended of the prompt's answer spans, against the "
                + "full attention the step would have had (diagnostics; docs/CSV.md). Coverage: share of the answer "
                + "tokens attended, mean over layers, steps and samples. Answer mass recall: share of full "
                + "attention's mass on the answer tokens that the method attended, pooled. Focus layer: the layer "
                + "whose attention peak lies nearest the answers under full attention (per task). At the focus "
                + "layer: coverage, mass recall (share of all of full attention's mass attended), peak kept (share "
                + "of steps whose peak the method attended), first miss (median over samples of the first step "
                + "whose peak it missed; Missed: samples with a miss).\n");
        for (String model : coverage.models()) {
            out.append("\n## ").append(model).append("\n\n");
            out.append(TableFormats.markdown(summaryTable(model)));
            for (int length : coverage.lengths(model)) {
                for (String task : coverage.tasks(model, length)) {
                    int focus = coverage.focusLayer(model, task, length);
                    List<AnswerCoverage.StepPoint> points = coverage.curves(model, length, task);
                    out.append("\n### ").append(task).append(" at ").append(LengthLabel.of(length))
                            .append(": by decode step, focus layer ").append(focus).append("\n\n");
                    out.append("Mass recall at layer ").append(focus).append(":\n\n")
                            .append(TableFormats.markdown(stepTable(points, AnswerCoverage.StepPoint::focusMassRecall, 2)));
                    out.append("\nPeak kept at layer ").append(focus).append(" (share of samples):\n\n")
                            .append(TableFormats.markdown(stepTable(points, AnswerCoverage.StepPoint::focusPeakKept, 2)));
                    out.append("\nPeak position at layer ").append(focus)
                            .append(", tokens after the first answer token (median over samples):\n\n")
                            .append(TableFormats.markdown(stepTable(points, AnswerCoverage.StepPoint::focusPeakOffset, 0)));
                    out.append("\nAnswer coverage (mean over layers):\n\n")
                            .append(TableFormats.markdown(stepTable(points, AnswerCoverage.StepPoint::coverage, 2)));
                }
            }
        }
        return out.toString();
    }

    private Table summaryTable(String model) {
        Table table = new Table().column("Method", Table.Align.LEFT).column("Length", Table.Align.RIGHT)
                .column("Samples", Table.Align.RIGHT).column("Acc.", Table.Align.RIGHT)
                .column("Coverage", Table.Align.RIGHT).column("Answer mass recall", Table.Align.RIGHT)
                .column("Focus layer", Table.Align.RIGHT).column("Coverage (focus)", Table.Align.RIGHT)
                .column("Mass recall (focus)", Table.Align.RIGHT).column("Peak kept (focus)", Table.Align.RIGHT)
                .column("First miss", Table.Align.RIGHT).column("Missed", Table.Align.RIGHT);
        for (AnswerCoverage.Summary s : coverage.summaries()) {
            if (s.model().equals(model)) {
                table.row(List.of(MethodLabel.of(s.method()), LengthLabel.of(s.length()), Integer.toString(s.samples()),
                        Formats.accuracy(accuracy(s)), Formats.recall(s.coverage()), Formats.recall(s.answerMassRecall()),
                        s.focusLayers(), Formats.recall(s.focusCoverage()), Formats.recall(s.focusMassRecall()),
                        Formats.recall(s.focusPeakKept()), Formats.fixed(s.firstMissMedian(), 1),
                        s.missed() + "/" + s.samples()));
            }
        }
        return table;
    }

    private double accuracy(AnswerCoverage.Summary s) {
        return averages.stream().filter(a -> a.model().equals(s.model()) && a.method().equals(s.method())
                && a.length() == s.length()).mapToDouble(AccuracyRow::accuracy).findFirst().orElse(Double.NaN);
    }

    /** Methods down, steps 0 .. {@value #STEP_COLUMNS} - 1 across. */
    private static Table stepTable(List<AnswerCoverage.StepPoint> points, ToDoubleFunction<AnswerCoverage.StepPoint> value,
                                   int decimals) {
        int steps = Math.min(STEP_COLUMNS, points.stream().mapToInt(p -> p.step() + 1).max().orElse(0));
        Table table = new Table().column("Method", Table.Align.LEFT);
        for (int step = 0; step < steps; step++) {
            table.column(Integer.toString(step), Table.Align.RIGHT);
        }
        for (String method : points.stream().map(AnswerCoverage.StepPoint::method).distinct().toList()) {
            List<String> cells = new ArrayList<>();
            cells.add(MethodLabel.of(method));
            for (int step = 0; step < steps; step++) {
                int at = step;
                cells.add(points.stream().filter(p -> p.method().equals(method) && p.step() == at).findFirst()
                        .map(p -> Formats.fixed(value.applyAsDouble(p), decimals)).orElse(""));
            }
            table.row(cells);
        }
        return table;
    }

    String summaryCsv() {
        Table table = new Table();
        for (String column : List.of("model", "method", "method_label", "length", "tasks", "samples", "accuracy",
                "answer_coverage", "answer_mass_recall", "focus_layers", "focus_coverage", "focus_mass_recall",
                "focus_peak_kept", "first_miss_median", "missed")) {
            table.column(column, Table.Align.LEFT);
        }
        for (AnswerCoverage.Summary s : coverage.summaries()) {
            table.row(List.of(s.model(), s.method(), MethodLabel.of(s.method()), Integer.toString(s.length()),
                    Integer.toString(s.tasks()), Integer.toString(s.samples()), Formats.accuracy(accuracy(s)),
                    Formats.fixed(s.coverage(), 4), Formats.fixed(s.answerMassRecall(), 4), s.focusLayers(),
                    Formats.fixed(s.focusCoverage(), 4), Formats.fixed(s.focusMassRecall(), 4),
                    Formats.fixed(s.focusPeakKept(), 4), Formats.fixed(s.firstMissMedian(), 1),
                    Integer.toString(s.missed())));
        }
        return TableFormats.csv(table);
    }

    /** Every curve point: per task, and over all tasks (task "all"). */
    String stepsCsv() {
        Table table = new Table();
        for (String column : List.of("model", "method", "method_label", "length", "task", "focus_layer", "step",
                "samples", "answer_coverage", "focus_mass_recall", "focus_peak_kept", "focus_peak_offset")) {
            table.column(column, Table.Align.LEFT);
        }
        for (String model : coverage.models()) {
            for (int length : coverage.lengths(model)) {
                List<String> tasks = new ArrayList<>(coverage.tasks(model, length));
                tasks.add(null);
                for (String task : tasks) {
                    for (AnswerCoverage.StepPoint p : coverage.curves(model, length, task)) {
                        table.row(List.of(model, p.method(), MethodLabel.of(p.method()), Integer.toString(length),
                                task == null ? "all" : task,
                                task == null ? "" : Integer.toString(coverage.focusLayer(model, task, length)),
                                Integer.toString(p.step()), Integer.toString(p.samples()), Formats.fixed(p.coverage(), 4),
                                Formats.fixed(p.focusMassRecall(), 4), Formats.fixed(p.focusPeakKept(), 4),
                                Formats.fixed(p.focusPeakOffset(), 1)));
                    }
                }
            }
        }
        return TableFormats.csv(table);
    }

    /** Per model and length: answer coverage and focus-layer mass recall against the decode step. */
    List<ReportPlots.NamedChart> charts() {
        List<ReportPlots.NamedChart> charts = new ArrayList<>();
        List<String> models = coverage.models();
        for (String model : models) {
            String prefix = models.size() > 1 ? ReportTables.slug(model) + "_" : "";
            for (int length : coverage.lengths(model)) {
                List<AnswerCoverage.StepPoint> points = coverage.curves(model, length, null);
                String at = LengthLabel.of(length);
                charts.add(new ReportPlots.NamedChart(prefix + "answer_coverage_" + at, chart(points,
                        "Answer coverage by decode step at " + at + " (" + model + ")",
                        "Answer coverage (mean over layers)", AnswerCoverage.StepPoint::coverage)));
                charts.add(new ReportPlots.NamedChart(prefix + "focus_mass_recall_" + at, chart(points,
                        "Mass recall at each task's focus layer by decode step, " + at + " (" + model + ")",
                        "Attention mass recall at the focus layer", AnswerCoverage.StepPoint::focusMassRecall)));
                for (String task : coverage.tasks(model, length)) {
                    // tasks differ in answer length and mechanism: the mean over tasks blurs where each is lost
                    int focus = coverage.focusLayer(model, task, length);
                    charts.add(new ReportPlots.NamedChart(prefix + "focus_mass_recall_" + at + "_" + ReportTables.slug(task),
                            chart(coverage.curves(model, length, task), task + " at " + at + ": mass recall at layer "
                                    + focus + " (its focus) by decode step",
                                    "Attention mass recall at layer " + focus, AnswerCoverage.StepPoint::focusMassRecall)));
                }
            }
        }
        return charts;
    }

    private XYChart chart(List<AnswerCoverage.StepPoint> points, String title, String yTitle,
                         ToDoubleFunction<AnswerCoverage.StepPoint> value) {
        LineChart chart = new LineChart(title, "Decode step (mean over the samples that reached it)", yTitle)
                .yRange(0, 1).wholeNumberXTicks();
        for (String method : points.stream().map(AnswerCoverage.StepPoint::method).distinct().toList()) {
            int index = allMethods.indexOf(method);
            List<AnswerCoverage.StepPoint> mine = points.stream()
                    .filter(p -> p.method().equals(method) && p.step() < STEP_COLUMNS).toList();
            chart.line(MethodLabel.of(method), Palette.color(index), Palette.marker(index),
                    mine.stream().mapToDouble(AnswerCoverage.StepPoint::step).toArray(),
                    mine.stream().mapToDouble(value).toArray());
        }
        return chart.toXChart();
    }
}
