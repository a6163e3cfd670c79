package org.rbench.core.engine;

import org.rbench.core.attention.TopRows;
import org.rbench.core.select.ScoreSelection;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * Device time of the pieces of one layer of a Recycled Attention full step, each piece a
 * graph of its own over the same random cache and query, computed repeatedly: where a full
 * step's cost beyond a full-attention step goes, on a machine without a profiler. Flash
 * attention alone is what every step computes; the selection's pieces then build on each
 * other (the explicit K^T q softmax; plus aggregation and pooling; plus the sort, per KV head
 * or over all heads at once), so differences of their medians are the pieces' costs and
 * the last is what a full step adds to a full-attention step.
 *
 * @see TopRowsSelection
 */
public final class SelectionBenchmark {
    /** One layer's attention shape: cached rows attended, query heads, KV heads, head dimension. */
    public record Shape(int rows, int heads, int kvHeads, int headDim) {
        public Shape {
            if (rows < 2 || heads < 1 || kvHeads < 1 || heads % kvHeads != 0 || headDim < 2) {
                throw new IllegalArgumentException("bad attention shape: " + rows + " rows, " + heads + " heads, "
                        + kvHeads + " KV heads, head dim " + headDim);
            }
        }
    }

    /** Median and spread of one piece's compute time, in milliseconds per layer. */
    public record Timing(String piece, double medianMs, double minMs, double maxMs, int repeats) {
    }

    /** The timings, and each sort's candidates per KV head after ties are put in position order. */
    public record Result(List<Timing> timings, int[][] perHeadSelection, int[][] allHeadsSelection) {
    }

    /** Padding of the attended rows, as the engine's default (llama.cpp's 256). */
    private static final int PAD = 256;

    private SelectionBenchmark() {
    }

    public static Result run(Backend backend, Shape shape, TopRows request, int repeats, long seed) {
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats must be at least 1, got " + repeats);
        }
        int valid = shape.rows();
        int rows = (valid + PAD - 1) / PAD * PAD;
        int capacity = rows + PAD; // the engine's cache is larger than the rows a step reads
        int m = request.candidates(valid);
        try (GgmlContext data = GgmlContext.forMetadata(4, 0)) {
            Tensor keys = data.newTensor(GgmlType.F16, shape.headDim(), capacity, shape.kvHeads()).name("k");
            Tensor values = data.newTensor(GgmlType.F16, shape.headDim(), capacity, shape.kvHeads()).name("v");
            Tensor query = data.newTensor(GgmlType.F32, shape.headDim(), 1, shape.heads()).name("q");
            Tensor mask = data.newTensor(GgmlType.F16, rows, 1).name("mask");
            try (BackendBuffer buffer = BackendBuffer.allocate(data, backend)) {
                fill(keys, values, query, mask, valid, seed);
                List<Timing> timings = new ArrayList<>();
                float scale = (float) (1 / Math.sqrt(shape.headDim()));
                Piece flash = (ctx, g) -> {
                    Tensor fa = ctx.flashAttnExt(query, rowsView(ctx, keys, rows), rowsView(ctx, values, rows), mask, scale, 0f, 0f);
                    ctx.setFlashAttnPrecision(fa, GgmlContext.PREC_F32);
                    return new Tensor[] {fa};
                };
                timings.add(time(backend, "flash attention (computed by every step)", flash, repeats, null));
                Piece softmax = (ctx, g) -> new Tensor[] {probabilities(ctx, keys, query, mask, rows, scale)};
                timings.add(time(backend, "K^T q softmax", softmax, repeats, null));
                Piece scores = (ctx, g) -> new Tensor[] {TopRowsSelection.scores(ctx,
                        probabilities(ctx, keys, query, mask, rows, scale), mask, request, shape.heads(), shape.kvHeads())};
                timings.add(time(backend, "softmax + GQA aggregation, pooling, mask", scores, repeats, null));
                int[][][] selections = new int[2][][];
                TopRowsSelection.Sort[] sorts = {TopRowsSelection.Sort.PER_HEAD, TopRowsSelection.Sort.ALL_HEADS};
                for (int i = 0; i < sorts.length; i++) {
                    TopRowsSelection.Sort sort = sorts[i];
                    Piece select = (ctx, g) -> {
                        Tensor s = TopRowsSelection.scores(ctx, probabilities(ctx, keys, query, mask, rows, scale), mask,
                                request, shape.heads(), shape.kvHeads());
                        TopRowsSelection.Result r = TopRowsSelection.select(ctx, s, m, sort, g::expand);
                        return new Tensor[] {r.positions(), r.scores()};
                    };
                    int index = i;
                    timings.add(time(backend, "softmax ... + sort, " + sort.name().toLowerCase().replace('_', ' '), select, repeats,
                            out -> selections[index] = byKvHead(out[0].getInts(), out[1].getFloats(), shape.kvHeads(), request.k())));
                }
                return new Result(List.copyOf(timings), selections[0], selections[1]);
            }
        }
    }

    /** Builds a piece's graph from the shared inputs; returns its outputs. */
    private interface Piece extends BiFunction<GgmlContext, StepGraph, Tensor[]> {
    }

    private static Timing time(Backend backend, String name, Piece piece, int repeats,
                               java.util.function.Consumer<Tensor[]> check) {
        try (StepGraph g = new StepGraph(4096); GraphAllocator allocator = new GraphAllocator(backend)) {
            Tensor[] outputs = piece.apply(g.ctx, g);
            for (Tensor t : outputs) {
                g.expand(t.output());
            }
            allocator.allocate(g.graph);
            for (int i = 0; i < 3; i++) { // warm-up: first-use costs (kernel loading, pools)
                backend.compute(g.graph);
            }
            double[] ms = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                backend.compute(g.graph);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            if (check != null) {
                check.accept(outputs);
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            return new Timing(name, sorted[repeats / 2], sorted[0], sorted[repeats - 1], repeats);
        }
    }

    private static Tensor rowsView(GgmlContext ctx, Tensor cache, int rows) {
        return TransformerGraph.rowsView(ctx, cache, 0, rows);
    }

    /** The engine's softmax over the first {@code rows} keys: [rows, 1, heads]. */
    private static Tensor probabilities(GgmlContext ctx, Tensor keys, Tensor query, Tensor mask, int rows, float scale) {
        return TransformerGraph.softmax(ctx, rowsView(ctx, keys, rows), query, mask, scale);
    }

    private static int[][] byKvHead(int[] positions, float[] scores, int kvHeads, int k) {
        int m = positions.length / kvHeads;
        int[][] out = new int[kvHeads][];
        for (int h = 0; h < kvHeads; h++) {
            out[h] = ScoreSelection.orderTies(Arrays.copyOfRange(positions, h * m, (h + 1) * m),
                    Arrays.copyOfRange(scores, h * m, (h + 1) * m), k);
        }
        return out;
    }

    private static void fill(Tensor keys, Tensor values, Tensor query, Tensor mask, int valid, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        try (Arena arena = Arena.ofConfined()) {
            for (Tensor t : new Tensor[] {keys, values, query}) {
                MemorySegment block = arena.allocate(t.bytes(), 64);
                KvCache.randomise(block, t.type(), random);
                t.write(block, 0);
            }
            long rows = mask.ne(0);
            MemorySegment m = arena.allocate(rows * 2, 64);
            for (long r = 0; r < rows; r++) {
                m.setAtIndex(ValueLayout.JAVA_SHORT, r, r < valid ? (short) 0 : CausalMask.HALF_NEGATIVE_INFINITY);
            }
            mask.write(m, 0);
        }
    }
}
