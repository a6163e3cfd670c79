package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The history's pieces: metrics from rows, the noise band, the check on made-up nights. */
class NightlyTrendTest {
    private static final List<String> METHODS = List.of("full", "recycled:k=256,s=16", "streamingllm:k=256",
            "h2o:k=256");
    private static final List<Integer> LENGTHS = List.of(2048, 4096);

    @Test
    void studentTMatchesTheTables() {
        assertEquals(12.7062047, StudentT.quantile(0.975, 1), 1e-6);
        assertEquals(2.7764451, StudentT.quantile(0.975, 4), 1e-6);
        assertEquals(2.0150484, StudentT.quantile(0.95, 5), 1e-6);
        assertEquals(2.0422725, StudentT.quantile(0.975, 30), 1e-6);
        assertEquals(0.9633062, StudentT.cdf(2.0, 10), 1e-6);
        assertEquals(0.5, StudentT.cdf(0, 3), 1e-12);
        assertEquals(-2.7764451, StudentT.quantile(0.025, 4), 1e-6);
    }

    @Test
    void theNoiseBandIsThePredictionIntervalOfTheNextNight() {
        NoiseBand band = NoiseBand.of(new double[] {10, 11, 9, 10, 10}, 0.05);
        assertEquals(10, band.mean(), 1e-12);
        assertEquals(Math.sqrt(0.5), band.stddev(), 1e-12);
        double halfWidth = 2.7764451 * Math.sqrt(0.5) * Math.sqrt(1 + 1 / 5.0);
        assertEquals(halfWidth, band.halfWidth(), 1e-6);
        assertEquals(0.05, band.pValue(band.high()), 1e-9, "the band's edge is where p reaches alpha");
        assertTrue(band.pValue(10.5) > 0.05 && band.pValue(13) < 0.05);
        NoiseBand flat = NoiseBand.of(new double[] {75, 75, 75}, 0.05);
        assertEquals(1, flat.pValue(75));
        assertEquals(0, flat.pValue(74), "without any noise, every change is significant");
        assertThrows(IllegalArgumentException.class, () -> NoiseBand.of(new double[] {1}, 0.05));
    }

    @Test
    void metricNamesRoundTrip() {
        for (TrendMetric m : List.of(TrendMetric.of(Kind.LATENCY, TrendMetric.Quantity.MS_PER_TOKEN),
                TrendMetric.of(Kind.RULER, TrendMetric.Quantity.ACCURACY), TrendMetric.perplexity("moby-dick"))) {
            assertEquals(m, TrendMetric.parse(m.name()));
        }
        assertEquals("ppl.perplexity:moby-dick", TrendMetric.perplexity("moby-dick").name());
        assertNull(TrendMetric.parse("ruler.joules"), "a newer writer's metric is unknown, not an error");
        assertNull(TrendMetric.parse("nonsense"));
    }

    @Test
    void aNightsRowsBecomeOneValuePerSeriesAndMetric() {
        List<ResultRow> rows = List.of(
                TestRows.latency("full", 4096, 0, 2.0).provenance("abc", "cpu").build(),
                TestRows.latency("full", 4096, 1, 2.5).provenance("abc", "cpu").build(),
                TestRows.ruler("full", "a", 0, 100).length(4096).timing(100, 10, 2).provenance("abc", "cpu").build(),
                TestRows.ruler("full", "a", 1, 0).length(4096).timing(300, 10, 4).provenance("abc", "cpu").build(),
                TestRows.ruler("full", "b", 0, 100).length(4096).timing(100, 10, 2).provenance("abc", "cpu").build(),
                TestRows.ruler("full", "b", 1, 100).length(4096).timing(100, 10, 2).provenance("abc", "cpu").build(),
                TestRows.ppl("full", "moby-dick", 200, 100).length(4096).provenance("abc", "cpu").build());
        Map<String, NightlyMeasurement> byMetric = NightlyMetrics.of(rows, "2026-12-01", null).stream()
                .collect(Collectors.toMap(m -> m.series().metric(), m -> m));
        assertEquals(List.of("latency.ms_per_token", "latency.tokens_per_s", "ppl.perplexity:moby-dick", "ruler.accuracy",
                "ruler.ms_per_token", "ruler.s_per_example"), byMetric.keySet().stream().sorted().toList());
        NightlyMeasurement ms = byMetric.get("latency.ms_per_token");
        assertEquals(2.25, ms.value(), 1e-12);
        assertEquals(Math.sqrt(0.125), ms.stddev(), 1e-12);
        assertEquals(2, ms.samples());
        assertEquals(new TrendSeries("dev", "cpu", "m.gguf", "full", 4096, "latency.ms_per_token"), ms.series());
        assertEquals("abc", ms.suiteCommit());
        assertEquals(450, byMetric.get("latency.tokens_per_s").value(), 1e-9, "mean of 500 and 400 tokens/s");
        assertEquals(75, byMetric.get("ruler.accuracy").value(), 1e-12, "tasks weigh equally: (50 + 100) / 2");
        assertEquals((0.12 + 0.34 + 0.12 + 0.12) / 4, byMetric.get("ruler.s_per_example").value(), 1e-12);
        assertEquals(Math.exp(2), byMetric.get("ppl.perplexity:moby-dick").value(), 1e-9);
        NightlyMeasurement named = NightlyMetrics.of(rows, "2026-12-01", "ci-runner-1").getFirst();
        assertEquals("ci-runner-1", named.series().machine(), "a named machine replaces the device column");
    }

