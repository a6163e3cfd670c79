package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.rbench.analysis.ReportPlots.FrontierPoint;

class ReportPlotsTest {
    private final ResultsAggregator aggregator = new ResultsAggregator(0, 1);

    private List<ReportPlots.NamedChart> charts(List<ResultRow> rows) {
        return new ReportPlots(rows.stream().map(ResultRow::method).toList())
                .charts(aggregator.rulerAverages(rows), aggregator.latency(rows), aggregator.attentionMassRecall(rows));
    }

    private static List<String> names(List<ReportPlots.NamedChart> charts) {
        return charts.stream().map(ReportPlots.NamedChart::name).toList();
    }

    private static XYChart chart(List<ReportPlots.NamedChart> charts, String name) {
        return (XYChart) charts.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow().chart();
    }

    private static List<String> legend(XYChart chart) {
        return chart.getSeriesMap().values().stream().filter(XYSeries::isShowInLegend).map(XYSeries::getName)
                .toList();
    }

    @Test
    void paretoFrontierKeepsPointsNotBeatenOnBothAxes() {
        List<FrontierPoint> frontier = ReportPlots.paretoFrontier(List.of(
                new FrontierPoint(12.8, 45), new FrontierPoint(15.8, 58), new FrontierPoint(14.2, 82),
                new FrontierPoint(46.3, 97), new FrontierPoint(50, 90), new FrontierPoint(Double.NaN, 99)));
        assertEquals(List.of(new FrontierPoint(12.8, 45), new FrontierPoint(14.2, 82), new FrontierPoint(46.3, 97)),
                frontier);
    }

    @Test
    void severalModelsGetPrefixedNames() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).model("alpha.gguf").decode(40).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).model("alpha.gguf").decode(10).build(),
                TestRows.ruler("full", "a", 0, 100).model("beta 2.gguf").decode(40).build());
        assertEquals(List.of("alpha_frontier_32K", "alpha_ms_per_token", "beta-2_frontier_32K", "beta-2_ms_per_token"),
                names(charts(rows)));
    }

    @Test
    void frontierHasOnePointPerMethodTheirIntervalsAndTheFrontier() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).decode(40).build(),
                TestRows.ruler("full", "a", 1, 50).decode(40).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 50).decode(10).build(),
                TestRows.ruler("h2o:k=4", "a", 1, 0).decode(10).build());
        ResultsAggregator withIntervals = new ResultsAggregator(200, 1);
        XYChart frontier = (XYChart) new ReportPlots(rows.stream().map(ResultRow::method).toList())
                .charts(withIntervals.rulerAverages(rows), List.of(), List.of()).get(0).chart();
        assertEquals(List.of("Full attention", "H2O K=4", "Pareto frontier"), legend(frontier));
        XYSeries interval = frontier.getSeriesMap().get("Full attention (95% CI)");
        assertTrue(interval.getYData()[0] < 75 && interval.getYData()[1] > 75, "the CI spans the mean");
        assertEquals(40, interval.getXData()[0], 1e-9);
    }

    /** RULER rows carry no bound_speedup: no plot that is named for a bound it cannot show. */
    @Test
    void speedupPlotOnlyWhereRowsCarryABound() {
        List<ResultRow> ruler = List.of(
                TestRows.ruler("full", "a", 0, 100).decode(40).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).decode(10).build());
        assertEquals(List.of("frontier_32K", "ms_per_token"), names(charts(ruler)));

        List<ResultRow> latency = List.of(
                TestRows.latency("full", 16384, 0, 40).build(),
                TestRows.latency("h2o:k=4", 16384, 0, 10).bound(3.5).build(),
                TestRows.latency("h2o:k=4", 32768, 0, 12).bound(3.9).build(),
                TestRows.latency("full", 32768, 0, 60).build(),
                TestRows.latency("llamacpp", 16384, 0, 41).build());
        List<ReportPlots.NamedChart> charts = charts(latency);
        assertEquals(List.of("ms_per_token", "speedup_vs_bound"), names(charts));
        XYChart speedup = chart(charts, "speedup_vs_bound");
        assertEquals(List.of("H2O K=4", "H2O K=4 (bound)", "llama.cpp"), legend(speedup));
        assertEquals(List.of(3.5, 3.9), java.util.Arrays.stream(speedup.getSeriesMap().get("H2O K=4 (bound)")
                .getYData()).boxed().toList());
    }

    @Test
    void methodsSharingALabelAreNamedBySpec() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("h2o:k=4", "a", 0, 100).decode(10).build(),
                TestRows.ruler("h2o:K=4", "a", 0, 100).decode(12).build());
        assertEquals(List.of("h2o:K=4", "h2o:k=4"), legend(chart(charts(rows), "frontier_32K")));
    }
}
