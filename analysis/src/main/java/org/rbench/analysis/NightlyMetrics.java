package org.rbench.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Reduces one night's results rows to the history's rows: per (suite commit, machine, backend,
 * model, method, length) and metric, one value with its spread and sample count.
 * <ul>
 *   <li>latency rows: {@code latency.ms_per_token} (mean of the repetitions' decode_ms_mean) and
 *       {@code latency.tokens_per_s} (mean of the repetitions' 1000 / decode_ms_mean, as
 *       llama-bench averages t/s over repetitions);</li>
 *   <li>RULER rows: {@code ruler.accuracy} (the RULER average of {@link ResultsAggregator}: tasks
 *       weigh equally), {@code ruler.s_per_example} and {@code ruler.ms_per_token};</li>
 *   <li>ppl rows: {@code ppl.perplexity:<text>}, exp(sum nll / sum tokens) per text.</li>
 * </ul>
 * The machine is the rows' {@code device} column unless the caller names one (two machines with
 * the same CPU model would otherwise share a history); a missing commit or device reads "unknown".
 */
public final class NightlyMetrics {
    private NightlyMetrics() {
    }

    /**
     * @param machine the machine's name, or null to take each row's {@code device}
     */
    public static List<NightlyMeasurement> of(List<ResultRow> rows, String night, String machine) {
        Map<Provenance, List<ResultRow>> byProvenance = new LinkedHashMap<>();
        for (ResultRow row : rows) {
            Provenance p = new Provenance(orUnknown(row.suiteCommit()), machine != null ? machine : orUnknown(row.device()),
                    orUnknown(row.backend()));
            byProvenance.computeIfAbsent(p, k -> new ArrayList<>()).add(row);
        }
        List<NightlyMeasurement> result = new ArrayList<>();
        byProvenance.forEach((p, members) -> {
            latency(p, night, members, result);
            ruler(p, night, members, result);
            perplexity(p, night, members, result);
        });
        result.sort((a, b) -> TrendSeries.ORDER.compare(a.series(), b.series()));
        return result;
    }

    private record Provenance(String commit, String machine, String backend) {
        TrendSeries series(String model, String method, int length, TrendMetric metric) {
            return new TrendSeries(machine, backend, model, method, length, metric.name());
        }
    }

    private static void latency(Provenance p, String night, List<ResultRow> rows, List<NightlyMeasurement> out) {
        ResultsAggregator.group(ResultsAggregator.ofKind(rows, Kind.LATENCY),
                r -> new GroupKey(r.modelFile(), r.method(), r.length(), null)).forEach((key, members) -> {
                    double[] ms = Statistics.finiteValues(members, ResultRow::decodeMsMean);
                    if (ms.length == 0) {
                        return;
                    }
                    double[] perSecond = new double[ms.length];
                    for (int i = 0; i < ms.length; i++) {
                        perSecond[i] = 1000 / ms[i];
                    }
                    out.add(measurement(p, night, key, TrendMetric.of(Kind.LATENCY, TrendMetric.Quantity.MS_PER_TOKEN), ms));
                    out.add(measurement(p, night, key, TrendMetric.of(Kind.LATENCY, TrendMetric.Quantity.TOKENS_PER_S),
                            perSecond));
                });
    }

    private static void ruler(Provenance p, String night, List<ResultRow> rows, List<NightlyMeasurement> out) {
        List<ResultRow> ruler = ResultsAggregator.ofKind(rows, Kind.RULER);
        Map<GroupKey, List<ResultRow>> groups = ResultsAggregator.group(ruler,
                r -> new GroupKey(r.modelFile(), r.method(), r.length(), null));
        for (AccuracyRow row : new ResultsAggregator(0, ResultsAggregator.DEFAULT_SEED).rulerAverages(ruler)) {
            GroupKey key = new GroupKey(row.model(), row.method(), row.length(), null);
            List<ResultRow> members = groups.get(key);
            // the RULER average weighs tasks equally, so the samples' spread is not its spread
            out.add(new NightlyMeasurement(night, p.commit(), p.series(key.model(), key.method(), key.length(),
                    TrendMetric.of(Kind.RULER, TrendMetric.Quantity.ACCURACY)), row.accuracy(), Double.NaN, row.samples()));
            out.add(measurement(p, night, key, TrendMetric.of(Kind.RULER, TrendMetric.Quantity.S_PER_EXAMPLE),
                    Statistics.finiteValues(members, ResultRow::secondsPerExample)));
            out.add(measurement(p, night, key, TrendMetric.of(Kind.RULER, TrendMetric.Quantity.MS_PER_TOKEN),
                    Statistics.finiteValues(members, ResultRow::decodeMsMean)));
        }
        out.removeIf(m -> Double.isNaN(m.value()));
    }

    private static void perplexity(Provenance p, String night, List<ResultRow> rows, List<NightlyMeasurement> out) {
        for (PerplexityRow row : new ResultsAggregator(0, ResultsAggregator.DEFAULT_SEED).perplexity(rows)) {
            if (Double.isFinite(row.perplexity())) {
                out.add(new NightlyMeasurement(night, p.commit(), p.series(row.model(), row.method(), row.length(),
                        TrendMetric.perplexity(row.dataset())), row.perplexity(), Double.NaN, row.samples()));
            }
        }
    }

    private static NightlyMeasurement measurement(Provenance p, String night, GroupKey key, TrendMetric metric,
            double[] values) {
        return new NightlyMeasurement(night, p.commit(), p.series(key.model(), key.method(), key.length(), metric),
                Statistics.mean(values), values.length > 1 ? Statistics.stddev(values) : Double.NaN, values.length);
    }

    private static String orUnknown(String value) {
        return Objects.requireNonNullElse(value, "").isBlank() ? "unknown" : value.trim();
    }
}