    @Test
    void fiveNightsOfNoiseAreNotFlagged() {
        NightlyHistory history = new NightlyHistory(nights(5, new SplittableRandom(7), null));
        TrendCheck check = new TrendCheck(ComparisonThresholds.defaults(), TrendCheck.DEFAULT_WINDOW);
        for (String night : List.of("2026-12-03", "2026-12-04", "2026-12-05")) {
            TrendCheckResult result = check.check(history, night);
            assertEquals(List.of(), result.regressions(), result.markdown());
            assertEquals(METHODS.size() * LENGTHS.size() * 2, result.changes().size(), "ms/token and accuracy per series");
        }
        assertEquals("2026-12-05", check.check(history, null).night(), "the newest night by default");
    }

    @Test
    void aRegressionInjectedIntoOneNightIsFlaggedAndNamed() {
        List<NightlyMeasurement> measurements = nights(5, new SplittableRandom(7), null);
        measurements.addAll(nights(6, new SplittableRandom(8), "recycled:k=256,s=16").subList(
                5 * METHODS.size() * LENGTHS.size() * 2, 6 * METHODS.size() * LENGTHS.size() * 2));
        TrendCheckResult result = new TrendCheck(ComparisonThresholds.defaults(), TrendCheck.DEFAULT_WINDOW)
                .check(new NightlyHistory(measurements), null);
        assertEquals("2026-12-06", result.night());
        List<String> flagged = result.regressions().stream()
                .map(c -> c.series().metric() + " " + c.series().method() + " " + c.series().length()).sorted().toList();
        assertEquals(List.of("latency.ms_per_token recycled:k=256,s=16 4096",
                "ruler.accuracy recycled:k=256,s=16 4096"), flagged, result.markdown());
        String report = result.markdown();
        assertTrue(report.contains("2 regressions") && report.contains("Recycled K=256 S=16 at 4K")
                && report.contains("commit night6") && report.contains("the night before night5"), report);
    }

    @Test
    void aChangeMustBeBothBeyondTheThresholdAndOutsideTheNoise() {
        TrendSeries latency = new TrendSeries("m", "cpu", "x.gguf", "full", 4096, "latency.ms_per_token");
        TrendSeries accuracy = new TrendSeries("m", "cpu", "x.gguf", "full", 4096, "ruler.accuracy");
        List<NightlyMeasurement> rows = new ArrayList<>();
        double[] noisy = {1.0, 1.4, 0.8, 1.2, 1.0};
        for (int i = 0; i < noisy.length; i++) {
            rows.add(new NightlyMeasurement("2026-12-0" + (i + 1), "c" + i, latency, noisy[i], Double.NaN, 3));
            rows.add(new NightlyMeasurement("2026-12-0" + (i + 1), "c" + i, accuracy, 80, Double.NaN, 15));
        }
        rows.add(new NightlyMeasurement("2026-12-06", "c5", latency, 1.3, Double.NaN, 3));
        rows.add(new NightlyMeasurement("2026-12-06", "c5", accuracy, 79, Double.NaN, 15));
        Map<String, TrendChange> changes = new TrendCheck(ComparisonThresholds.defaults(), 7)
                .check(new NightlyHistory(rows), null).changes().stream()
                .collect(Collectors.toMap(c -> c.series().metric(), c -> c));
        assertEquals(Verdict.NOT_SIGNIFICANT, changes.get("latency.ms_per_token").verdict(), "+27% but inside the noise");
        assertEquals(Verdict.OK, changes.get("ruler.accuracy").verdict(), "outside a zero band, but 1 point < 2");
        assertEquals(-1, changes.get("ruler.accuracy").change(), 1e-12);
    }

