package org.rbench.core.engine;

import org.rbench.core.attention.TopRows;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.function.Consumer;

/**
 * The device side of {@link TopRows} as graph ops: from a decode step's attention
 * probabilities {@code [rows, 1, heads]} (rows past the new token are padding), the scores
 * per KV head (the query-head group aggregated, then max-pooled along positions; padding
 * never raises a valid row's maximum), masked past the positions that exist, sorted; the
 * first {@code m} candidates per KV head and their scores are the outputs. Mirrors
 * RecycledCache#refresh, whose host arithmetic gives the same floats for FIRST and MAX
 * (MEAN/SUM rank alike; the device averages).
 *
 * <p>Kept apart from {@link TransformerGraph} so that {@link SelectionBenchmark} times
 * exactly the ops a full step runs.
 */
final class TopRowsSelection {
    /** How the per-KV-head score rows are sorted. */
    enum Sort {
        /**
         * One argsort per KV head. ggml-cuda sorts a single row with CUB's device-wide radix
         * sort; the engine's choice on GPUs.
         */
        PER_HEAD,
        /**
         * One argsort over all KV heads' rows. ggml-cuda gives several rows to a segmented
         * sort, one thread block per row; ggml-cpu sorts rows in parallel, so this is the
         * engine's choice on the CPU.
         */
        ALL_HEADS
    }

    /** The candidates per KV head, {@code [m, kvHeads]} I32, and their scores {@code [1, m, kvHeads]} F32. */
    record Result(Tensor positions, Tensor scores) {
    }

    private TopRowsSelection() {
    }

    /**
     * Scores per KV head, {@code [rows, kvHeads]} F32: aggregated over each KV head's query
     * group, max-pooled along positions, plus {@code mask} (F16 or F32, {@code rows} long, 0
     * or -inf; null for none) so that padding sorts last: a view of the valid rows would
     * change the graph's shape at every step.
     */
    static Tensor scores(GgmlContext ctx, Tensor probs, Tensor mask, TopRows request, int heads, int kvHeads) {
        int group = heads / kvHeads;
        long rows = probs.ne(0);
        Tensor plane = ctx.reshape(probs, rows, heads);
        Tensor perKv = switch (request.aggregation()) {
            case FIRST -> group == 1 ? plane
                    : ctx.cont(ctx.view(plane, new long[] {rows, kvHeads}, new long[] {plane.nb(1) * group}, 0));
            case MAX -> group == 1 ? plane : ctx.pool2d(plane, GgmlContext.POOL_MAX, 1, group, 1, group, 0, 0);
            case MEAN, SUM -> group == 1 ? plane : ctx.pool2d(plane, GgmlContext.POOL_AVG, 1, group, 1, group, 0, 0);
        };
        int kernel = request.poolKernel();
        Tensor pooled = kernel == 1 ? perKv : ctx.pool2d(perKv, GgmlContext.POOL_MAX, kernel, 1, 1, 1, kernel / 2, 0);
        if (mask == null) {
            return pooled;
        }
        Tensor m32 = mask.type() == GgmlType.F32 ? mask : ctx.cast(mask, GgmlType.F32);
        return ctx.add(pooled, ctx.reshape(m32, rows, 1));
    }

    /**
     * The first {@code m} positions per KV head by descending score, and their scores.
     * {@code expand} adds a node to the graph being built: the per-head sort writes into its
     * output through copies that nothing else depends on, so they are expanded here, before
     * the read of the output.
     */
    static Result select(GgmlContext ctx, Tensor scores, int m, Sort sort, Consumer<Tensor> expand) {
        long rows = scores.ne(0);
        int kvHeads = (int) scores.ne(1);
        Tensor top;
        if (sort == Sort.ALL_HEADS) {
            Tensor order = ctx.argsort(scores, GgmlContext.SORT_DESC);
            top = ctx.cont(ctx.view(order, new long[] {m, kvHeads}, new long[] {order.nb(1)}, 0));
        } else {
            top = ctx.newTensor(GgmlType.I32, m, kvHeads);
            for (int h = 0; h < kvHeads; h++) {
                Tensor headScores = ctx.view(scores, new long[] {rows}, new long[] {}, h * scores.nb(1));
                Tensor order = ctx.argsort(headScores, GgmlContext.SORT_DESC);
                expand.accept(ctx.cpy(ctx.view(order, new long[] {m}, new long[] {}, 0),
                        ctx.view(top, new long[] {m}, new long[] {}, h * top.nb(1))));
            }
        }
        Tensor topScores = ctx.getRows(ctx.reshape(scores, 1, rows, kvHeads), top);
        return new Result(top, topScores);
    }
}
