package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.QueryVectors;
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
    /** The last single-graph step, kept for reuse by a next step of the same shape. */
    private TransformerGraph cached;
    private StepGraph cachedGraph;
    private List<Object> cachedSignature;

    Decoder(Engine engine, AttentionPolicy policy, PrefillStatistics prefill) {
        this.engine = engine;
        this.policy = policy;
        this.hp = engine.hyperParameters();
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
        if (!policy.needsQueryBeforePlanning(step)) {
            for (int l = 0; l < layers; l++) {
                plans[l] = checked(policy.plan(new LayerStep(l, step, position, null)), l, position);
            }
            TransformerGraph pass = pass(token, position, plans, 0, layers);
            List<Object> signature = pass.signature();
            if (cached != null && signature.equals(cachedSignature) && engine.stillAllocated(cachedGraph)) {
                // Same shape as the last step: only inputs change, so skip building and allocating.
                cached.tokens = pass.tokens;
                cached.start = pass.start;
                cached.plans = pass.plans;
                pass = cached;
                compute += engine.computeAgain(cachedGraph);
            } else {
                releaseCachedGraph();
                StepGraph g = pass.build();
                compute += engine.run(g);
                cached = pass;
                cachedGraph = g;
                cachedSignature = signature;
            }
            logits = pass.logitsTensor.getFloats();
            for (int l = 0; l < layers; l++) {
                observed[l] = observation(pass, plans[l], l, position);
            }
        } else {
            logits = null;
            for (int l = 0; l < layers; l++) {
                TransformerGraph queryPass = pass(token, position, null, l, l + 1);
                queryPass.queryOnly = true;
                QueryVectors query;
                try (StepGraph g = queryPass.build()) {
                    compute += engine.run(g);
                    query = engine.queryVectors(queryPass, l);
                }
                plans[l] = checked(policy.plan(new LayerStep(l, step, position, query)), l, position);
                TransformerGraph layerPass = pass(token, position, plans, l, l + 1);
                try (StepGraph g = layerPass.build()) {
                    compute += engine.run(g);
                    if (layerPass.logitsTensor != null) {
                        logits = layerPass.logitsTensor.getFloats();
                    }
                    observed[l] = observation(layerPass, plans[l], l, position);
                }
            }
        }
        engine.advance(1);
        countAttention(plans, position);
        for (LayerObservation o : observed) {
            if (o != null) {
                policy.observe(o);
            }
        }
        policy.endStep(step, position, token);
        step++;
        timings.record(System.nanoTime() - t0, compute);
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

    /** Mean KV rows attended per layer per step (per KV head for gathers), for reports. */
    public double meanAttendedRows() {
        return step == 0 ? 0 : (double) attendedRows / ((long) step * hp.layers());
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
        pass.logits = TransformerGraph.Logits.LAST;
        if (plans == null) {
            // A query-only pass has no plans of its own; give it FULL so nothing is read back.
            pass.plans = new AttentionPlan[hp.layers()];
            java.util.Arrays.fill(pass.plans, AttentionPlan.full());
        }
        return pass;
    }

    private LayerObservation observation(TransformerGraph pass, AttentionPlan plan, int l, int position) {
        if (!plan.probabilities() && !plan.query()) {
            return null;
        }
        AttentionProbabilities probs = null;
        if (plan.probabilities()) {
            Tensor p = pass.probabilities[l];
            int keys = (int) p.ne(0);
            probs = new AttentionProbabilities(hp.heads(), 1, keys, position, p.getFloats());
        }
        QueryVectors q = plan.query() ? engine.queryVectors(pass, l) : null;
        return new LayerObservation(l, step, position, probs, q);
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

    private void releaseCachedGraph() {
        if (cachedGraph != null) {
            cachedGraph.close();
            cachedGraph = null;
            cached = null;
            cachedSignature = null;
        }
    }

    @Override
    public void close() {
        releaseCachedGraph();
        policy.close();
    }
}
