package org.rbench.harness;

import org.rbench.core.recycled.TopRows;
import org.rbench.core.bench.SelectionBenchmark;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.harness.results.ResultsFile;
import org.rbench.llamacpp.LlamaCpp;
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
import java.util.concurrent.Callable;

/**
 * {@code rbench bench-select}: the device time of the pieces of Recycled Attention's full
 * step for one layer (see {@link SelectionBenchmark}), at attention shapes of a model
 * (defaults: Llama-3.1-8B), so a full step's cost beyond a full-attention step can be taken
 * apart on a GPU machine without a profiler.
 */
@Command(name = "bench-select", mixinStandardHelpOptions = true,
        description = "Device time of a Recycled Attention full step's pieces (attention, scores, pooling, top-row selection).")
final class SelectionBenchCommand implements Callable<Integer> {
    @Option(names = "--ctx", defaultValue = "131000", split = ",", description = "Cached rows attended, e.g. 65536,131000.")
    List<Integer> contexts;

    @Option(names = "--reads", description = "Time instead how sparse steps select and read rows: sorts and top-k of"
            + " row and page scores, gathers of rows and of whole pages (get_rows to F32, as bytes), each beside"
            + " attention over contiguous rows.")
    boolean reads;

    @Option(names = "--page", defaultValue = "16", description = "Page size of the page reads (--reads).")
    int page;

    @Mixin
    AttentionShapeOptions dims;

    @Option(names = "--k", defaultValue = "4096")
    int k;

    @Option(names = "--pool", defaultValue = "7", description = "Max-pooling kernel (Recycled v2: 7, v1: 1).")
    int pool;

    @Option(names = "--gqa", defaultValue = "max", description = "GQA aggregation: max, first or mean.")
    String gqa;

    @Option(names = "--repeats", defaultValue = "20")
    int repeats;

    @Option(names = "--backend", defaultValue = "best")
    String backendName;

    @Mixin
    ThreadsOption threads;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Option(names = "--out", description = "Also append the timings to this CSV.")
    Path out;

    @Override
    public Integer call() throws IOException {
        GqaAggregation aggregation = GqaAggregation.valueOf(gqa.trim().toUpperCase(Locale.ROOT));
        TopRows request = new TopRows(k, aggregation, pool);
        LlamaCpp.initialise();
        try (Backend backend = Backends.open(backendName, threads.count);
             ResultsFile csv = out == null ? null : ResultsFile.open(out, COLUMNS)) {
            System.out.printf(Locale.ROOT, "%s (%s), %d heads / %d KV heads, head dim %d, k %d, pool %d, gqa %s, %d repeats%n",
                    backend.name(), backend.deviceDescription(), dims.heads, dims.kvHeads, dims.headDim, k, pool, aggregation, repeats);
            if (reads) {
                for (int ctx : contexts) {
                    SelectionBenchmark.Shape shape = new SelectionBenchmark.Shape(ctx, dims.heads, dims.kvHeads, dims.headDim);
                    System.out.printf(Locale.ROOT, "%n%-8s %-60s %10s %10s %10s %12s%n", "rows", "piece",
                            "median ms", "min", "max", "step of " + dims.layers);
                    for (SelectionBenchmark.Timing t : SelectionBenchmark.reads(backend, shape, k, page, dims.layers, repeats, seed)) {
                        System.out.printf(Locale.ROOT, "%-8d %-60s %10.3f %10.3f %10.3f %12.2f%n", ctx, t.piece(), t.medianMs(),
                                t.minMs(), t.maxMs(), t.stepMs());
                        append(csv, backend, ctx, request, t);
                    }
                }
                return 0;
            }
            boolean same = true;
            for (int ctx : contexts) {
                SelectionBenchmark.Shape shape = new SelectionBenchmark.Shape(ctx, dims.heads, dims.kvHeads, dims.headDim);
                SelectionBenchmark.Result r = SelectionBenchmark.run(backend, shape, request, dims.layers, repeats, seed);
                System.out.printf(Locale.ROOT, "%n%-8s %-52s %10s %10s %10s %12s%n", "rows", "piece",
                        "median ms", "min", "max", "step of " + dims.layers);
                for (SelectionBenchmark.Timing t : r.timings()) {
                    System.out.printf(Locale.ROOT, "%-8d %-52s %10.3f %10.3f %10.3f %12.2f%n", ctx, t.piece(), t.medianMs(),
                            t.minMs(), t.maxMs(), t.stepMs());
                    append(csv, backend, ctx, request, t);
                }
                boolean equal = Arrays.deepEquals(r.aloneSelection(), r.batchedSelection())
                        && Arrays.deepEquals(r.aloneSelection(), r.sortedSelection());
                same &= equal;
                System.out.println("selected alone, in the batch by top_k and by sorting, the layer selects "
                        + (equal ? "the same rows" : "DIFFERENT rows"));
                if (r.flashSelection() != null) {
                    // flash attention's logits are its own arithmetic (F16 products on a GPU), so near-ties may
                    // fall the other way: the overlap, not equality, is the check
                    System.out.printf(Locale.ROOT, "flash attention's scores: probabilities within %.3g of K^T q's; "
                            + "selection shares %.4f of its rows with K^T q's%n", r.flashProbabilityDifference(),
                            overlap(r.aloneSelection(), r.flashSelection()));
                }
            }
            return same ? 0 : 1;
        }
    }

    /** The share of {@code a}'s rows, over all KV heads, that {@code b} selects too. */
    static double overlap(int[][] a, int[][] b) {
        long common = 0;
        long total = 0;
        for (int h = 0; h < a.length; h++) {
            java.util.Set<Integer> rows = new java.util.HashSet<>();
            for (int r : b[h]) {
                rows.add(r);
            }
            for (int r : a[h]) {
                common += rows.contains(r) ? 1 : 0;
            }
            total += a[h].length;
        }
        return total == 0 ? 1 : (double) common / total;
    }

    private static final List<String> COLUMNS = List.of("timestamp", "backend", "device", "length", "heads", "kv_heads",
            "head_dim", "k", "pool", "gqa", "layers", "piece", "median_ms", "min_ms", "max_ms", "step_ms", "repeats");

    private void append(ResultsFile csv, Backend backend, int ctx, TopRows request, SelectionBenchmark.Timing t)
            throws IOException {
        if (csv == null) {
            return;
        }
        Map<String, String> row = new LinkedHashMap<>();
        row.put("timestamp", Instant.now().toString());
        row.put("backend", backend.name());
        row.put("device", backend.deviceDescription());
        row.put("length", Integer.toString(ctx));
        row.put("heads", Integer.toString(dims.heads));
        row.put("kv_heads", Integer.toString(dims.kvHeads));
        row.put("head_dim", Integer.toString(dims.headDim));
        row.put("k", Integer.toString(request.k()));
        row.put("pool", Integer.toString(request.poolKernel()));
        row.put("gqa", request.aggregation().name());
        row.put("layers", Integer.toString(dims.layers));
        row.put("piece", t.piece());
        row.put("median_ms", String.format(Locale.ROOT, "%.4f", t.medianMs()));
        row.put("min_ms", String.format(Locale.ROOT, "%.4f", t.minMs()));
        row.put("max_ms", String.format(Locale.ROOT, "%.4f", t.maxMs()));
        row.put("step_ms", String.format(Locale.ROOT, "%.4f", t.stepMs()));
        row.put("repeats", Integer.toString(t.repeats()));
        csv.append(row);
    }
}
