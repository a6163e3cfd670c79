package org.rbench.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * {@code rbench history show}: the trend table. One table per setting (model, machine,
 * backend): a row per series (metric, method, length), a column per night (the last
 * {@code nights} of the history), then the newest night's noise band from the nights before it
 * and the check's verdict for gated metrics. A first row names each night's suite commit.
 */
public final class TrendTable {
    private final TrendCheck check;
    private final int nights;

    /** @param nights how many of the latest nights get a column */
    public TrendTable(TrendCheck check, int nights) {
        if (nights < 1) {
            throw new IllegalArgumentException("at least one night must be shown, not " + nights);
        }
        this.check = check;
        this.nights = nights;
    }

    /** The tables by setting ("model on machine (backend)"), for series whose metric name passes the filter. */
    public Map<String, Table> tables(NightlyHistory history, Predicate<String> metricFilter) {
        List<String> all = history.nights();
        List<String> shown = all.subList(Math.max(0, all.size() - nights), all.size());
        Map<TrendSeries, TrendChange> verdicts = new LinkedHashMap<>();
        if (!all.isEmpty()) {
            check.check(history, null).changes().forEach(c -> verdicts.put(c.series(), c));
        }
        Map<String, Table> tables = new LinkedHashMap<>();
        history.bySetting().forEach((setting, seriesList) -> {
            List<TrendSeries> selected = seriesList.stream().filter(s -> metricFilter.test(s.metric())).toList();
            if (selected.isEmpty()) {
                return;
            }
            Table table = new Table().column("Metric", Table.Align.LEFT).column("Method", Table.Align.LEFT)
                    .column("Length", Table.Align.RIGHT);
            shown.forEach(n -> table.column(n, Table.Align.RIGHT));
            table.column("Noise band", Table.Align.RIGHT).column("Change", Table.Align.RIGHT)
                    .column("Verdict", Table.Align.LEFT);
            List<String> commits = new ArrayList<>(List.of("suite commit", "", ""));
            for (String night : shown) {
                Set<String> seen = new LinkedHashSet<>();
                selected.forEach(s -> {
                    NightlyMeasurement m = history.at(s, night);
                    if (m != null) {
                        seen.add(m.suiteCommit());
                    }
                });
                commits.add(seen.size() > 1 ? "several" : String.join("", seen));
            }
            commits.addAll(List.of("", "", ""));
            table.row(commits);
            for (TrendSeries s : selected) {
                TrendMetric metric = s.parsedMetric();
                List<String> cells = new ArrayList<>(List.of(s.metric(), MethodLabel.of(s.method()), LengthLabel.of(s.length())));
                for (String night : shown) {
                    NightlyMeasurement m = history.at(s, night);
                    cells.add(m == null ? "" : metric == null ? Formats.fixed(m.value(), 3) : metric.format(m.value()));
                }
                TrendChange c = verdicts.get(s);
                cells.add(c == null ? "" : c.bandText());
                cells.add(c == null ? "" : c.changeText());
                cells.add(c == null ? (metric != null && metric.quantity().gate() == TrendMetric.Gate.NONE ? "not gated" : "")
                        : c.verdict() == Verdict.REGRESSION ? "**" + c.verdict().label() + "**" : c.verdict().label());
                table.row(cells);
            }
            tables.put(setting, table);
        });
        return tables;
    }

    /** All tables as one Markdown document, a heading per setting. */
    public String markdown(NightlyHistory history, Predicate<String> metricFilter) {
        StringBuilder out = new StringBuilder("# rbench history\n\n");
        List<String> all = history.nights();
        out.append(all.size()).append(all.size() == 1 ? " night" : " nights");
        if (!all.isEmpty()) {
            out.append(", ").append(all.getFirst()).append(" to ").append(all.getLast());
        }
        out.append("; noise band and verdict: the newest night against the ").append(check.window())
                .append(" nights before it (rbench history check).\n");
        tables(history, metricFilter).forEach((setting, table) ->
                out.append("\n## ").append(setting).append("\n\n").append(TableFormats.markdown(table)));
        return out.toString();
    }

    /** All tables as one CSV, the setting as a first column. */
    public String csv(NightlyHistory history, Predicate<String> metricFilter) {
        StringBuilder out = new StringBuilder();
        boolean header = true;
        for (Map.Entry<String, Table> e : tables(history, metricFilter).entrySet()) {
            Table withSetting = new Table().column("Setting", Table.Align.LEFT);
            e.getValue().headers().forEach(h -> withSetting.column(h, Table.Align.LEFT));
            for (List<String> row : e.getValue().rows()) {
                List<String> cells = new ArrayList<>();
                cells.add(e.getKey());
                cells.addAll(row.stream().map(c -> c.replace("**", "")).toList());
                withSetting.row(cells);
            }
            String csv = TableFormats.csv(withSetting);
            out.append(header ? csv : csv.substring(csv.indexOf('\n') + 1));
            header = false;
        }
        return out.toString();
    }
}
