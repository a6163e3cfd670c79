package org.rbench.analysis;

import java.util.ArrayList;
import java.util.List;

/** Renders a {@link Comparison} as the Markdown report the nightly job publishes. */
public final class ComparisonReport {
    private final ComparisonThresholds thresholds;
    private final int iterations;
    private final long seed;

    public ComparisonReport(ComparisonThresholds thresholds, int iterations, long seed) {
        this.thresholds = thresholds;
        this.iterations = iterations;
        this.seed = seed;
    }

    public String markdown(Comparison comparison, String baselineFile, String candidateFile) {
        StringBuilder out = new StringBuilder("# rbench comparison\n\n");
        Table sides = new Table().column("", Table.Align.LEFT).column("Baseline", Table.Align.LEFT)
                .column("Candidate", Table.Align.LEFT)
                .row(List.of("File", baselineFile, candidateFile))
                .row(List.of("Runs", String.join(", ", comparison.baselineRuns()),
                        String.join(", ", comparison.candidateRuns())));
        out.append(TableFormats.markdown(sides)).append('\n');
        out.append("A regression is an accuracy drop of more than ")
                .append(ComparisonThresholds.plain(thresholds.maxAccuracyDropPoints())).append(" points or a decode latency increase of more than ")
                .append(ComparisonThresholds.plain(thresholds.maxLatencyRegressionPercent())).append("%, significant at alpha = ")
                .append(ComparisonThresholds.plain(thresholds.alpha())).append(". Accuracy: permutation test on per-sample scores ")
                .append("(paired by task, length, sample_index and seed when both runs scored the same samples; ")
                .append(iterations).append(" resamples, seed ").append(seed).append("). ")
                .append("Latency: Mann-Whitney U test on per-row decode ms/token.\n\n");
        out.append(resultLine(comparison)).append("\n");

        List<String> regressions = regressionLines(comparison);
        if (!regressions.isEmpty()) {
            out.append("\n## Regressions\n\n");
            regressions.forEach(line -> out.append("- ").append(line).append('\n'));
        }

        out.append("\n## Accuracy (RULER average)\n\n");
        if (comparison.accuracy().isEmpty()) {
            out.append("No RULER results in both runs.\n");
        } else {
            Table table = new Table()
                    .column("Model", Table.Align.LEFT).column("Method", Table.Align.LEFT)
                    .column("Length", Table.Align.RIGHT).column("Samples", Table.Align.RIGHT)
                    .column("Baseline", Table.Align.RIGHT).column("Candidate", Table.Align.RIGHT)
                    .column("Change", Table.Align.RIGHT).column("p", Table.Align.RIGHT)
                    .column("Test", Table.Align.LEFT).column("Verdict", Table.Align.LEFT);
            for (AccuracyChange c : comparison.accuracy()) {
                table.row(List.of(c.model(), MethodLabel.of(c.method()), LengthLabel.of(c.length()),
                        c.baselineSamples() + "/" + c.candidateSamples(), Formats.accuracy(c.baseline()),
                        Formats.accuracy(c.candidate()), Formats.signed(c.change(), 1), Formats.pValue(c.pValue()),
                        c.paired() ? "paired" : "unpaired", verdict(c.verdict())));
            }
            out.append(TableFormats.markdown(table));
        }

        out.append("\n## Decode latency (median ms/token)\n\n");
        if (comparison.latency().isEmpty()) {
            out.append("No timed rows in both runs.\n");
        } else {
            Table table = new Table()
                    .column("Rows", Table.Align.LEFT).column("Model", Table.Align.LEFT)
                    .column("Method", Table.Align.LEFT).column("Length", Table.Align.RIGHT)
                    .column("n", Table.Align.RIGHT).column("Baseline", Table.Align.RIGHT)
                    .column("Candidate", Table.Align.RIGHT).column("Change", Table.Align.RIGHT)
                    .column("p", Table.Align.RIGHT).column("Verdict", Table.Align.LEFT);
            for (LatencyChange c : comparison.latency()) {
                table.row(List.of(c.kind().csvName(), c.model(), MethodLabel.of(c.method()), LengthLabel.of(c.length()),
                        c.baselineRows() + "/" + c.candidateRows(), Formats.millis(c.baselineMedian()),
                        Formats.millis(c.candidateMedian()), Formats.percentChange(c.changePercent()),
                        Formats.pValue(c.pValue()), verdict(c.verdict())));
            }
            out.append(TableFormats.markdown(table));
        }

        if (!comparison.perplexity().isEmpty()) {
            out.append("\n## Perplexity (not gated)\n\n");
            Table table = new Table()
                    .column("Model", Table.Align.LEFT).column("Method", Table.Align.LEFT)
                    .column("Length", Table.Align.RIGHT).column("Dataset", Table.Align.LEFT)
                    .column("Baseline", Table.Align.RIGHT).column("Candidate", Table.Align.RIGHT)
                    .column("Change", Table.Align.RIGHT);
            for (PerplexityChange c : comparison.perplexity()) {
                table.row(List.of(c.model(), MethodLabel.of(c.method()), LengthLabel.of(c.length()), c.dataset(),
                        Formats.perplexity(c.baseline()), Formats.perplexity(c.candidate()),
                        Formats.percentChange(c.changePercent())));
            }
            out.append(TableFormats.markdown(table));
        }

        if (!comparison.onlyInBaseline().isEmpty() || !comparison.onlyInCandidate().isEmpty()) {
            out.append("\n## Not compared\n\n");
            comparison.onlyInBaseline().forEach(g -> out.append("- only in the baseline: ").append(g).append('\n'));
            comparison.onlyInCandidate().forEach(g -> out.append("- only in the candidate: ").append(g).append('\n'));
        }
        if (!comparison.notes().isEmpty()) {
            out.append("\n## Notes\n\n");
            comparison.notes().forEach(n -> out.append("- ").append(n).append('\n'));
        }
        return out.toString();
    }

