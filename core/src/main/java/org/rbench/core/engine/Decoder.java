package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.QueryVectors;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * One decoding run: feeds one token per {@link #step}, asks the policy for each layer's
 * plan, computes the step's graph (built from the plans, or a built one of the same
 * shape), lets the plans' pieces read their results, delivers the read-backs the plans
 * asked for, and records the step's time. Closing it closes the policy.
 */
public final class Decoder implements AutoCloseable {
    private final Engine engine;
    private final AttentionPolicy policy;
    private final long startNanos;
    private final HyperParameters hp;
    private final StepTimings timings = new StepTimings();
    private int step;
    private long attendedRows;
    private long extraBytes;
    private int fullSteps;
    private long fullLayerSteps;
    /** What the diagnostics measure, once turned on (null: off). */
    private StepDiagnostics diagnosis;
    /** The engine's step graphs, reused by later steps (and later decoders) of the same shape. */
    private final GraphCache<PassGraph> graphs;
    private int graphsBuilt;
    /** Whether {@link #advance(int[])} may queue a step while the one before computes (on a GPU). */
    private boolean queueAhead = QUEUE_AHEAD_BY_DEFAULT;
    /**
     * {@code RBENCH_EXPLAIN_BUILDS=1}: each step that builds a graph says on stderr why the graphs kept did not serve
     * (where its key differs from the nearest kept one's): for finding the decodes that rebuild graphs they should reuse.
     */
    private static final boolean EXPLAIN_BUILDS = "1".equals(System.getenv("RBENCH_EXPLAIN_BUILDS"));
    /**
     * Whether decoders queue steps ahead unless told otherwise: yes, but for
     * {@code -Drbench.queueAhead=false} or {@code RBENCH_QUEUE_AHEAD=0} (every command, RULER runs
     * included: a switch for a device where the overlap misbehaves).
     */
    static final boolean QUEUE_AHEAD_BY_DEFAULT = !"false".equalsIgnoreCase(System.getProperty("rbench.queueAhead"))
            && !"0".equals(System.getenv("RBENCH_QUEUE_AHEAD"));
    /** When the last step finished (its result read): a queued step's wall time starts there. */
    private long lastFinishedAt;
    /** Steps queued ahead of the previous one's result (a GPU's overlapped steps). */
    private int stepsQueuedAhead;

    /** Time spent by one step's graph work, by part. */
    private static final class StepCost {
        long compute;
        long build;
        long inputs;
        long readback;
        long policy;
    }

    /**
     * A step started on the device ({@link #launch}) and not yet {@link #finish}ed. A step that
     * {@code overlaps} reads nothing back that the policy's next plan needs, so it ends (the engine
     * advanced, the policy told) at its launch and the next step may be queued behind it.
     */
    private static final class Launched {
        final int token;
        final int position;
        final AttentionPlan[] plans;
        final PassGraph graph;
        final boolean readBack;
        /** Its result goes to this {@link StepResults} slot (null: read from the graph's outputs). */
        final Integer slot;
        final boolean overlaps;
        final StepCost cost;
        final long startedAt;
        int wholeCache;
        boolean ended;
        boolean finished;
        StepOutput output;

        Launched(int token, int position, AttentionPlan[] plans, PassGraph graph, boolean readBack,
                 Integer slot, boolean overlaps, StepCost cost, long startedAt) {
            this.token = token;
            this.position = position;
            this.plans = plans;
            this.graph = graph;
            this.readBack = readBack;
            this.slot = slot;
            this.overlaps = overlaps;
            this.cost = cost;
            this.startedAt = startedAt;
        }
    }

    Decoder(Engine engine, AttentionPolicy policy, PrefillStatistics prefill) {
        this.engine = engine;
        this.policy = policy;
        this.hp = engine.hyperParameters();
        this.graphs = engine.stepGraphs();
        long t0 = System.nanoTime();
        policy.start(engine.attentionContext(), prefill);
        startNanos = System.nanoTime() - t0;
    }

