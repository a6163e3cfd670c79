package org.rbench.harness;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.RowIndices;
import org.rbench.core.model.Architecture;
import org.rbench.core.model.HyperParameters;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.run.Method;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GgmlType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code rbench bench-policy}: the host time a strategy's policy takes per decode step
 * (planning every layer, reading what it asked for, ending the step) at a model's shapes,
 * without a model or a backend: the engine's part of a step is `bench`'s business, this is
 * the Java work beside it. Probabilities and prefill column sums are random; the work of
 * the policies it serves (H2O's accumulate-and-evict) does not depend on their values.
 * Policies that keep device state (Recycled Attention's and StreamingLLM's compact caches,
 * device selection) need an engine and are refused with a message saying so.
 */
@Command(name = "bench-policy", mixinStandardHelpOptions = true,
        description = "Host time per decode step of host-side policies (e.g. h2o) at a model's shapes; no model needed.")
final class PolicyBenchCommand implements Callable<Integer> {
    @Option(names = "--methods", defaultValue = "h2o:k=4096", split = Method.LIST_SEPARATOR, splitSynopsisLabel = ",", paramLabel = "METHOD",
            converter = MethodConverters.EngineOnly.class, description = "Methods to time (default: ${DEFAULT-VALUE}).")
    List<Method.EngineStrategy> methods;

    @Option(names = "--ctx", defaultValue = "131000", split = ",", description = "Prompt tokens before the decode, e.g. 65536,131000.")
    List<Integer> contexts;

    @Mixin
    AttentionShapeOptions dims;




    @Option(names = "--steps", defaultValue = "50", description = "Decode steps per measurement.")
    int steps;

    @Option(names = "--repeats", defaultValue = "3", description = "Measurements per method and length (after one unrecorded).")
    int repeats;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = "--out", description = "Also append the timings to this CSV.")
    Path out;

    static final List<String> COLUMNS = List.of("timestamp", "method", "length", "layers", "heads", "kv_heads", "head_dim",
            "steps", "repeat", "median_ms_per_step", "mean_ms_per_step", "java");

    @Override
    public Integer call() throws IOException {
        if (steps <= 0 || repeats <= 0 || dims.layers <= 0 || contexts.stream().anyMatch(c -> c < 2)) {
            throw new IllegalArgumentException("--steps, --repeats and --layers must be positive and contexts at least 2");
        }
        System.out.printf(Locale.ROOT, "host time per decode step: %d layers, %d heads / %d KV heads, head dim %d, %d steps, %d repeats%n",
                dims.layers, dims.heads, dims.kvHeads, dims.headDim, steps, repeats);
        System.out.printf(Locale.ROOT, "%-8s %-28s %14s %14s%n", "context", "method", "median ms/step", "mean ms/step");
        try (ResultsFile csv = out == null ? null : ResultsFile.open(out, COLUMNS)) {
            for (int ctx : contexts) {
                HyperParameters hp = new HyperParameters(Architecture.LLAMA, dims.heads * dims.headDim, dims.layers, dims.heads, dims.kvHeads, dims.headDim,
                        4 * dims.heads * dims.headDim, ctx + steps + 1, 32000, 1e-5f, 5e5f, 1f, 0, false);
                for (Method.EngineStrategy method : methods) {
                    double[] medians = new double[repeats];
                    for (int r = -1; r < repeats; r++) {
                        double[] perStep = measure(method, hp, ctx);
                        if (r < 0) {
                            continue; // warm-up: JIT compilation
                        }
                        double[] sorted = perStep.clone();
                        Arrays.sort(sorted);
                        double median = sorted[sorted.length / 2];
                        double mean = Arrays.stream(perStep).average().orElse(Double.NaN);
                        medians[r] = median;
                        if (csv != null) {
                            Map<String, String> row = new LinkedHashMap<>();
                            row.put("timestamp", Instant.now().toString());
                            row.put("method", method.text());
                            row.put("length", Integer.toString(ctx));
                            row.put("layers", Integer.toString(dims.layers));
                            row.put("heads", Integer.toString(dims.heads));
                            row.put("kv_heads", Integer.toString(dims.kvHeads));
                            row.put("head_dim", Integer.toString(dims.headDim));
                            row.put("steps", Integer.toString(steps));
                            row.put("repeat", Integer.toString(r));
                            row.put("median_ms_per_step", String.format(Locale.ROOT, "%.4f", median));
                            row.put("mean_ms_per_step", String.format(Locale.ROOT, "%.4f", mean));
                            row.put("java", Runtime.version().toString());
                            csv.append(row);
                        }
                        if (r == repeats - 1) {
                            double[] m = medians.clone();
                            Arrays.sort(m);
                            System.out.printf(Locale.ROOT, "%-8d %-28s %14.3f %14.3f%n", ctx, method.text(), m[m.length / 2], mean);
                        }
                    }
                }
            }
        }
        return 0;
    }

    /** Host milliseconds of each of {@link #steps} decode steps of a fresh policy after a prompt of {@code ctx} tokens. */
    private double[] measure(Method.EngineStrategy parsed, HyperParameters hp, int ctx) {
        AttentionPolicy policy = parsed.create(hp, ctx);
        String method = parsed.text();
        SplittableRandom random = new SplittableRandom(seed);
        HostOnlyContext context = new HostOnlyContext(hp, ctx + steps + 1, method);
        policy.start(context, prefillStatistics(policy.prefillRequest(), method, ctx, random));
        float[][] probabilityBuffers = new float[2][];
        double[] perStep = new double[steps];
        for (int s = 0; s < steps; s++) {
            int position = ctx + s;
            if (policy.needsQueryBeforePlanning(s)) {
                throw new IllegalArgumentException(method + " plans from the step's query vectors, which need an engine: use bench");
            }
            long t0 = System.nanoTime();
            AttentionPlan[] plans = new AttentionPlan[dims.layers];
            for (int l = 0; l < dims.layers; l++) {
                plans[l] = policy.plan(new LayerStep(l, s, position, null));
            }
            long planned = System.nanoTime();
            // the probabilities a plan asks for, as the engine would read them back (made outside the timing)
            LayerObservation[] observations = new LayerObservation[dims.layers];
            for (int l = 0; l < dims.layers; l++) {
                if (plans[l].query()) {
                    throw new IllegalArgumentException(method + " asks for query vectors, which need an engine: use bench");
                }
                if (plans[l].probabilities()) {
                    int keys = plans[l].rows(position);
                    observations[l] = new LayerObservation(l, s, position,
                            new AttentionProbabilities(hp.heads(), 1, keys, position, probabilities(probabilityBuffers, l % 2, keys, random)),
                            null);
                }
            }
            long observed = System.nanoTime();
            for (LayerObservation o : observations) {
                if (o != null) {
                    policy.observe(o);
                }
            }
            policy.endStep(s, position, 0);
            context.position = position + 1;
            perStep[s] = ((planned - t0) + (System.nanoTime() - observed)) / 1e6;
        }
        return perStep;
    }

    private float[] probabilities(float[][] buffers, int which, int keys, SplittableRandom random) {
        int n = dims.heads * keys;
        if (buffers[which] == null || buffers[which].length != n) {
            buffers[which] = new float[n];
            for (int i = 0; i < n; i++) {
                buffers[which][i] = (float) random.nextDouble() / keys;
            }
        }
        return buffers[which];
    }

    private PrefillStatistics prefillStatistics(PrefillRequest request, String method, int ctx, SplittableRandom random) {
        if (request.lastRows() > 0 || request.hostLastRows() > 0 || request.lastQuery()) {
            throw new IllegalArgumentException(method + " asks the prefill for attention rows or query vectors, which need an engine: use bench");
        }
        if (!request.columnSums()) {
            return PrefillStatistics.none(0, ctx);
        }
        float[] sums = new float[dims.heads * ctx]; // one layer's, shared by all layers: only the shape matters
        for (int i = 0; i < sums.length; i++) {
            sums[i] = (float) random.nextDouble();
        }
        float[][] perLayer = new float[dims.layers][];
        Arrays.fill(perLayer, sums);
        return new PrefillStatistics(0, ctx, null, perLayer, null);
    }

    /** Sizes and position only: a policy that wants device memory gets a clear refusal. */
    private static final class HostOnlyContext implements AttentionContext {
        private final HyperParameters hp;
        private final int capacity;
        private final String method;
        int position;

        HostOnlyContext(HyperParameters hp, int capacity, String method) {
            this.hp = hp;
            this.capacity = capacity;
            this.method = method;
        }

        private UnsupportedOperationException deviceState() {
            return new UnsupportedOperationException(method + " keeps state on the device, which needs an engine: use bench");
        }

        @Override
        public HyperParameters hyperParameters() {
            return hp;
        }

        @Override
        public Backend backend() {
            throw deviceState();
        }

        @Override
        public int cacheCapacity() {
            return capacity;
        }

        @Override
        public GgmlType cacheType() {
            return GgmlType.F16;
        }

        @Override
        public int position() {
            return position;
        }

        @Override
        public CompactCache newCompactCache(int capacity, int spareRows) {
            throw deviceState();
        }

        @Override
        public RowIndices newRowIndices(int rowsPerHead) {
            throw deviceState();
        }

        @Override
        public boolean onGpu() {
            return false; // the host's share of a step is what this context measures
        }

        @Override
        public void copyRows(List<RowCopy> copies) {
            throw deviceState();
        }

        @Override
        public void shiftKeys(CompactCache cache, int fromRow, int count, int delta) {
            throw deviceState();
        }

        @Override
        public void computeOverCache(CachePiece piece, int maxTensors, Runnable readOutputs) {
            throw deviceState();
        }
    }
}
