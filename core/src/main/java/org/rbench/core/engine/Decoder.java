package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.QueryVectors;
import org.rbench.core.attention.TopRows;
import org.rbench.core.select.ScoreSelection;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * One decoding run: feeds one token per {@link #step}, asks the policy for each layer's
 * plan, computes the step on the device, returns the logits and records the step's
 * time. Closing it closes the policy.
 */
public final class Decoder implements AutoCloseable {
    private final Engine engine;
    private final AttentionPolicy policy;
    private final HyperParameters hp;
    private final StepTimings timings = new StepTimings();
    private int step;
    private long attendedRows;
    private int fullSteps;
    private long fullLayerSteps;
    private boolean diagnostics;
    private double recallSum;
    private double overlapSum;
    private long diagnosed;
    /** The engine's step graphs, reused by later steps (and later decoders) of the same shape. */
    private final GraphCache<TransformerGraph> graphs;
    private int graphsBuilt;

    Decoder(Engine engine, AttentionPolicy policy, PrefillStatistics prefill) {
        this.engine = engine;
        this.policy = policy;
        this.hp = engine.hyperParameters();
        this.graphs = engine.stepGraphs();
        policy.start(engine, prefill);
    }

    public AttentionPolicy policy() {
        return policy;
    }

    /** Steps done so far. */
    public int steps() {
        return step;
    }

    public StepTimings timings() {
        return timings;
    }

    /** Feeds {@code token} at the next position and returns the logits for the position after it. */
    public float[] step(int token) {
        long t0 = System.nanoTime();
        engine.checkTokens(new int[] {token});
        int position = engine.position();
        if (position >= engine.contextSize()) {
            throw new IllegalStateException("the context of " + engine.contextSize() + " tokens is full");
        }
        int layers = hp.layers();
        AttentionPlan[] plans = new AttentionPlan[layers];
        LayerObservation[] observed = new LayerObservation[layers];
        float[] logits;
        long compute = 0;
        long build = 0;
        long inputs = 0;
        long readback = 0;
        if (!policy.needsQueryBeforePlanning(step)) {
            for (int l = 0; l < layers; l++) {
                plans[l] = checked(policy.plan(new LayerStep(l, step, position, null)), l, position);
            }
            TransformerGraph pass = pass(token, position, plans, 0, layers);
            List<Object> signature = pass.signature();
            GraphCache.Entry<TransformerGraph> hit = graphs.get(signature);
            if (hit != null) {
                // A step of this shape was built before: only inputs change, so skip building and allocating.
                TransformerGraph built = hit.owner();
                built.tokens = pass.tokens;
                built.start = pass.start;
                built.plans = pass.plans;
                pass = built;
                compute += engine.computeAgain(hit.graph());
            } else {
                long b0 = System.nanoTime();
                StepGraph g = pass.build();
                graphsBuilt++;
                GraphCache.Entry<TransformerGraph> entry = graphs.put(signature, g, pass);
                build += System.nanoTime() - b0;
                compute += engine.computeAgain(entry.graph());
            }
            inputs += engine.lastInputNanos();
            long r0 = System.nanoTime();
            logits = pass.logitsTensor.getFloats();
            int[][][] selections = selections(pass, plans, position);
            for (int l = 0; l < layers; l++) {
                observed[l] = observation(pass, selections, plans[l], l, position);
                diagnose(pass, plans[l], l, position);
            }
            readback += System.nanoTime() - r0;
        } else {
            logits = null;
            for (int l = 0; l < layers; l++) {
                TransformerGraph queryPass = pass(token, position, null, l, l + 1);
                queryPass.queryOnly = true;
                QueryVectors query;
                long b0 = System.nanoTime();
                try (StepGraph g = queryPass.build()) {
                    build += System.nanoTime() - b0;
                    compute += engine.run(g);
                    inputs += engine.lastInputNanos();
                    long r0 = System.nanoTime();
                    query = engine.queryVectors(queryPass, l);
                    readback += System.nanoTime() - r0;
                }
                plans[l] = checked(policy.plan(new LayerStep(l, step, position, query)), l, position);
                TransformerGraph layerPass = pass(token, position, plans, l, l + 1);
                b0 = System.nanoTime();
                try (StepGraph g = layerPass.build()) {
                    build += System.nanoTime() - b0;
                    compute += engine.run(g);
                    inputs += engine.lastInputNanos();
                    long r0 = System.nanoTime();
                    if (layerPass.logitsTensor != null) {
                        logits = layerPass.logitsTensor.getFloats();
                    }
                    observed[l] = observation(layerPass, selections(layerPass, plans, position), plans[l], l, position);
                    diagnose(layerPass, plans[l], l, position);
                    readback += System.nanoTime() - r0;
                }
            }
        }
        engine.advance(1);
        long policyStart = System.nanoTime();
        countAttention(plans, position);
        for (LayerObservation o : observed) {
            if (o != null) {
                policy.observe(o);
            }
        }
        policy.endStep(step, position, token);
        step++;
        long end = System.nanoTime();
        timings.record(end - t0, compute, build, inputs, readback, end - policyStart);
        return logits;
    }

    private void countAttention(AttentionPlan[] plans, int position) {
        boolean allFull = true;
        for (AttentionPlan p : plans) {
            attendedRows += switch (p) {
                case AttentionPlan.Full f -> position + 1;
                case AttentionPlan.Gather g -> g.rowsPerHead();
                case AttentionPlan.Compact c -> c.rows();
                case AttentionPlan.Ranges r -> r.rows();
                case AttentionPlan.HeavyHitters h -> h.rows();
            };
            if (p instanceof AttentionPlan.Full) {
                fullLayerSteps++;
            } else {
                allFull = false;
            }
        }
        if (allFull) {
            fullSteps++;
        }
    }

    /** Single-graph steps that had to build their graph (the others reused one of the same shape). */
    public int graphsBuilt() {
        return graphsBuilt;
    }

    /** Mean KV rows attended per layer per step (per KV head for gathers), for reports. */
    public double meanAttendedRows() {
        return step == 0 ? 0 : (double) attendedRows / ((long) step * hp.layers());
    }

    /**
     * Turns on attention-mass diagnostics: every step also computes what full attention
     * would have given each query head, so {@link #meanMassRecall()} and
     * {@link #meanTopKOverlap()} can be reported. It costs a full-cache softmax per layer,
     * so step timings of a diagnosed run are not latency measurements.
     */
    public Decoder withDiagnostics() {
        if (step > 0) {
            throw new IllegalStateException("turn diagnostics on before the first step");
        }
        diagnostics = true;
        return this;
    }

    /**
     * Mean over steps, layers and query heads of the share of full attention's probability
     * mass on the rows the method attended (1 for full steps); NaN without diagnostics.
     */
    public double meanMassRecall() {
        return diagnosed == 0 ? Double.NaN : recallSum / diagnosed;
    }

    /** Mean share of full attention's top-|attended| rows that the method attended; NaN without diagnostics. */
    public double meanTopKOverlap() {
        return diagnosed == 0 ? Double.NaN : overlapSum / diagnosed;
    }

    private void diagnose(TransformerGraph pass, AttentionPlan plan, int l, int position) {
        if (!diagnostics) {
            return;
        }
        int heads = hp.heads();
        int group = heads / hp.kvHeads();
        if (plan instanceof AttentionPlan.Full || pass.fullProbabilities[l] == null) {
            recallSum += heads;
            overlapSum += heads;
            diagnosed += heads;
            return;
        }
        int[][] attended = new int[hp.kvHeads()][];
        for (int g = 0; g < hp.kvHeads(); g++) {
            attended[g] = attendedPositions(plan, l, g, position);
            if (attended[g] == null) {
                return; // the policy does not say which positions its compact cache holds
            }
        }
        float[] p = pass.fullProbabilities[l].getFloats();
        int keys = (int) pass.fullProbabilities[l].ne(0);
        int valid = position + 1;
        for (int h = 0; h < heads; h++) {
            int[] rows = attended[h / group];
            int base = h * keys;
            java.util.BitSet in = new java.util.BitSet(valid);
            double recall = 0;
            for (int r : rows) {
                if (r >= 0 && r < valid && !in.get(r)) {
                    in.set(r);
                    recall += p[base + r];
                }
            }
            float[] row = java.util.Arrays.copyOfRange(p, base, base + valid);
            int k = Math.min(in.cardinality(), valid);
            int hits = 0;
            if (k > 0) {
                for (int r : ScoreSelection.topKByScore(row, k)) {
                    if (in.get(r)) {
                        hits++;
                    }
                }
            }
            recallSum += recall;
            overlapSum += k == 0 ? 0 : (double) hits / k;
            diagnosed++;
        }
    }

    private int[] attendedPositions(AttentionPlan plan, int l, int kvHead, int position) {
        return switch (plan) {
            case AttentionPlan.Full f -> null;
            case AttentionPlan.Gather g -> {
                int k = g.rowsPerHead();
                int[] all = g.rows() != null ? g.rows() : g.deviceRows().tensor().getInts();
                yield java.util.Arrays.copyOfRange(all, kvHead * k, (kvHead + 1) * k);
            }
            case AttentionPlan.Compact c -> policy.compactPositions(l, kvHead);
            case AttentionPlan.HeavyHitters h -> h.state().slotPositions(h.layer(), kvHead);
            case AttentionPlan.Ranges r -> {
                int n = 0;
                for (int i = 0; i < r.starts().length; i++) {
                    n += r.ends()[i] - r.starts()[i];
                }
                int[] out = new int[n];
                int j = 0;
                for (int i = 0; i < r.starts().length; i++) {
                    for (int x = r.starts()[i]; x < r.ends()[i]; x++) {
                        out[j++] = x;
                    }
                }
                yield out;
            }
        };
    }

    /** Layer-steps that attended the whole cache (layers of a dynamic schedule decide apart). */
    public long fullLayerSteps() {
        return fullLayerSteps;
    }

    /** Steps in which every layer attended the whole cache. */
    public int fullSteps() {
        return fullSteps;
    }

    private TransformerGraph pass(int token, int position, AttentionPlan[] plans, int from, int to) {
        TransformerGraph pass = new TransformerGraph(engine);
        pass.tokens = new int[] {token};
        pass.start = position;
        pass.plans = plans;
        pass.fromLayer = from;
        pass.toLayer = to;
        pass.hiddenState = engine.hiddenState();
        pass.shadowFull = diagnostics;
        pass.logits = TransformerGraph.Logits.LAST;
        if (plans == null) {
            // A query-only pass has no plans of its own; give it FULL so nothing is read back.
            pass.plans = new AttentionPlan[hp.layers()];
            java.util.Arrays.fill(pass.plans, AttentionPlan.full());
        }
        return pass;
    }

    /**
     * Each selecting layer's rows per KV head ({@code [layer][kvHead]}, null for layers
     * without top rows): the pass's candidates, read back in two transfers for all layers
     * (not two per layer: at 32 layers the per-transfer latency added up), ties put in
     * position order, cut to k. The layers' KV heads are independent, so they are ordered in
     * parallel: at 32 x 8 heads of 4,103 candidates this was the largest host cost of a full
     * step on one thread.
     */
    private int[][][] selections(TransformerGraph pass, AttentionPlan[] plans, int position) {
        int[][][] out = new int[plans.length][][];
        if (pass.topRowPositions == null) {
            return out;
        }
        TopRowsSelection.Candidates candidates = TopRowsSelection.Candidates.read(pass.topRowPositions, pass.topRowScores,
                pass.topRowCandidates);
        int kvHeads = hp.kvHeads();
        List<int[]> work = new java.util.ArrayList<>(); // {layer, kvHead}
        for (int l = 0; l < plans.length; l++) {
            if (pass.topRowSlot[l] >= 0) {
                out[l] = new int[kvHeads][];
                for (int h = 0; h < kvHeads; h++) {
                    work.add(new int[] {l, h});
                }
            }
        }
        work.parallelStream().forEach(w -> {
            TopRows request = ((AttentionPlan.Full) plans[w[0]]).topRows();
            // the batch sorted as many candidates as its hungriest layer needs; this layer
            // takes its own count of the (descending) prefix, as if it had been sorted alone
            out[w[0]][w[1]] = candidates.ordered(pass.topRowSlot[w[0]] * kvHeads + w[1], request.candidates(position + 1),
                    request.k());
        });
        return out;
    }

    private LayerObservation observation(TransformerGraph pass, int[][][] selections, AttentionPlan plan, int l,
                                         int position) {
        TopRows topRows = plan instanceof AttentionPlan.Full f ? f.topRows() : null;
        if (!plan.probabilities() && !plan.query() && topRows == null) {
            return null;
        }
        AttentionProbabilities probs = null;
        if (plan.probabilities()) {
            Tensor p = pass.probabilities[l];
            int keys = (int) p.ne(0);
            probs = new AttentionProbabilities(hp.heads(), 1, keys, position, p.getFloats());
        }
        QueryVectors q = plan.query() ? engine.queryVectors(pass, l) : null;
        int[][] selected = topRows == null ? null : selections[l];
        return new LayerObservation(l, step, position, probs, q, selected);
    }

    /** Checks a plan in Java: a bad index or shape inside ggml would abort the JVM. */
    private AttentionPlan checked(AttentionPlan plan, int layer, int position) {
        if (plan == null) {
            throw new IllegalStateException(policy.name() + " returned no plan for layer " + layer);
        }
        int kvHeads = hp.kvHeads();
        switch (plan) {
            case AttentionPlan.Full f -> {
            }
            case AttentionPlan.Gather g -> {
                if (g.rows() != null && g.rows().length != g.rowsPerHead() * kvHeads) {
                    throw new IllegalArgumentException(policy.name() + ": gather at layer " + layer + " has "
                            + g.rows().length + " rows, expected " + g.rowsPerHead() + " x " + kvHeads + " KV heads");
                }
                if (g.deviceRows() != null && g.deviceRows().tensor().ne(1) != kvHeads) {
                    throw new IllegalArgumentException(policy.name() + ": device rows at layer " + layer
                            + " are not for " + kvHeads + " KV heads");
                }
                if (g.rows() != null) {
                    for (int r : g.rows()) {
                        if (r < 0 || r > position) {
                            throw new IllegalArgumentException(policy.name() + ": gather row " + r + " at layer " + layer
                                    + " is outside the cached rows [0, " + position + "]");
                        }
                    }
                }
            }
            case AttentionPlan.Compact c -> {
                Tensor k = c.cache().keys();
                if (k.ne(0) != hp.headDim() || k.ne(2) != kvHeads) {
                    throw new IllegalArgumentException(policy.name() + ": compact cache at layer " + layer
                            + " does not have this model's head shape");
                }
            }
            case AttentionPlan.HeavyHitters h -> {
                if (h.layer() != layer || h.state().kvHeads() != kvHeads || h.state().cacheRows() > engine.cacheCapacity()) {
                    throw new IllegalArgumentException(policy.name() + ": the H2O state at layer " + layer
                            + " is for layer " + h.layer() + ", " + h.state().kvHeads() + " KV heads and a cache of "
                            + h.state().cacheRows() + " rows");
                }
            }
            case AttentionPlan.Ranges r -> {
                int end = r.ends()[r.ends().length - 1];
                if (end > position + 1) {
                    throw new IllegalArgumentException(policy.name() + ": range end " + end + " at layer " + layer
                            + " is past the cached rows [0, " + position + "]");
                }
            }
        }
        return plan;
    }

    @Override
    public void close() {
        policy.close();
    }
}
