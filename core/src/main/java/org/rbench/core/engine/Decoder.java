package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.QueryVectors;
import org.rbench.core.attention.ScoreSelection;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * One decoding run: feeds one token per {@link #step}, asks the policy for each layer's
 * plan, computes the step's graph (built from the plans, or a built one of the same
 * shape), lets the plans' pieces read their results, delivers the read-backs the plans
 * asked for, and records the step's time. Closing it closes the policy.
 */
public final class Decoder implements AutoCloseable {
    private final Engine engine;
    private final AttentionPolicy policy;
    private final HyperParameters hp;
    private final StepTimings timings = new StepTimings();
    private int step;
    private long attendedRows;
    private long extraBytes;
    private int fullSteps;
    private long fullLayerSteps;
    private boolean diagnostics;
    private double recallSum;
    private double overlapSum;
    private long diagnosed;
    /** The engine's step graphs, reused by later steps (and later decoders) of the same shape. */
    private final GraphCache<PassGraph> graphs;
    private int graphsBuilt;

    /** Time spent by one step's graph work, by part. */
    private static final class StepCost {
        long compute;
        long build;
        long inputs;
        long readback;
    }

    Decoder(Engine engine, AttentionPolicy policy, PrefillStatistics prefill) {
        this.engine = engine;
        this.policy = policy;
        this.hp = engine.hyperParameters();
        this.graphs = engine.stepGraphs();
        policy.start(engine.attentionContext(), prefill);
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
        StepCost cost = new StepCost();
        AttentionPlan[] plans = new AttentionPlan[hp.layers()];
        LayerObservation[] observed = new LayerObservation[hp.layers()];
        float[] logits = policy.needsQueryBeforePlanning(step)
                ? layerByLayer(token, position, plans, observed, cost)
                : wholeStep(token, position, plans, observed, cost);
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
        timings.record(end - t0, cost.compute, cost.build, cost.inputs, cost.readback, end - policyStart);
        return logits;
    }

    /** Every layer planned first, then one graph for the step. */
    private float[] wholeStep(int token, int position, AttentionPlan[] plans, LayerObservation[] observed, StepCost cost) {
        for (int l = 0; l < plans.length; l++) {
            plans[l] = checked(policy.plan(new LayerStep(l, step, position, null)), l, position);
        }
        Pass pass = Pass.step(token, position, plans, diagnostics);
        List<Object> signature = PassBuilder.signature(engine.graphResources(), pass);
        GraphCache.Entry<PassGraph> entry = graphs.get(signature);
        if (entry != null) {
            // A step of this shape was built before: only inputs change, so skip building and allocating.
            entry.owner().bind(pass);
        } else {
            long b0 = System.nanoTime();
            PassGraph built = PassBuilder.build(engine.graphResources(), pass);
            graphsBuilt++;
            entry = graphs.put(signature, built.graph(), built);
            cost.build += System.nanoTime() - b0;
        }
        PassGraph g = entry.owner();
        cost.compute += engine.computeAgain(g.graph());
        cost.inputs += engine.lastInputNanos();
        long r0 = System.nanoTime();
        float[] logits = g.outputs().logits().getFloats();
        g.afterCompute();
        for (int l = 0; l < plans.length; l++) {
            observed[l] = observation(g.outputs(), plans[l], l, position);
            diagnose(g.outputs(), plans[l], l, position);
        }
        cost.readback += System.nanoTime() - r0;
        return logits;
    }

