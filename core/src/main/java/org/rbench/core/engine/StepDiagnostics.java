package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.ScoreSelection;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.BitSet;
import java.util.function.Consumer;

/**
 * A decoder's attention-mass diagnostics ({@link Decoder#withDiagnostics}): per layer and step,
 * what the plan attended against full attention's probabilities computed beside it (mass recall,
 * top-K overlap) and what became of the tracked cache positions (a prompt's answer spans), summed
 * for the run's means and handed on per layer-step.
 */
final class StepDiagnostics {
    private final HyperParameters hp;
    private final AttentionPolicy policy;
    /** Cache positions whose attention the diagnostics follow, ascending (empty: none). */
    private final int[] tracked;
    private final Consumer<LayerDiagnostics> perLayerStep;
    private double recallSum;
    private double overlapSum;
    private long diagnosed;

    StepDiagnostics(HyperParameters hp, AttentionPolicy policy, int[] tracked, Consumer<LayerDiagnostics> perLayerStep) {
        this.hp = hp;
        this.policy = policy;
        this.tracked = tracked;
        this.perLayerStep = perLayerStep;
    }

    /** Mean over layer-steps and query heads of the attended share of full attention's mass (NaN before any). */
    double meanMassRecall() {
        return diagnosed == 0 ? Double.NaN : recallSum / diagnosed;
    }

    /** Mean share of full attention's top-|attended| rows that were attended (NaN before any). */
    double meanTopKOverlap() {
        return diagnosed == 0 ? Double.NaN : overlapSum / diagnosed;
    }

    /**
     * Measures layer {@code l} of step {@code step} from {@code full}, full attention's
     * probabilities computed beside the plan ({@code [keys, 1, heads]}; null where the graph
     * computed none), and hands the layer's {@link LayerDiagnostics} on.
     */
    void diagnose(Tensor full, AttentionPlan plan, int step, int l, int position) {
        int heads = hp.heads();
        int group = heads / hp.kvHeads();
        int valid = position + 1;
        boolean whole = plan.readsWholeCache();
        if (full == null) {
            if (whole) { // nothing to compare with, nothing missed
                recallSum += heads;
                overlapSum += heads;
                diagnosed += heads;
            }
            return;
        }
        BitSet[] attended = new BitSet[hp.kvHeads()];
        for (int g = 0; g < hp.kvHeads(); g++) {
            int[] rows = whole ? null : plan.attendedPositions(g, position);
            if (!whole && rows == null) {
                rows = policy.compactPositions(l, g);
            }
            if (!whole && rows == null) {
                return; // neither the plan nor the policy says which positions the layer read
            }
            attended[g] = new BitSet(valid);
            if (whole) {
                attended[g].set(0, valid);
            } else {
                for (int r : rows) {
                    if (r >= 0 && r < valid) {
                        attended[g].set(r);
                    }
                }
            }
        }
        float[] p = full.getFloats();
        int keys = (int) full.ne(0);
        double recall = 0;
        double overlap = 0;
        double trackedMass = 0;
        double trackedAttended = 0;
        double coverage = 0;
        int trackedValid = 0;
        for (int t : tracked) {
            trackedValid += t < valid ? 1 : 0;
        }
        int peak = -1;
        int peakDistance = Integer.MAX_VALUE;
        boolean peakAttended = false;
        for (int h = 0; h < heads; h++) {
            BitSet in = attended[h / group];
            int base = h * keys;
            double headRecall = 1;
            double headOverlap = 1;
            if (!whole) {
                headRecall = 0;
                for (int r = in.nextSetBit(0); r >= 0; r = in.nextSetBit(r + 1)) {
                    headRecall += p[base + r];
                }
                int k = in.cardinality();
                int hits = 0;
                if (k > 0) {
                    for (int r : ScoreSelection.topKByScore(Arrays.copyOfRange(p, base, base + valid), k)) {
                        if (in.get(r)) {
                            hits++;
                        }
                    }
                }
                headOverlap = k == 0 ? 0 : (double) hits / k;
            }
            double headTracked = 0;
            double headTrackedAttended = 0;
            int covered = 0;
            for (int t : tracked) {
                if (t < valid) {
                    headTracked += p[base + t];
                    if (in.get(t)) {
                        headTrackedAttended += p[base + t];
                        covered++;
                    }
                }
            }
            if (trackedValid > 0) {
                int top = 0;
                for (int r = 1; r < valid; r++) {
                    if (p[base + r] > p[base + top]) {
                        top = r;
                    }
                }
                int distance = distanceToTracked(top);
                if (distance < peakDistance) {
                    peakDistance = distance;
                    peak = top;
                    peakAttended = in.get(top);
                }
            }
            recall += headRecall;
            overlap += headOverlap;
            trackedMass += headTracked;
            trackedAttended += headTrackedAttended;
            coverage += trackedValid == 0 ? 0 : (double) covered / trackedValid;
        }
        recallSum += recall;
        overlapSum += overlap;
        diagnosed += heads;
        double none = Double.NaN;
        perLayerStep.accept(new LayerDiagnostics(step, l, position, whole, plan.rows(position), recall / heads,
                overlap / heads, trackedValid == 0 ? none : coverage / heads, trackedValid == 0 ? none : trackedMass / heads,
                trackedValid == 0 ? none : trackedAttended / heads, peak, peakAttended));
    }

    /** Positions from {@code position} to the nearest tracked position (0: a tracked one). */
    private int distanceToTracked(int position) {
        int at = Arrays.binarySearch(tracked, position);
        if (at >= 0) {
            return 0;
        }
        int after = -at - 1;
        int best = Integer.MAX_VALUE;
        if (after < tracked.length) {
            best = tracked[after] - position;
        }
        if (after > 0) {
            best = Math.min(best, position - tracked[after - 1]);
        }
        return best;
    }
}
