package org.rbench.harness.run;

import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.LayerDiagnostics;
import org.rbench.core.engine.PrefillResult;
import org.rbench.llamacpp.Vocabulary;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a method's decode did to the prompt's answer spans, step by step and layer by layer,
 * measured by decoding again: the timed decode stays a latency measurement, and a second
 * decode from the same prefilled state, fed the tokens the timed one generated, computes
 * full attention beside the method's at every layer ({@link Decoder#withDiagnostics(int[],
 * java.util.function.Consumer)}). Its rows: the results row's summary columns and the detail
 * file's per-step rows (definitions in docs/CSV.md).
 *
 * @param layers     every layer of every step, in order
 * @param massRecall the decoder's mean attention mass recall
 * @param divergedAt the first step whose greedy token differs from the timed decode's (-1: none;
 *                   a method is deterministic, so this would be a bug worth a warning)
 */
record AnswerDiagnostics(List<LayerDiagnostics> layers, int[] answerPositions, double massRecall, int divergedAt) {

    /**
     * Decodes {@code steps} steps under a fresh {@code policy} from the engine's current state
     * (the restored prefill), feeding {@code generated} as the timed decode did.
     */
    static AnswerDiagnostics replay(Engine engine, AttentionPolicy policy, PrefillResult prefill, int[] generated,
                                    int steps, int[] answerPositions, Vocabulary vocab) {
        List<LayerDiagnostics> layers = new ArrayList<>();
        int diverged = -1;
        try (Decoder d = engine.decoder(policy, prefill.statistics())) {
            d.withDiagnostics(answerPositions, layers::add);
            for (int s = 0; s < steps; s++) {
                int next = Greedy.argmax(d.step(generated[s]));
                boolean same = s + 1 < generated.length ? next == generated[s + 1] : vocab.isEndOfGeneration(next);
                if (!same && diverged < 0) {
                    diverged = s;
                }
            }
            return new AnswerDiagnostics(List.copyOf(layers), answerPositions.clone(), d.meanMassRecall(), diverged);
        }
    }

    /** The results row's columns: {@code answer_tokens} and the per-row summaries of coverage, answer mass and focus. */
    Map<String, String> summaryColumns() {
        Map<String, String> row = new LinkedHashMap<>();
        row.put("answer_tokens", Integer.toString(answerPositions.length));
        double coverageSum = 0;
        int coverageCount = 0;
        double mass = 0;
        double attended = 0;
        // per step: coverage summed over layers and the layers counted
        Map<Integer, double[]> perStep = new TreeMap<>();
        // per layer: each step's peak distance
        Map<Integer, List<Integer>> distances = new TreeMap<>();
        for (LayerDiagnostics d : layers) {
            if (Double.isFinite(d.trackedCoverage())) {
                double[] step = perStep.computeIfAbsent(d.step(), k -> new double[2]);
                coverageSum += d.trackedCoverage();
                coverageCount++;
                step[0] += d.trackedCoverage();
                step[1]++;
            }
            if (Double.isFinite(d.trackedMass())) {
                mass += d.trackedMass();
                attended += d.trackedMassAttended();
            }
            if (d.peakPosition() >= 0) {
                distances.computeIfAbsent(d.layer(), k -> new ArrayList<>()).add(distance(d.peakPosition()));
            }
        }
        row.put("answer_coverage_mean", coverageCount == 0 ? "" : RulerRun.fmt(coverageSum / coverageCount));
        double min = Double.POSITIVE_INFINITY;
        int minStep = -1;
        for (Map.Entry<Integer, double[]> e : perStep.entrySet()) {
            double mean = e.getValue()[0] / e.getValue()[1];
            if (mean < min) {
                min = mean;
                minStep = e.getKey();
            }
        }
        row.put("answer_coverage_min", minStep < 0 ? "" : RulerRun.fmt(min));
        row.put("answer_coverage_min_step", minStep < 0 ? "" : Integer.toString(minStep));
        row.put("answer_mass_recall", mass > 0 ? RulerRun.fmt(attended / mass) : "");
        int focus = focusLayer(distances);
        row.put("focus_layer", focus < 0 ? "" : Integer.toString(focus));
        int lost = -1;
        for (LayerDiagnostics d : layers) {
            if (d.layer() == focus && d.peakPosition() >= 0 && !d.peakAttended()) {
                lost = d.step();
                break;
            }
        }
        row.put("focus_lost_step", lost < 0 ? "" : Integer.toString(lost));
        return row;
    }

    /**
     * The layer whose attention peak lies nearest the answers: the smallest median distance
     * over the steps (the lower layer on a tie); -1 without answers.
     */
    static int focusLayer(Map<Integer, List<Integer>> distancesByLayer) {
        int best = -1;
        double bestMedian = Double.POSITIVE_INFINITY;
        for (Map.Entry<Integer, List<Integer>> e : distancesByLayer.entrySet()) {
            int[] sorted = e.getValue().stream().mapToInt(Integer::intValue).sorted().toArray();
            double median = (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2.0;
            if (median < bestMedian) {
                bestMedian = median;
                best = e.getKey();
            }
        }
        return best;
    }

    /** Tokens from a position to the nearest answer token (0: an answer token). */
    int distance(int position) {
        int at = Arrays.binarySearch(answerPositions, position);
        if (at >= 0) {
            return 0;
        }
        int after = -at - 1;
        int best = Integer.MAX_VALUE;
        if (after < answerPositions.length) {
            best = answerPositions[after] - position;
        }
        if (after > 0) {
            best = Math.min(best, position - answerPositions[after - 1]);
        }
        return best;
    }

    /** The detail file's rows, one per step and layer of the first {@code steps} steps, under the unit's columns. */
    List<Map<String, String>> detailRows(Map<String, String> unit, int steps) {
        List<Map<String, String>> rows = new ArrayList<>(layers.size());
        int first = answerPositions.length == 0 ? -1 : answerPositions[0];
        for (LayerDiagnostics d : layers) {
            if (d.step() >= steps) {
                break;
            }
            Map<String, String> row = new LinkedHashMap<>(unit);
            row.put("step", Integer.toString(d.step()));
            row.put("position", Integer.toString(d.position()));
            row.put("layer", Integer.toString(d.layer()));
            row.put("whole_cache", d.wholeCache() ? "1" : "0");
            row.put("attended_rows", Integer.toString(d.attendedRows()));
            row.put("answer_coverage", fmt(d.trackedCoverage()));
            row.put("mass_recall", fmt(d.massRecall()));
            row.put("topk_overlap", fmt(d.topKOverlap()));
            row.put("answer_mass", fmt(d.trackedMass()));
            row.put("answer_mass_recall", fmt(d.trackedMassRecall()));
            boolean peak = d.peakPosition() >= 0;
            row.put("peak_offset", peak ? Integer.toString(d.peakPosition() - first) : "");
            row.put("peak_distance", peak ? Integer.toString(distance(d.peakPosition())) : "");
            row.put("peak_attended", peak ? (d.peakAttended() ? "1" : "0") : "");
            rows.add(row);
        }
        return rows;
    }

    /** Four decimals (the detail file is large), empty for NaN. */
    private static String fmt(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "";
    }
}
