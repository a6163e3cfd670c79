package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResultsAggregatorTest {
    private final ResultsAggregator aggregator = new ResultsAggregator(200, 3);

    @Test
    void rulerAverageIsTheMeanOfTaskMeans() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).build(),
                TestRows.ruler("full", "a", 1, 0).build(),
                TestRows.ruler("full", "b", 0, 100).build(),
                TestRows.ruler("full", "b", 1, 100).build(),
                TestRows.ruler("full", "b", 2, 100).build(),
                TestRows.ruler("full", "b", 3, 0).build());
        AccuracyRow average = aggregator.rulerAverages(rows).getFirst();
        assertEquals(62.5, average.accuracy(), 1e-12); // pooled would be 66.7
        assertEquals(2, average.tasks());
        assertEquals(6, average.samples());
        assertTrue(average.ci().isKnown());

        List<AccuracyRow> perTask = aggregator.rulerPerTask(rows);
        assertEquals(List.of("a", "b"), perTask.stream().map(AccuracyRow::task).toList());
        assertEquals(50, perTask.get(0).accuracy(), 1e-12);
        assertEquals(75, perTask.get(1).accuracy(), 1e-12);
    }

    @Test
    void timePerExampleIsPrefillPlusDecodeInSeconds() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).timing(1000, 10, 50).build(), // 1.5 s
                TestRows.ruler("full", "a", 1, 100).timing(500, 20, 25).build()); // 1.0 s
        AccuracyRow row = aggregator.rulerAverages(rows).getFirst();
        assertEquals(1.25, row.secondsPerExample(), 1e-12);
        assertEquals(37.5, row.msPerToken(), 1e-12);
    }

    @Test
    void speedupIsFullOverMethodWithinTheSameRun() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).decode(40).build(),
                TestRows.ruler("full", "a", 1, 100).decode(44).build(),
                TestRows.ruler("recycled:k=4", "a", 0, 100).decode(10).build(),
                TestRows.ruler("recycled:k=4", "a", 1, 100).decode(11).build());
        List<AccuracyRow> averages = aggregator.rulerAverages(rows);
        assertEquals(1.0, averages.get(0).speedup(), 1e-12);
        assertEquals(42.0 / 10.5, averages.get(1).speedup(), 1e-12);
    }

    @Test
    void speedupsOfSeveralRunsCombineByGeometricMean() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).run("r1").decode(40).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).run("r1").decode(10).build(),
                TestRows.ruler("full", "a", 0, 100).run("r2").decode(20).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).run("r2").decode(20).build());
        assertEquals(2.0, aggregator.rulerAverages(rows).get(1).speedup(), 1e-12); // sqrt(4 * 1)
    }

    @Test
    void speedupIsEmptyWithoutFullInTheSameRun() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).run("r1").decode(40).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).run("r2").decode(10).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).run("r2").length(65536).decode(10).build());
        List<AccuracyRow> averages = aggregator.rulerAverages(rows);
        assertEquals(3, averages.size());
        assertTrue(Double.isNaN(averages.get(1).speedup()));
        assertTrue(Double.isNaN(averages.get(2).speedup()));
    }

    @Test
    void perTaskSpeedupUsesTheTasksRowsOnly() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("full", "a", 0, 100).decode(40).build(),
                TestRows.ruler("full", "b", 0, 100).decode(80).build(),
                TestRows.ruler("h2o:k=4", "a", 0, 100).decode(10).build(),
                TestRows.ruler("h2o:k=4", "b", 0, 100).decode(10).build());
        List<AccuracyRow> perTask = aggregator.rulerPerTask(rows);
        assertEquals(4.0, perTask.get(2).speedup(), 1e-12);
        assertEquals(8.0, perTask.get(3).speedup(), 1e-12);
        assertEquals(6.0, aggregator.rulerAverages(rows).get(1).speedup(), 1e-12);
    }

    @Test
    void perplexityWeighsChunksByTokens() {
        List<ResultRow> rows = List.of(
                TestRows.ppl("full", "pg19", 10, 10).build(),
                TestRows.ppl("full", "pg19", 20, 10).build(),
                TestRows.ppl("full", "wikitext", 30, 100).build());
        List<PerplexityRow> ppl = aggregator.perplexity(rows);
        assertEquals(2, ppl.size());
        assertEquals(Math.exp(1.5), ppl.get(0).perplexity(), 1e-12);
        assertEquals(20, ppl.get(0).tokensScored());
        assertEquals(Math.exp(0.3), ppl.get(1).perplexity(), 1e-12);
    }

    @Test
    void latencyAveragesRepetitionsAndComputesSpeedupAndBound() {
        List<ResultRow> rows = new ArrayList<>();
        rows.add(TestRows.latency("full", 4096, 0, 30).build());
        rows.add(TestRows.latency("full", 4096, 1, 50).build());
        rows.add(TestRows.latency("recycled:k=1", 4096, 0, 10).bound(5).attended(100).build());
        rows.add(TestRows.latency("recycled:k=1", 4096, 1, 10).bound(5).attended(300).build());
        List<LatencyRow> latency = aggregator.latency(rows);
        assertEquals(2, latency.size());
        assertEquals(40, latency.get(0).msPerToken(), 1e-12);
        assertEquals(2, latency.get(0).repetitions());
        assertEquals(4, latency.get(1).speedup(), 1e-12);
        assertEquals(5, latency.get(1).boundSpeedup(), 1e-12);
        assertEquals(200, latency.get(1).attendedRows(), 1e-12);
        assertTrue(Double.isNaN(latency.get(0).boundSpeedup()));
        // 4x of a 5x bound; full attention is the reference, not a method with a share of a bound
        assertEquals(0.8, latency.get(1).ofBound(), 1e-12);
        assertTrue(Double.isNaN(latency.get(0).ofBound()));
    }

    @Test
    void recallUsesOnlyRowsThatMeasuredIt() {
        List<ResultRow> rows = List.of(
                TestRows.ruler("h2o:k=4", "a", 0, 100).recall(0.8).build(),
                TestRows.ruler("h2o:k=4", "a", 1, 100).recall(0.6).build(),
                TestRows.ruler("h2o:k=4", "a", 2, 100).build(),
                TestRows.ruler("full", "a", 0, 100).build());
        List<RecallRow> recall = aggregator.attentionMassRecall(rows);
        assertEquals(1, recall.size());
        assertEquals(0.7, recall.getFirst().recall(), 1e-12);
        assertEquals(2, recall.getFirst().samples());
    }

    @Test
    void intervalsDoNotDependOnOtherGroups() {
        List<ResultRow> one = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            one.add(TestRows.ruler("h2o:k=4", "a", i, i % 3 == 0 ? 0 : 100).build());
        }
        List<ResultRow> more = new ArrayList<>(one);
        for (int i = 0; i < 20; i++) {
            more.add(TestRows.ruler("full", "a", i, 100).build());
        }
        Interval alone = aggregator.rulerAverages(one).getFirst().ci();
        Interval withOthers = aggregator.rulerAverages(more).get(1).ci();
        assertEquals(alone, withOthers);
    }
}