    /**
     * Each layer's query computed before the policy plans it (a query-similarity schedule's
     * check steps), so one graph up to the query and one of the layer, per layer.
     */
    private float[] layerByLayer(int token, int position, AttentionPlan[] plans, LayerObservation[] observed,
                                 StepCost cost) {
        float[] logits = null;
        for (int l = 0; l < plans.length; l++) {
            // the layers not planned yet are null here: queryOf plans every layer full
            Pass queryPass = Pass.step(token, position, plans, false).queryOf(l);
            QueryVectors query;
            try (PassGraph g = timedBuild(queryPass, cost)) {
                cost.compute += engine.run(g.graph());
                cost.inputs += engine.lastInputNanos();
                long r0 = System.nanoTime();
                query = engine.queryVectors(g.outputs(), l);
                cost.readback += System.nanoTime() - r0;
            }
            plans[l] = checked(policy.plan(new LayerStep(l, step, position, query)), l, position);
            try (PassGraph g = timedBuild(Pass.step(token, position, plans, diagnostics).layer(l), cost)) {
                cost.compute += engine.run(g.graph());
                cost.inputs += engine.lastInputNanos();
                long r0 = System.nanoTime();
                if (g.outputs().logits() != null) {
                    logits = g.outputs().logits().getFloats();
                }
                g.afterCompute();
                observed[l] = observation(g.outputs(), plans[l], l, position);
                diagnose(g.outputs(), plans[l], l, position);
                cost.readback += System.nanoTime() - r0;
            }
        }
        return logits;
    }

    private PassGraph timedBuild(Pass pass, StepCost cost) {
        long b0 = System.nanoTime();
        PassGraph g = PassBuilder.build(engine.graphResources(), pass);
        cost.build += System.nanoTime() - b0;
        return g;
    }

    private void countAttention(AttentionPlan[] plans, int position) {
        boolean allFull = true;
        for (AttentionPlan p : plans) {
            attendedRows += p.rows(position);
            extraBytes += p.extraBytes(position, hp, engine.cacheType());
            if (p.readsWholeCache()) {
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
     * Mean bytes a step read besides its attended K/V rows, summed over layers (page bounds,
     * keys scored to choose rows: {@link AttentionPlan#extraBytes}); 0 for most methods.
     */
    public double meanExtraBytes() {
        return step == 0 ? 0 : (double) extraBytes / step;
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

    private void diagnose(PassGraph.Outputs out, AttentionPlan plan, int l, int position) {
        if (!diagnostics) {
            return;
        }
        int heads = hp.heads();
        int group = heads / hp.kvHeads();
        if (plan.readsWholeCache() || out.fullProbabilities()[l] == null) {
            recallSum += heads;
            overlapSum += heads;
            diagnosed += heads;
            return;
        }
        int[][] attended = new int[hp.kvHeads()][];
        for (int g = 0; g < hp.kvHeads(); g++) {
            attended[g] = plan.attendedPositions(g, position);
            if (attended[g] == null) {
                attended[g] = policy.compactPositions(l, g);
            }
            if (attended[g] == null) {
                return; // neither the plan nor the policy says which positions the layer read
            }
        }
        float[] p = out.fullProbabilities()[l].getFloats();
        int keys = (int) out.fullProbabilities()[l].ne(0);
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

    /** Layer-steps that attended the whole cache (layers of a dynamic schedule decide apart). */
    public long fullLayerSteps() {
        return fullLayerSteps;
    }

    /** Steps in which every layer attended the whole cache. */
    public int fullSteps() {
        return fullSteps;
    }

    private LayerObservation observation(PassGraph.Outputs out, AttentionPlan plan, int l, int position) {
        if (!plan.probabilities() && !plan.query()) {
            return null;
        }
        AttentionProbabilities probs = null;
        if (plan.probabilities()) {
            Tensor p = out.probabilities()[l];
            probs = new AttentionProbabilities(hp.heads(), 1, (int) p.ne(0), position, p.getFloats());
        }
        QueryVectors q = plan.query() ? engine.queryVectors(out, l) : null;
        return new LayerObservation(l, step, position, probs, q);
    }

    /** Checks a plan in Java: a bad index or shape inside ggml would abort the JVM. */
    private AttentionPlan checked(AttentionPlan plan, int layer, int position) {
        if (plan == null) {
            throw new IllegalStateException(policy.name() + " returned no plan for layer " + layer);
        }
        plan.check(new PlanCheck(policy.name(), layer, position, hp, engine.cacheCapacity()));
        return plan;
    }

    @Override
    public void close() {
        policy.close();
    }
}
