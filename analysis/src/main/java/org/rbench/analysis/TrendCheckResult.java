package org.rbench.analysis;

import java.util.List;

/**
 * What {@link TrendCheck} found for one night: every gated series' change against its noise
 * band, and notes (series missing that night, series too young to have a band).
 */
public record TrendCheckResult(String night, int window, ComparisonThresholds thresholds, List<TrendChange> changes,
                               List<String> notes) {

    public List<TrendChange> regressions() {
        return changes.stream().filter(c -> c.verdict() == Verdict.REGRESSION).toList();
    }

    /** "Night 2026-12-07: no regression in 24 series." or "...: 1 regression in 24 series." */
    public String resultLine() {
        int count = regressions().size();
        return "Night " + night + ": " + (count == 0 ? "no regression" : count + (count == 1 ? " regression" : " regressions"))
                + " in " + changes.size() + " checked series.";
    }

    /** The Markdown report: the rule, the result, every regression named, then every checked series. */
    public String markdown() {
        StringBuilder out = new StringBuilder("# rbench history check\n\n");
        out.append("Night ").append(night).append(" against each series' previous ").append(window)
                .append(" nights (at least ").append(NoiseBand.MIN_NIGHTS).append("). A regression is a change beyond ")
                .append(ComparisonThresholds.plain(thresholds.maxLatencyRegressionPercent())).append("% for times (ms/token, s/example) or ")
                .append(ComparisonThresholds.plain(thresholds.maxAccuracyDropPoints())).append(" points for RULER accuracy, outside the ")
                .append("night-to-night noise band: the ").append(ComparisonThresholds.plain(100 * (1 - thresholds.alpha())))
                .append("% prediction interval of the previous nights (Student t, alpha = ")
                .append(ComparisonThresholds.plain(thresholds.alpha())).append(").\n\n");
        out.append("**").append(resultLine()).append("**\n");
        List<TrendChange> regressions = regressions();
        if (!regressions.isEmpty()) {
            out.append("\n## Regressions\n\n");
            regressions.forEach(c -> out.append("- ").append(c.describe()).append('\n'));
        }
        if (!changes.isEmpty()) {
            out.append("\n## Checked series\n\n");
            Table table = new Table().column("Setting", Table.Align.LEFT).column("Metric", Table.Align.LEFT)
                    .column("Method", Table.Align.LEFT).column("Length", Table.Align.RIGHT)
                    .column("Night", Table.Align.RIGHT).column("Previous", Table.Align.RIGHT)
                    .column("Noise band", Table.Align.RIGHT).column("Change", Table.Align.RIGHT)
                    .column("p", Table.Align.RIGHT).column("Verdict", Table.Align.LEFT);
            for (TrendChange c : changes) {
                table.row(List.of(c.series().setting(), c.series().metric(), MethodLabel.of(c.series().method()),
                        LengthLabel.of(c.series().length()), c.metric().format(c.night().value()),
                        c.metric().format(c.band().mean()), c.bandText(), c.changeText(), Formats.pValue(c.pValue()),
                        c.verdict() == Verdict.REGRESSION ? "**" + c.verdict().label() + "**" : c.verdict().label()));
            }
            out.append(TableFormats.markdown(table));
        }
        if (!notes.isEmpty()) {
            out.append("\n## Notes\n\n");
            notes.forEach(n -> out.append("- ").append(n).append('\n'));
        }
        return out.toString();
    }
}
