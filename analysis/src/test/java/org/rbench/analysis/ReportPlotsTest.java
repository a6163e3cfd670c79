package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.rbench.analysis.plot.XyChart;

class ReportPlotsTest {

    @Test
    void paretoFrontierKeepsPointsNotBeatenOnBothAxes() {
        List<XyChart.Point> frontier = ReportPlots.paretoFrontier(List.of(
                new XyChart.Point(12.8, 45), new XyChart.Point(15.8, 58), new XyChart.Point(14.2, 82),
                new XyChart.Point(46.3, 97), new XyChart.Point(50, 90), new XyChart.Point(Double.NaN, 99)));
        assertEquals(List.of(new XyChart.Point(12.8, 45), new XyChart.Point(14.2, 82), new XyChart.Point(46.3, 97)),
                frontier);
    }

    @Test
    void severalModelsGetPrefixedNames() {
        ResultsAggregator aggregator = new ResultsAggregator(0, 1);
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).model("alpha.gguf").decode(40).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).model("alpha.gguf").decode(10).build(),
                TestRows.ruler("full", "a", 0, 100).model("beta 2.gguf").decode(40).build());
        List<String> names = new ReportPlots(rows.stream().map(ResultRow::method).toList())
                .charts(aggregator.rulerAverages(rows), aggregator.latency(rows), aggregator.attentionMassRecall(rows))
                .stream().map(ReportPlots.NamedChart::name).toList();
        assertEquals(List.of("alpha_frontier_32K", "alpha_ms_per_token", "alpha_speedup_vs_bound",
                "beta-2_frontier_32K", "beta-2_ms_per_token"), names);
    }
}
