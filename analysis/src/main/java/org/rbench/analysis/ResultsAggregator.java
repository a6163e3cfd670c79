package org.rbench.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Reduces result rows to the per-group numbers the tables and plots show. Groups are returned in
 * {@link GroupKey#ORDER}. Bootstrap intervals are seeded per group (see {@link SeededRandom#derive}),
 * so the output depends only on the input rows, the resample count and the seed.
 */
public final class ResultsAggregator {
    public static final int DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
    public static final long DEFAULT_SEED = 1;

    private final int bootstrapResamples;
    private final long seed;

    public ResultsAggregator(int bootstrapResamples, long seed) {
        this.bootstrapResamples = bootstrapResamples;
        this.seed = seed;
    }

    public int bootstrapResamples() {
        return bootstrapResamples;
    }

    public long seed() {
        return seed;
    }

    /** The RULER average per (model, method, length): the paper's main table. */
    public List<AccuracyRow> rulerAverages(List<ResultRow> rows) {
        return accuracy(rows, false);
    }

    /** RULER accuracy per (model, method, length, task). */
    public List<AccuracyRow> rulerPerTask(List<ResultRow> rows) {
        return accuracy(rows, true);
    }

    private List<AccuracyRow> accuracy(List<ResultRow> rows, boolean perTask) {
        List<ResultRow> ruler = ofKind(rows, Kind.RULER);
        SpeedupIndex speedups = SpeedupIndex.build(ruler, perTask);
        List<AccuracyRow> result = new ArrayList<>();
        group(ruler, r -> new GroupKey(r.modelFile(), r.method(), r.length(), perTask ? r.task() : null))
                .forEach((key, members) -> {
                    Map<String, List<ResultRow>> byTask = new TreeMap<>(NaturalOrder.INSTANCE);
                    members.forEach(r -> byTask.computeIfAbsent(r.task(), t -> new ArrayList<>()).add(r));
                    List<double[]> strata = byTask.values().stream()
                            .map(taskRows -> Statistics.finiteValues(taskRows, ResultRow::score))
                            .toList();
                    result.add(new AccuracyRow(
                            key.model(), key.method(), key.length(), key.task(), byTask.size(), members.size(),
                            Statistics.macroMean(strata),
                            Bootstrap.macroMeanInterval(strata, bootstrapResamples, SeededRandom.derive(seed, key.id())),
                            Statistics.finiteMean(members, ResultRow::secondsPerExample),
                            Statistics.finiteMean(members, ResultRow::prefillSeconds),
                            Statistics.finiteMean(members, ResultRow::decodeMsMean),
                            speedups.speedup(key.model(), key.method(), key.length(), key.task()),
                            Statistics.finiteMean(members, ResultRow::attendedRowsMean),
                            Statistics.finiteMean(members, ResultRow::boundSpeedup),
                            members.stream().anyMatch(ResultRow::sharedPrefill)));
                });
        return result;
    }

    /** Perplexity per (model, method, length, dataset). */
    public List<PerplexityRow> perplexity(List<ResultRow> rows) {
        List<PerplexityRow> result = new ArrayList<>();
        group(ofKind(rows, Kind.PPL), r -> new GroupKey(r.modelFile(), r.method(), r.length(), r.task()))
                .forEach((key, members) -> {
                    double nll = members.stream().mapToDouble(ResultRow::nllSum).sum();
                    double tokens = members.stream().mapToDouble(ResultRow::tokensScored).sum();
                    result.add(new PerplexityRow(key.model(), key.method(), key.length(), key.task(),
                            members.size(), tokens, nll, tokens > 0 ? Math.exp(nll / tokens) : Double.NaN));
                });
        return result;
    }

    /** Decode latency per (model, method, length) from latency rows. */
    public List<LatencyRow> latency(List<ResultRow> rows) {
        List<ResultRow> latency = ofKind(rows, Kind.LATENCY);
        SpeedupIndex speedups = SpeedupIndex.build(latency, false);
        List<LatencyRow> result = new ArrayList<>();
        group(latency, r -> new GroupKey(r.modelFile(), r.method(), r.length(), null))
                .forEach((key, members) -> result.add(new LatencyRow(
                        key.model(), key.method(), key.length(), members.size(),
                        Statistics.finiteMean(members, ResultRow::prefillMs),
                        Statistics.finiteMean(members, ResultRow::decodeMsMean),
                        Statistics.finiteMean(members, ResultRow::decodeMsP50),
                        Statistics.finiteMean(members, ResultRow::decodeMsP90),
                        speedups.speedup(key.model(), key.method(), key.length(), null),
                        Statistics.finiteMean(members, ResultRow::boundSpeedup),
                        Statistics.finiteMean(members, ResultRow::attendedRowsMean),
                        Statistics.finiteMean(members, ResultRow::attentionMassRecall))));
        return result;
    }

    /** Mean attention mass recall per (model, method, length), over rows of any kind that measured it. */
    public List<RecallRow> attentionMassRecall(List<ResultRow> rows) {
        List<ResultRow> measured = rows.stream().filter(r -> Double.isFinite(r.attentionMassRecall())).toList();
        List<RecallRow> result = new ArrayList<>();
        group(measured, r -> new GroupKey(r.modelFile(), r.method(), r.length(), null))
                .forEach((key, members) -> result.add(new RecallRow(key.model(), key.method(), key.length(),
                        members.size(), Statistics.finiteMean(members, ResultRow::attentionMassRecall))));
        return result;
    }

    static List<ResultRow> ofKind(List<ResultRow> rows, Kind kind) {
        return rows.stream().filter(r -> r.kind() == kind).toList();
    }

    static Map<GroupKey, List<ResultRow>> group(List<ResultRow> rows, Function<ResultRow, GroupKey> key) {
        Map<GroupKey, List<ResultRow>> groups = new TreeMap<>(GroupKey.ORDER);
        for (ResultRow row : rows) {
            groups.computeIfAbsent(key.apply(row), k -> new ArrayList<>()).add(row);
        }
        return new LinkedHashMap<>(groups);
    }
}