    @Test
    void seriesTooYoungOrMissingAreNotedNotJudged() {
        TrendSeries s = new TrendSeries("m", "cpu", "x.gguf", "full", 4096, "latency.ms_per_token");
        TrendSeries gone = new TrendSeries("m", "cpu", "x.gguf", "h2o:k=8", 4096, "latency.ms_per_token");
        List<NightlyMeasurement> rows = List.of(
                new NightlyMeasurement("2026-12-01", "a", s, 1.0, Double.NaN, 3),
                new NightlyMeasurement("2026-12-01", "a", gone, 1.0, Double.NaN, 3),
                new NightlyMeasurement("2026-12-02", "b", s, 9.0, Double.NaN, 3));
        TrendCheckResult result = new TrendCheck(ComparisonThresholds.defaults(), 7).check(new NightlyHistory(rows), null);
        assertEquals(List.of(), result.changes());
        assertEquals(2, result.notes().size(), result.notes().toString());
        assertTrue(result.notes().get(0).contains("missing on 2026-12-02"), result.notes().toString());
        assertThrows(IllegalArgumentException.class, () -> new TrendCheck(ComparisonThresholds.defaults(), 7)
                .check(new NightlyHistory(rows), "2027-01-01"));
        assertThrows(IllegalArgumentException.class, () -> new TrendCheck(ComparisonThresholds.defaults(), 7)
                .check(new NightlyHistory(List.of()), null));
    }

    @Test
    void theTableAndThePlotsFollowTheSeries() {
        NightlyHistory history = new NightlyHistory(nights(5, new SplittableRandom(7), null));
        TrendCheck check = new TrendCheck(ComparisonThresholds.defaults(), 7);
        String table = new TrendTable(check, 3).markdown(history, m -> m.startsWith("latency."));
        assertTrue(table.contains("| 2026-12-03 | 2026-12-04 | 2026-12-05 |") && !table.contains("2026-12-02 |"), table);
        assertTrue(table.contains("night5") && !table.contains("ruler.accuracy"), table);
        List<TrendPlot> plots = new TrendPlots(30, 7, 0.05).plots(history, m -> true);
        assertEquals(List.of("latency.ms_per_token_2K", "latency.ms_per_token_4K", "ruler.accuracy_2K",
                "ruler.accuracy_4K"), plots.stream().map(TrendPlot::name).sorted().toList());
        TrendPlot.Line full = plots.getFirst().lines().getFirst();
        assertEquals("Full attention", full.label());
        assertTrue(Double.isNaN(full.bandLow()[1]) && Double.isFinite(full.bandLow()[2]),
                "a band from the third night on (two nights before it)");
    }

    /**
     * Made-up nights 2026-12-01.. of four methods at two lengths: ms/token with 2% noise around a
     * per-method level, RULER accuracy constant (a seeded run is deterministic on one machine).
     * In the last night, {@code regressed} (when set) decodes 30% slower at 4K and loses 10 points there.
     */
    static List<NightlyMeasurement> nights(int count, SplittableRandom random, String regressed) {
        List<NightlyMeasurement> rows = new ArrayList<>();
        for (int night = 1; night <= count; night++) {
            String date = "2026-12-0" + night;
            for (int m = 0; m < METHODS.size(); m++) {
                for (int length : LENGTHS) {
                    String method = METHODS.get(m);
                    boolean hit = night == count && method.equals(regressed) && length == 4096;
                    double ms = (m == 0 ? 1.2 : 0.8) * length / 2048.0 * (1 + 0.02 * random.nextGaussian())
                            * (hit ? 1.3 : 1);
                    double accuracy = (m == 0 ? 98.0 : 70.0) - (hit ? 10 : 0);
                    rows.add(new NightlyMeasurement(date, "night" + night,
                            new TrendSeries("AMD EPYC", "cpu", "run10.gguf", method, length, "latency.ms_per_token"),
                            ms, 0.01, 3));
                    rows.add(new NightlyMeasurement(date, "night" + night,
                            new TrendSeries("AMD EPYC", "cpu", "run10.gguf", method, length, "ruler.accuracy"),
                            accuracy, Double.NaN, 15));
                }
            }
        }
        return rows;
    }
}
