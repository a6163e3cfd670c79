package org.rbench.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares a candidate run with a baseline, metric by metric, and judges each change with
 * {@link Verdict#judge}.
 * <ul>
 *   <li>Accuracy: RULER average per (model, method, length). When both runs scored exactly the
 *       same samples (task, length, sample_index, seed), a paired sign-flip test; otherwise a
 *       permutation test stratified by task. Both are seeded, so reports are reproducible.</li>
 *   <li>Latency: per-row decode_ms_mean per (kind, model, method, length), medians and a
 *       Mann-Whitney U test. Latency rows and RULER rows are compared separately, since they
 *       time different workloads.</li>
 *   <li>Perplexity: reported for information only; a per-chunk NLL test would need the chunks'
 *       token counts to be equal, and the gate does not need it.</li>
 * </ul>
 */
public final class RunComparator {
    public static final int DEFAULT_ITERATIONS = 10_000;
    public static final long DEFAULT_SEED = 1;

    private final ComparisonThresholds thresholds;
    private final int iterations;
    private final long seed;

    public RunComparator(ComparisonThresholds thresholds, int iterations, long seed) {
        this.thresholds = thresholds;
        this.iterations = iterations;
        this.seed = seed;
    }

    public Comparison compare(List<ResultRow> baseline, List<ResultRow> candidate) {
        List<String> onlyInBaseline = new ArrayList<>();
        List<String> onlyInCandidate = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<AccuracyChange> accuracy = compareAccuracy(baseline, candidate, onlyInBaseline, onlyInCandidate, notes);
        List<LatencyChange> latency = new ArrayList<>();
        for (Kind kind : List.of(Kind.LATENCY, Kind.RULER)) {
            latency.addAll(compareLatency(kind, baseline, candidate,
                    kind == Kind.LATENCY ? onlyInBaseline : null, kind == Kind.LATENCY ? onlyInCandidate : null));
        }
        List<PerplexityChange> perplexity = comparePerplexity(baseline, candidate, onlyInBaseline, onlyInCandidate);
        Set<String> baselineDevices = distinctNonEmpty(baseline.stream().map(ResultRow::device).toList());
        Set<String> candidateDevices = distinctNonEmpty(candidate.stream().map(ResultRow::device).toList());
        if (!baselineDevices.isEmpty() && !candidateDevices.isEmpty() && !baselineDevices.equals(candidateDevices)) {
            notes.add("The runs used different devices (baseline: " + String.join(", ", baselineDevices)
                    + "; candidate: " + String.join(", ", candidateDevices)
                    + "); latency changes may come from the machine, not the code.");
        }
        return new Comparison(
                List.copyOf(distinctNonEmpty(baseline.stream().map(ResultRow::runId).toList())),
                List.copyOf(distinctNonEmpty(candidate.stream().map(ResultRow::runId).toList())),
                accuracy, latency, perplexity, onlyInBaseline, onlyInCandidate, notes);
    }

    private List<AccuracyChange> compareAccuracy(List<ResultRow> baseline, List<ResultRow> candidate,
            List<String> onlyInBaseline, List<String> onlyInCandidate, List<String> notes) {
        Map<GroupKey, List<ResultRow>> base = groups(baseline, Kind.RULER);
        Map<GroupKey, List<ResultRow>> cand = groups(candidate, Kind.RULER);
        List<AccuracyChange> changes = new ArrayList<>();
        for (GroupKey key : union(base, cand)) {
            if (!cand.containsKey(key)) {
                onlyInBaseline.add(describe(Kind.RULER, key));
                continue;
            }
            if (!base.containsKey(key)) {
                onlyInCandidate.add(describe(Kind.RULER, key));
                continue;
            }
            Map<String, List<ResultRow>> baseTasks = byTask(base.get(key));
            Map<String, List<ResultRow>> candTasks = byTask(cand.get(key));
            List<String> common = baseTasks.keySet().stream().filter(candTasks::containsKey).toList();
            if (common.isEmpty()) {
                notes.add(describe(Kind.RULER, key) + ": no task in common, accuracy not compared.");
                continue;
            }
            if (common.size() < baseTasks.size() || common.size() < candTasks.size()) {
                notes.add(describe(Kind.RULER, key) + ": compared on the " + common.size()
                        + " tasks both runs have (" + String.join(", ", common) + ").");
            }
            List<double[]> baseScores = new ArrayList<>();
            List<double[]> candScores = new ArrayList<>();
            List<double[]> differences = new ArrayList<>();
            boolean paired = true;
            int baseSamples = 0;
            int candSamples = 0;
            for (String task : common) {
                List<ResultRow> b = baseTasks.get(task);
                List<ResultRow> c = candTasks.get(task);
                baseScores.add(b.stream().mapToDouble(ResultRow::score).toArray());
                candScores.add(c.stream().mapToDouble(ResultRow::score).toArray());
                baseSamples += b.size();
                candSamples += c.size();
                double[] d = pairedDifferences(b, c);
                paired &= d != null;
                differences.add(d);
            }
            double before = Statistics.macroMean(baseScores);
            double after = Statistics.macroMean(candScores);
            long groupSeed = SeededRandom.derive(seed, "accuracy|" + key.id());
            double p = paired
                    ? PermutationTest.pairedSignFlip(differences, iterations, groupSeed)
                    : PermutationTest.stratifiedUnpaired(baseScores, candScores, iterations, groupSeed);
            double change = after - before;
            changes.add(new AccuracyChange(key.model(), key.method(), key.length(), common.size(), baseSamples,
                    candSamples, before, after, change, p, paired,
                    Verdict.judge(-change, thresholds.maxAccuracyDropPoints(), p, thresholds.alpha())));
        }
        return changes;
    }

    /**
     * Candidate minus baseline score per sample, in sample-key order, or null when the two runs
     * did not score exactly the same samples (then only an unpaired test is valid).
     */
    private static double[] pairedDifferences(List<ResultRow> baseline, List<ResultRow> candidate) {
        Map<String, Double> base = new HashMap<>();
        for (ResultRow row : baseline) {
            if (base.put(row.sampleKey(), row.score()) != null) {
                return null; // duplicated sample: pairing would be ambiguous
            }
        }
        Map<String, Double> cand = new HashMap<>();
        for (ResultRow row : candidate) {
            if (cand.put(row.sampleKey(), row.score()) != null) {
                return null;
            }
        }
        if (!base.keySet().equals(cand.keySet())) {
            return null;
        }
        return new TreeSet<>(base.keySet()).stream().mapToDouble(k -> cand.get(k) - base.get(k)).toArray();
    }

    private List<LatencyChange> compareLatency(Kind kind, List<ResultRow> baseline, List<ResultRow> candidate,
            List<String> onlyInBaseline, List<String> onlyInCandidate) {
        Map<GroupKey, List<ResultRow>> base = groups(baseline, kind);
        Map<GroupKey, List<ResultRow>> cand = groups(candidate, kind);
        List<LatencyChange> changes = new ArrayList<>();
        for (GroupKey key : union(base, cand)) {
            if (!base.containsKey(key) || !cand.containsKey(key)) {
                // RULER groups are already listed by the accuracy comparison.
                List<String> missing = base.containsKey(key) ? onlyInBaseline : onlyInCandidate;
                if (missing != null) {
                    missing.add(describe(kind, key));
                }
                continue;
            }
            double[] before = Statistics.finiteValues(base.get(key), ResultRow::decodeMsMean);
            double[] after = Statistics.finiteValues(cand.get(key), ResultRow::decodeMsMean);
            if (before.length == 0 || after.length == 0) {
                continue; // not timed on one side: nothing to compare
            }
            double medianBefore = Statistics.median(before);
            double medianAfter = Statistics.median(after);
            double changePercent = (medianAfter / medianBefore - 1) * 100;
            double p = MannWhitneyTest.twoSidedP(before, after);
            changes.add(new LatencyChange(kind, key.model(), key.method(), key.length(), before.length, after.length,
                    medianBefore, medianAfter, changePercent, p,
                    Verdict.judge(changePercent, thresholds.maxLatencyRegressionPercent(), p, thresholds.alpha())));
        }
        return changes;
    }

    private static List<PerplexityChange> comparePerplexity(List<ResultRow> baseline, List<ResultRow> candidate,
            List<String> onlyInBaseline, List<String> onlyInCandidate) {
        ResultsAggregator aggregator = new ResultsAggregator(0, 0);
        Map<GroupKey, PerplexityRow> base = new TreeMap<>(GroupKey.ORDER);
        aggregator.perplexity(baseline).forEach(r -> base.put(pplKey(r), r));
        Map<GroupKey, PerplexityRow> cand = new TreeMap<>(GroupKey.ORDER);
        aggregator.perplexity(candidate).forEach(r -> cand.put(pplKey(r), r));
        List<PerplexityChange> changes = new ArrayList<>();
        for (GroupKey key : union(base, cand)) {
            PerplexityRow before = base.get(key);
            PerplexityRow after = cand.get(key);
            if (before == null || after == null) {
                (before == null ? onlyInCandidate : onlyInBaseline).add(describe(Kind.PPL, key));
                continue;
            }
            changes.add(new PerplexityChange(key.model(), key.method(), key.length(), key.task(), before.perplexity(),
                    after.perplexity(), (after.perplexity() / before.perplexity() - 1) * 100));
        }
        return changes;
    }

    private static GroupKey pplKey(PerplexityRow row) {
        return new GroupKey(row.model(), row.method(), row.length(), row.dataset());
    }

    private static Map<GroupKey, List<ResultRow>> groups(List<ResultRow> rows, Kind kind) {
        return ResultsAggregator.group(ResultsAggregator.ofKind(rows, kind),
                r -> new GroupKey(r.modelFile(), r.method(), r.length(), null));
    }

    private static Map<String, List<ResultRow>> byTask(List<ResultRow> rows) {
        Map<String, List<ResultRow>> tasks = new TreeMap<>(NaturalOrder.INSTANCE);
        rows.forEach(r -> tasks.computeIfAbsent(r.task(), t -> new ArrayList<>()).add(r));
        return tasks;
    }

    private static <V> List<GroupKey> union(Map<GroupKey, V> a, Map<GroupKey, V> b) {
        TreeSet<GroupKey> keys = new TreeSet<>(GroupKey.ORDER);
        keys.addAll(a.keySet());
        keys.addAll(b.keySet());
        return List.copyOf(keys);
    }

    static String describe(Kind kind, GroupKey key) {
        return kind.csvName() + " " + key.model() + " / " + MethodLabel.of(key.method()) + " / "
                + LengthLabel.of(key.length()) + (key.task() == null ? "" : " / " + key.task());
    }

    private static Set<String> distinctNonEmpty(List<String> values) {
        Set<String> result = new LinkedHashSet<>();
        values.stream().filter(v -> !v.isBlank()).sorted(NaturalOrder.INSTANCE).forEach(result::add);
        return result;
    }
}