    /**
     * Wall time of the policy's start: what it builds from the prefill before the first step
     * (Recycled's Cp, SnapKV's kept rows, Quest's page bounds). The references build these in
     * their prefill, so reports count it with the prefill, not with the decode steps.
     */
    public long startNanos() {
        return startNanos;
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

    /** What a step reads back: the logits, or only the greedy token. */
    private record StepOutput(float[] logits, int token) {
    }

    /** Feeds {@code token} at the next position and returns the logits for the position after it. */
    public float[] step(int token) {
        return run(token, Pass.Logits.LAST).logits();
    }

    /**
     * Feeds {@code token} at the next position and returns the greedy token after it, the lowest
     * id among the largest logits as {@link Greedy#argmax} picks it. On a GPU it is picked in the
     * step's graph and the step reads back one id instead of the vocabulary's logits; on the CPU
     * the host takes the argmax of the logits, which costs less there than the pick's graph ops
     * ({@code rbench generate}, 2.5K-token prompt, 200 tokens, 5 alternating runs: 1.30 against 1.42
     * ms/token, medians).
     */
    public int stepGreedy(int token) {
        return engine.graphResources().onCpu() ? Greedy.argmax(step(token)) : stepGreedyInGraph(token);
    }

    /** {@link #stepGreedy} with the token picked in the step's graph on any backend (DeviceGreedy). */
    int stepGreedyInGraph(int token) {
        return run(token, Pass.Logits.GREEDY).token();
    }

    /**
     * Feeds {@code token} and computes the step, handing nothing of its result to Java: for
     * latency benchmarks, as llama-bench leaves llama.cpp's logits in its buffer. On the CPU the
     * logits stay in the step graph's output, already in host memory; on a GPU the greedy token
     * is picked in the graph and its id read back (llama.cpp copies its logits to the host there).
     */
    public void advance(int token) {
        if (engine.graphResources().onCpu()) {
            run(token, Pass.Logits.LAST, false);
        } else {
            run(token, Pass.Logits.GREEDY);
        }
    }

    /**
     * Feeds {@code tokens} in order, each as {@link #advance(int)} does. On a GPU each step is
     * planned and queued on the device's stream while the step before computes, so the device
     * does not wait for the host between steps, where that is safe: the policy {@linkplain
     * AttentionPolicy#plansAhead plans ahead}, the step before reads back nothing its next plan
     * needs (observations, diagnostics, a plan piece's after-compute read), and the next step's
     * graph is built already (a build waits). Otherwise the decoder waits for the step first, as
     * one {@link #advance(int)} after another does. A queued step's wall time runs from the
     * previous step's result to its own, so the steps' walls still add up to the run's; its
     * compute time is the launch and the wait for its result.
     */
    public void advance(int[] tokens) {
        if (!queuesAhead()) {
            for (int t : tokens) {
                advance(t);
            }
            return;
        }
        queued(tokens, Pass.Logits.GREEDY);
    }

    /**
     * Feeds {@code tokens} in order and returns the greedy token after each (the lowest id among
     * the largest logits, picked in the step graph), with steps queued ahead as {@link
     * #advance(int[])} queues them on a GPU, on any backend: the CPU computes each step before
     * its launch returns, so nothing overlaps there, but planning, launching and reading follow
     * the GPU's order.
     */
    public int[] greedyAfterEach(int[] tokens) {
        return queued(tokens, Pass.Logits.GREEDY);
    }

    /**
     * Whether {@link #advance(int[])} and {@link #generateGreedy} may queue steps ahead on a GPU
     * (default on, see {@link #QUEUE_AHEAD_BY_DEFAULT}); off, they wait for each step as {@link
     * #advance(int)} does (an A/B of the overlap).
     */
    public Decoder queueAhead(boolean on) {
        this.queueAhead = on;
        return this;
    }

    /** Whether decoders queue steps ahead unless told otherwise ({@code RBENCH_QUEUE_AHEAD}, {@code rbench.queueAhead}). */
    public static boolean queuesAheadByDefault() {
        return QUEUE_AHEAD_BY_DEFAULT;
    }

    /** Steps queued on the device before the previous step's result was read (0 on the CPU). */
    public int stepsQueuedAhead() {
        return stepsQueuedAhead;
    }

    /**
     * Greedy generation: step i feeds the token step i - 1 picked (step 0 feeds {@code first}, the
     * prompt's pick) and hands its own pick to {@code accept}, in order, until {@code accept}
     * returns false, {@code maxSteps} steps have run or the context is full; returns the steps
     * whose picks were handed on. Picks are the lowest id among the largest logits ({@link Greedy#argmax}).
     *
     * <p>On a GPU each step takes its token from the step before on the device ({@link
     * Pass.Logits#FED}), so it is queued before the host has read that token, as {@link
     * #advance(int[])} queues steps (where the policy and the step before allow; otherwise it
     * waits). When {@code accept} says stop, one step past it may already have run: its pick is
     * not handed on, the engine's position and {@link #steps()} count it, and its time is in the
     * timings (the device spent it). On the CPU, or with {@link #queueAhead} off, each step waits
     * for its pick as {@link #stepGreedy} does, and nothing runs past the stop.
     */
    public int generateGreedy(int first, int maxSteps, IntPredicate accept) {
        return queuesAhead() ? generateFed(first, maxSteps, accept) : generateOneByOne(first, maxSteps, accept);
    }

    /** Whether steps are queued ahead: on a GPU, unless turned off or computed node by node (an op profile). */
    private boolean queuesAhead() {
        return queueAhead && !engine.graphResources().onCpu() && !engine.profilingOps();
    }

    private int generateOneByOne(int first, int maxSteps, IntPredicate accept) {
        int token = first;
        for (int i = 0; i < maxSteps; i++) {
            if (engine.position() >= engine.contextSize()) {
                return i;
            }
            token = stepGreedy(token);
            if (!accept.test(token)) {
                return i + 1;
            }
        }
        return maxSteps;
    }

    /** {@link #generateGreedy} with steps fed on the device and queued ahead, on any backend (tests on the CPU). */
    int generateFed(int first, int maxSteps, IntPredicate accept) {
        engine.checkTokens(new int[] {first});
        engine.graphResources().fedToken().setInts(new int[] {first}); // nothing is queued: a plain write
        return queue(null, first, maxSteps, Pass.Logits.FED, accept);
    }

    /** Steps queued ahead on any backend: the token {@code wanted} gives per step (GREEDY), else -1. */
    private int[] queued(int[] tokens, Pass.Logits wanted) {
        engine.checkTokens(tokens);
        if (engine.position() + tokens.length > engine.contextSize()) {
            throw new IllegalStateException("the context of " + engine.contextSize() + " tokens has room for "
                    + (engine.contextSize() - engine.position()) + " more, not " + tokens.length);
        }
        int[] out = new int[tokens.length];
        int[] n = {0};
        queue(tokens, -1, tokens.length, wanted, pick -> {
            out[n[0]++] = pick;
            return true;
        });
        return out;
    }

    /**
     * The loop of steps queued ahead: up to {@code steps} steps, while the context has room; step
     * i's token is {@code tokens[i]}, or, for a generation fed on the device ({@code tokens} null,
     * {@code wanted} FED), the pick of the step before ({@code first} for the first), and each
     * step's pick goes to {@code picked} in order until it returns false. A step is launched before
     * the one before is finished where that step {@link Launched#overlaps}; a fed generation stopped
     * by {@code picked} finishes the step it had queued past the stop. Returns the picks handed on.
     */
    private int queue(int[] tokens, int first, int steps, Pass.Logits wanted, IntPredicate picked) {
        boolean fed = tokens == null;
        int handed = 0;
        int last = first; // a fed generation's latest pick the host has read: what the fed token holds when nothing is queued
        Launched previous = null;
        boolean completed = false;
        try {
            for (int i = 0; i < steps && engine.position() < engine.contextSize(); i++) {
                boolean layerByLayer = policy.needsQueryBeforePlanning(step);
                if (previous != null && (!previous.overlaps || layerByLayer)) {
                    last = tokenOf(finish(previous));
                    previous = null;
                    handed++;
                    if (!picked.test(last)) {
                        completed = true;
                        return handed;
                    }
                }
                if (layerByLayer) {
                    // one graph per layer, each waited for, its token from the host; a fed generation's
                    // fed token is the host's pick again after it
                    last = tokenOf(run(fed ? last : tokens[i], fed ? Pass.Logits.GREEDY : wanted, true));
                    if (fed) {
                        engine.graphResources().fedToken().setInts(new int[] {last});
                    }
                    handed++;
                    if (!picked.test(last)) {
                        completed = true;
                        return handed;
                    }
                    continue;
                }
                int token = !fed ? tokens[i] : previous == null ? last : -1;
                Launched current = launch(token, wanted, true, true, previous);
                if (previous != null) {
                    if (!previous.finished) {
                        stepsQueuedAhead++;
                    }
                    last = tokenOf(finish(previous));
                    handed++;
                    if (!picked.test(last)) {
                        finish(current); // computed past the stop: waited for, its pick unused
                        completed = true;
                        return handed;
                    }
                }
                previous = current;
            }
            if (previous != null) {
                last = tokenOf(finish(previous));
                handed++;
                picked.test(last);
            }
            completed = true;
            return handed;
        } finally {
            if (!completed) {
                engine.backend().synchronize(); // a failure may leave steps queued: they finish before anything is freed
            }
        }
    }

    private static int tokenOf(StepOutput out) {
        return out == null ? -1 : out.token();
    }

    private StepOutput run(int token, Pass.Logits wanted) {
        return run(token, wanted, true);
    }

    private StepOutput run(int token, Pass.Logits wanted, boolean readBack) {
        if (!policy.needsQueryBeforePlanning(step)) {
            return finish(launch(token, wanted, readBack, false, null));
        }
        long t0 = System.nanoTime();
        int position = checkedPosition(token, wanted);
        StepCost cost = new StepCost();
        AttentionPlan[] plans = new AttentionPlan[hp.layers()];
        LayerObservation[] observed = new LayerObservation[hp.layers()];
        StepOutput out = layerByLayer(token, position, plans, observed, cost, wanted, readBack);
        Launched done = new Launched(token, position, plans, null, readBack, null, false, cost, t0);
        end(done, observed);
        record(done);
        return out;
    }

    /**
     * The position the step of {@code token} decodes at, after checking the token (not a FED step's
     * -1: the device's pick, not read yet) and the room left.
     */
    private int checkedPosition(int token, Pass.Logits wanted) {
        if (wanted != Pass.Logits.FED || token >= 0) {
            engine.checkTokens(new int[] {token});
        }
        int position = engine.position();
        if (position >= engine.contextSize()) {
            throw new IllegalStateException("the context of " + engine.contextSize() + " tokens is full");
        }
        return position;
    }

    /**
     * Plans every layer, then starts the step's one graph on the device without waiting for it.
     * With {@code queued}, its result goes to a read-back slot (a later step may be queued before
     * it is read, and may overwrite the graph's outputs). {@code pending} is the step before,
     * still computing: it is finished first when this step must build its graph (a build
     * allocates, and may free a kept graph's memory).
     */
    private Launched launch(int token, Pass.Logits wanted, boolean readBack, boolean queued, Launched pending) {
        long t0 = System.nanoTime();
        int position = checkedPosition(token, wanted);
        StepCost cost = new StepCost();
        AttentionPlan[] plans = new AttentionPlan[hp.layers()];
        for (int l = 0; l < plans.length; l++) {
            plans[l] = checked(policy.plan(new LayerStep(l, step, position, null)), l, position);
        }
        Pass pass = Pass.step(token, position, plans, diagnosis != null, wanted);
        List<Object> signature = PassBuilder.signature(engine.graphResources(), pass);
        GraphCache.Entry<PassGraph> entry = graphs.get(signature);
        if (entry != null) {
            // A step of this shape was built before: only inputs change, so skip building and allocating.
            entry.owner().bind(pass);
        } else {
            if (pending != null) {
                finish(pending);
            }
            long b0 = System.nanoTime();
            if (EXPLAIN_BUILDS) {
                System.err.println("rbench: " + policy.getClass().getSimpleName() + " builds a step graph at step " + step
                        + ": " + graphs.whyNew(signature));
            }
            PassGraph built = PassBuilder.build(engine.graphResources(), pass);
            graphsBuilt++;
            entry = graphs.put(signature, built.graph(), built);
            cost.build += System.nanoTime() - b0;
        }
        PassGraph g = entry.owner();
        cost.compute += engine.launch(g.graph());
        cost.inputs += engine.lastInputNanos();
        g.launched();
        engine.deferredWrites().afterStep(pass);
        engine.fullCacheValidity().afterStep(pass);
        Integer slot = null;
        if (queued) {
            StepResults results = engine.stepResults();
            slot = results.take();
            results.queue(slot, readBack ? resultOf(g.outputs()) : null);
        }
        // a step that overlaps ends now: the policy plans the next while it computes, so it must allow that
        boolean overlaps = queued && policy.plansAhead() && diagnosis == null && !g.readsAfterCompute() && !readsBack(plans);
        Launched s = new Launched(token, position, plans, g, readBack, slot, overlaps, cost, t0);
        if (overlaps) {
            end(s, new LayerObservation[plans.length]); // nothing to observe: the policy may plan the next step now
        }
        return s;
    }

    /** Waits for a launched step, reads its result and what its plans asked for, ends it (if not yet) and records its time. */
    private StepOutput finish(Launched s) {
        if (s.finished) {
            return s.output;
        }
        long w0 = System.nanoTime();
        if (s.slot != null) {
            engine.stepResults().await(s.slot);
        } else {
            engine.backend().synchronize();
        }
        s.cost.compute += System.nanoTime() - w0;
        long r0 = System.nanoTime();
        StepOutput out = null;
        if (s.readBack) {
            out = s.slot != null ? readSlot(s) : read(s.graph.outputs());
        }
        LayerObservation[] observed = new LayerObservation[hp.layers()];
        if (!s.ended) {
            s.graph.afterCompute();
            for (int l = 0; l < s.plans.length; l++) {
                observed[l] = observation(s.graph.outputs(), s.plans[l], l, s.position);
                diagnose(s.graph.outputs(), s.plans[l], l, s.position);
            }
        }
        s.cost.readback += System.nanoTime() - r0;
        if (!s.ended) {
            end(s, observed);
        }
        s.finished = true;
        s.output = out;
        record(s);
        return out;
    }

    /** The engine moves past the step, its attention is counted, and the policy observes and ends it. */
    private void end(Launched s, LayerObservation[] observed) {
        engine.advance(1);
        long p0 = System.nanoTime();
        s.wholeCache = countAttention(s.plans, s.position);
        for (LayerObservation o : observed) {
            if (o != null) {
                policy.observe(o);
            }
        }
        policy.endStep(step, s.position, s.token);
        step++;
        s.cost.policy += System.nanoTime() - p0;
        s.ended = true;
    }

    /** Records a finished step: its wall time runs from the later of its launch and the last step's finish. */
    private void record(Launched s) {
        long now = System.nanoTime();
        long wall = now - Math.max(lastFinishedAt, s.startedAt);
        lastFinishedAt = now;
        StepCost c = s.cost;
        timings.record(wall, s.wholeCache, c.compute, c.build, c.inputs, c.readback, c.policy);
    }

    /** Whether any plan asks for a read-back the policy observes. */
    private static boolean readsBack(AttentionPlan[] plans) {
        for (AttentionPlan p : plans) {
            if (p.probabilities() || p.query()) {
                return true;
            }
        }
        return false;
    }

    /** The tensor holding a pass's result: the greedy token or the logits (null when neither). */
    private static Tensor resultOf(PassGraph.Outputs outputs) {
        return outputs.greedy() != null ? outputs.greedy() : outputs.logits();
    }

    private StepOutput readSlot(Launched s) {
        PassGraph.Outputs outputs = s.graph.outputs();
        if (outputs.greedy() != null) {
            return new StepOutput(null, engine.stepResults().intAt(s.slot));
        }
        return outputs.logits() == null ? null
                : new StepOutput(engine.stepResults().floats(s.slot, Math.toIntExact(outputs.logits().elements())), -1);
    }

    /** The logits or the greedy token a pass's outputs hold (null when the pass computed neither). */
    private static StepOutput read(PassGraph.Outputs outputs) {
        if (outputs.greedy() != null) {
            return new StepOutput(null, outputs.greedy().getInts()[0]);
        }
        return outputs.logits() == null ? null : new StepOutput(outputs.logits().getFloats(), -1);
    }

    /**
     * Each layer's query computed before the policy plans it (a query-similarity schedule's
     * check steps), so one graph up to the query and one of the layer, per layer.
     */
    private StepOutput layerByLayer(int token, int position, AttentionPlan[] plans, LayerObservation[] observed,
                                    StepCost cost, Pass.Logits wanted, boolean readBack) {
        StepOutput out = null;
        for (int l = 0; l < plans.length; l++) {
            // the layers not planned yet are null here: queryOf plans every layer full
            Pass queryPass = Pass.step(token, position, plans, false, wanted).queryOf(l);
            QueryVectors query;
            try (PassGraph g = timedBuild(queryPass, cost)) {
                cost.compute += engine.run(g.graph());
                cost.inputs += engine.lastInputNanos();
                long r0 = System.nanoTime();
                query = engine.queryVectors(g.outputs(), l);
                cost.readback += System.nanoTime() - r0;
            }
            plans[l] = checked(policy.plan(new LayerStep(l, step, position, query)), l, position);
            Pass layerPass = Pass.step(token, position, plans, diagnosis != null, wanted).layer(l);
            try (PassGraph g = timedBuild(layerPass, cost)) {
                cost.compute += engine.run(g.graph());
                cost.inputs += engine.lastInputNanos();
                engine.deferredWrites().afterStep(layerPass);
                engine.fullCacheValidity().afterStep(layerPass);
                long r0 = System.nanoTime();
                StepOutput read = readBack ? read(g.outputs()) : null;
                if (read != null) {
                    out = read;
                }
                g.launched();
                g.afterCompute();
                observed[l] = observation(g.outputs(), plans[l], l, position);
                diagnose(g.outputs(), plans[l], l, position);
                cost.readback += System.nanoTime() - r0;
            }
        }
        return out;
    }

    private PassGraph timedBuild(Pass pass, StepCost cost) {
        long b0 = System.nanoTime();
        PassGraph g = PassBuilder.build(engine.graphResources(), pass);
        cost.build += System.nanoTime() - b0;
        return g;
    }

    /** Adds the step's plans to the counts; returns how many of its layers read the whole cache. */
    private int countAttention(AttentionPlan[] plans, int position) {
        int wholeCache = 0;
        for (AttentionPlan p : plans) {
            attendedRows += p.rows(position);
            extraBytes += p.extraBytes(position, hp, engine.cacheType());
            if (p.readsWholeCache()) {
                wholeCache++;
            }
        }
        fullLayerSteps += wholeCache;
        if (wholeCache == plans.length) {
            fullSteps++;
        }
        return wholeCache;
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
        return withDiagnostics(new int[0], d -> { });
    }

    /**
     * {@link #withDiagnostics()}, and each layer's measurements of each step, with what the
     * step's attention did to the {@code tracked} cache positions (e.g. a prompt's answer
     * spans), handed to {@code perLayerStep} after the step's compute, layers in order.
     * Layers whose plan and policy do not say which positions they read are not reported.
     */
    public Decoder withDiagnostics(int[] tracked, Consumer<LayerDiagnostics> perLayerStep) {
        if (step > 0) {
            throw new IllegalStateException("turn diagnostics on before the first step");
        }
        int[] sorted = Arrays.stream(tracked).sorted().distinct().toArray();
        if (sorted.length > 0 && sorted[0] < 0) {
            throw new IllegalArgumentException("tracked positions must not be negative: " + sorted[0]);
        }
        diagnosis = new StepDiagnostics(hp, policy, sorted, Objects.requireNonNull(perLayerStep, "perLayerStep"));
        return this;
    }

    /**
     * Mean over steps, layers and query heads of the share of full attention's probability
     * mass on the rows the method attended (1 for full steps); NaN without diagnostics.
     */
    public double meanMassRecall() {
        return diagnosis == null ? Double.NaN : diagnosis.meanMassRecall();
    }

    /** Mean share of full attention's top-|attended| rows that the method attended; NaN without diagnostics. */
    public double meanTopKOverlap() {
        return diagnosis == null ? Double.NaN : diagnosis.meanTopKOverlap();
    }

    /** Layer-steps that attended the whole cache (layers of a dynamic schedule decide apart). */
    public long fullLayerSteps() {
        return fullLayerSteps;
    }

    /** Steps in which every layer attended the whole cache. */
    public int fullSteps() {
        return fullSteps;
    }

    private void diagnose(PassGraph.Outputs out, AttentionPlan plan, int l, int position) {
        if (diagnosis != null) {
            diagnosis.diagnose(out.fullProbabilities()[l], plan, step, l, position);
        }
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
        try {
            engine.backend().synchronize(); // nothing of this run is still queued (an exception may have left a step)
            // the rows the full cache still lacks sit in the policy's compact caches, which close with it
            engine.deferredWrites().flush();
            // the run of steps is over: the CPU pool's workers sleep now rather than spin on
            engine.backend().pauseThreads();
        } finally {
            policy.close();
        }
    }
}