    /** "**Result: ...**", the line a reader looks for first. */
    public String resultLine(Comparison comparison) {
        int count = comparison.regressionCount();
        return count == 0 ? "**Result: no regression.**"
                : "**Result: " + count + (count == 1 ? " regression.**" : " regressions.**");
    }

    /** One line per regression, for the report and for the console. */
    public List<String> regressionLines(Comparison comparison) {
        List<String> lines = new ArrayList<>();
        for (AccuracyChange c : comparison.accuracyRegressions()) {
            lines.add("Accuracy, " + c.model() + ", " + MethodLabel.of(c.method()) + ", " + LengthLabel.of(c.length())
                    + ": " + Formats.accuracy(c.baseline()) + " -> " + Formats.accuracy(c.candidate()) + " ("
                    + Formats.signed(c.change(), 1) + " points, " + pClause(c.pValue()) + ")");
        }
        for (LatencyChange c : comparison.latencyRegressions()) {
            lines.add("Decode latency (" + c.kind().csvName() + " rows), " + c.model() + ", "
                    + MethodLabel.of(c.method()) + ", " + LengthLabel.of(c.length()) + ": "
                    + Formats.millis(c.baselineMedian()) + " -> " + Formats.millis(c.candidateMedian())
                    + " ms/token (" + Formats.percentChange(c.changePercent()) + ", " + pClause(c.pValue()) + ")");
        }
        return lines;
    }

    /** "p = 0.012" or "p < 0.001". */
    private static String pClause(double p) {
        String value = Formats.pValue(p);
        return value.startsWith("<") ? "p " + value.replace("<", "< ") : "p = " + value;
    }

    private static String verdict(Verdict verdict) {
        return verdict == Verdict.REGRESSION ? "**" + verdict.label() + "**" : verdict.label();
    }
}
