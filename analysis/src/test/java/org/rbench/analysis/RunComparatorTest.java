package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunComparatorTest {
    private final RunComparator comparator = new RunComparator(ComparisonThresholds.defaults(), 2000, 1);

    private static List<ResultRow> scores(String run, String method, int n, int correct, long seedOffset) {
        List<ResultRow> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rows.add(TestRows.ruler(method, "niah", i, i < correct ? 100 : 0).run(run).seed(seedOffset + i).build());
        }
        return rows;
    }

    @Test
    void bigDropOnFewSamplesIsNotSignificant() {
        // 30 points lower, but on 10 samples: 3 flips could be chance (exact p = 0.25).
        Comparison c = comparator.compare(scores("b", "h2o:k=4", 10, 8, 0), scores("c", "h2o:k=4", 10, 5, 0));
        AccuracyChange change = c.accuracy().getFirst();
        assertEquals(-30, change.change(), 1e-9);
        assertTrue(change.paired());
        assertEquals(0.25, change.pValue(), 1e-12);
        assertEquals(Verdict.NOT_SIGNIFICANT, change.verdict());
        assertEquals(0, c.regressionCount());
    }

    @Test
    void significantDropBeyondThresholdIsARegression() {
        Comparison c = comparator.compare(scores("b", "h2o:k=4", 200, 160, 0), scores("c", "h2o:k=4", 200, 145, 0));
        assertEquals(Verdict.REGRESSION, c.accuracy().getFirst().verdict());
        assertEquals(1, c.regressionCount());
    }

    @Test
    void differentSamplesUseTheUnpairedTest() {
        Comparison c = comparator.compare(scores("b", "h2o:k=4", 200, 160, 0), scores("c", "h2o:k=4", 200, 158, 1000));
        AccuracyChange change = c.accuracy().getFirst();
        assertFalse(change.paired());
        assertEquals(Verdict.OK, change.verdict());
        assertTrue(change.pValue() > 0.5, "p " + change.pValue());
    }

    @Test
    void significantButSmallLatencyChangeIsNotARegression() {
        List<ResultRow> base = new ArrayList<>();
        List<ResultRow> cand = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            base.add(TestRows.latency("full", 4096, i, 10 + i * 0.001).run("b").build());
            cand.add(TestRows.latency("full", 4096, i, 10.3 + i * 0.001).run("c").build());
        }
        LatencyChange change = comparator.compare(base, cand).latency().getFirst();
        assertTrue(change.pValue() < 1e-6);
        assertEquals(3, change.changePercent(), 0.1);
        assertEquals(Verdict.OK, change.verdict());
    }

    @Test
    void latencyRegressionAndImprovementAreJudgedOnMedians() {
        List<ResultRow> base = new ArrayList<>();
        List<ResultRow> cand = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            base.add(TestRows.latency("full", 4096, i, 10 + i * 0.01).run("b").build());
            base.add(TestRows.latency("h2o:k=4", 4096, i, 5 + i * 0.01).run("b").build());
            cand.add(TestRows.latency("full", 4096, i, 11 + i * 0.01).run("c").build());
            cand.add(TestRows.latency("h2o:k=4", 4096, i, 4 + i * 0.01).run("c").build());
        }
        // One wild repetition barely moves the median and does not hide the improvement.
        cand.add(TestRows.latency("h2o:k=4", 4096, 9, 50).run("c").build());
        Comparison c = comparator.compare(base, cand);
        assertEquals(Verdict.REGRESSION, c.latency().get(0).verdict());
        assertEquals((11.035 / 10.035 - 1) * 100, c.latency().get(0).changePercent(), 1e-9);
        assertEquals(Verdict.IMPROVED, c.latency().get(1).verdict());
        assertEquals(9, c.latency().get(1).candidateRows());
        assertEquals(0.005512134923899629, c.latency().get(1).pValue(), 1e-12); // SciPy, exact
    }

    @Test
    void groupsOnOneSideAndDeviceChangesAreReported() {
        List<ResultRow> base = new ArrayList<>(scores("b", "full", 5, 5, 0));
        base.add(TestRows.latency("full", 4096, 0, 10).run("b").build());
        List<ResultRow> cand = new ArrayList<>(scores("c", "full", 5, 5, 0));
        cand.addAll(scores("c", "h2o:k=4", 5, 5, 0));
        cand.replaceAll(r -> new ResultRow(r.source(), r.line(), r.runId(), r.kind(), r.modelFile(), "other gpu",
                r.method(), r.methodName(), r.seed(), r.task(), r.length(), r.sampleIndex(), r.score(), r.prefillMs(),
                r.decodeMsMean(), r.decodeMsP50(), r.decodeMsP90(), r.tokensGenerated(), r.attendedRowsMean(),
                r.nllSum(), r.tokensScored(), r.attentionMassRecall(), r.boundSpeedup(), r.suiteCommit(), r.backend(), r.kvFill()));
        Comparison c = comparator.compare(base, cand);
        assertEquals(List.of("latency m.gguf / Full attention / 4K"), c.onlyInBaseline());
        assertEquals(List.of("ruler m.gguf / H2O K=4 / 32K"), c.onlyInCandidate());
        assertTrue(c.notes().getFirst().startsWith("The runs used different devices (baseline: dev; candidate: other gpu)"));
        assertEquals(List.of("b"), c.baselineRuns());
    }

    @Test
    void perplexityChangesAreReportedNotGated() {
        List<ResultRow> base = List.of(TestRows.ppl("full", "pg19", 100, 100).build());
        List<ResultRow> cand = List.of(TestRows.ppl("full", "pg19", 200, 100).build());
        Comparison c = comparator.compare(base, cand);
        assertEquals(Math.exp(2), c.perplexity().getFirst().candidate(), 1e-9);
        assertEquals((Math.exp(1) - 1) * 100, c.perplexity().getFirst().changePercent(), 1e-9);
        assertEquals(0, c.regressionCount());
        assertTrue(c.comparedAnything());
    }
}
