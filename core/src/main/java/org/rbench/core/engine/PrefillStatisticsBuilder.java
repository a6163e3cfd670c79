package org.rbench.core.engine;

import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

/**
 * The statistics a prefill batch reads back for the policies (see
 * {@link org.rbench.core.attention.PrefillRequest}): the attention rows of the last prompt
 * tokens, the attention each key received summed over the batch's queries (computed in
 * chunks of queries so that the whole score matrix is never materialised), and summed over
 * the last prompt tokens only (window sums).
 */
final class PrefillStatisticsBuilder {
    private final PassBuilder pass;
    private final int layer;
    private final GgmlContext ctx;

    PrefillStatisticsBuilder(PassBuilder pass, int layer) {
        this.pass = pass;
        this.layer = layer;
        this.ctx = pass.ctx;
    }

    /** Queries per column-sum chunk: as many as the statistics memory budget holds. */
    static int chunk(GraphResources res, Pass pass) {
        long perQuery = (long) res.keyRows(pass.start() + pass.batch()) * res.hyperParameters().heads() * Float.BYTES;
        return (int) Math.max(1, Math.min(pass.batch(), res.options().statisticsBudgetBytes() / perQuery));
    }

    static int chunks(GraphResources res, Pass pass) {
        int c = chunk(res, pass);
        return (pass.batch() + c - 1) / c;
    }

    /** keys: the whole cache's rows the batch attends; q: the batch's rotated queries [headDim, heads, n]. */
    void build(Tensor keys, Tensor q) {
        int n = pass.pass.batch();
        int windowFrom = pass.pass.windowFrom();
        if (windowFrom >= 0 && windowFrom < n) {
            pass.windowRows[layer] = querySlice(keys, q, windowFrom, n).name("window_" + layer).output();
            pass.g.expand(pass.windowRows[layer]);
        }
        int sumsFrom = pass.pass.windowSumsFrom();
        if (sumsFrom >= 0 && sumsFrom < n) {
            pass.windowSums[layer] = keySums(querySlice(keys, q, sumsFrom, n)).name("window_sums_" + layer).output();
            pass.g.expand(pass.windowSums[layer]);
        }
        if (pass.pass.columnSums()) {
            int chunk = chunk(pass.res, pass.pass);
            Tensor sum = null;
            for (int a = 0; a < n; a += chunk) {
                Tensor s = keySums(querySlice(keys, q, a, Math.min(n, a + chunk)));
                sum = sum == null ? s : ctx.add(sum, s);
            }
            pass.columnSums[layer] = sum.name("column_sums_" + layer).output();
            pass.g.expand(pass.columnSums[layer]);
        }
    }

    /**
     * Probabilities [rows, queries, heads] summed over the queries: what each key received,
     * [1, rows, heads]. As an outer product with ones, which reads the probabilities once, in
     * their own order; summing rows would need them transposed first, a strided copy written
     * and read again (on the CPU that copy and sum cost more than the probabilities themselves).
     */
    private Tensor keySums(Tensor probabilities) {
        if (!pass.res.outerProducts()) {
            return ctx.sumRows(ctx.cont(ctx.permute(probabilities, 1, 0, 2, 3)));
        }
        long rows = probabilities.ne(0), queries = probabilities.ne(1), heads = probabilities.ne(2);
        return ctx.reshape(ctx.outProd(probabilities, pass.ones(queries, heads)), 1, rows, heads); // [rows, 1, heads]: same layout
    }

    /** Attention probabilities of query rows [a, b) of the batch: [rows, b - a, heads]. */
    private Tensor querySlice(Tensor keys, Tensor q, int a, int b) {
        int w = b - a;
        Tensor mask = pass.mask;
        Tensor qs = ctx.view(q, new long[] {q.ne(0), q.ne(1), w}, new long[] {q.nb(1), q.nb(2)}, a * q.nb(2));
        Tensor ms = mask == null ? null
                : ctx.view(mask, new long[] {mask.ne(0), w}, new long[] {mask.nb(1)}, a * mask.nb(1));
        return AttentionMath.softmax(ctx, keys, ctx.permute(qs, 0, 2, 1, 3), ms, pass.hp.attentionScale());
    }
}
