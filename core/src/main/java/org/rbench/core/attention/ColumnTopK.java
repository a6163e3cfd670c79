package org.rbench.core.attention;

import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

/**
 * The {@code k} largest entries of each column of a score matrix, on the device, in no
 * particular order ({@code ggml_top_k}).
 *
 * <p>On a GPU, long columns are selected one at a time. ggml's CUDA top_k sorts (CUB): a
 * batch of several columns longer than 1024 goes to CUB's segmented radix sort, which gives
 * each column a single thread block (8 KV heads of 131K scores: 8 of an H200's 132 SMs, about
 * 1.2 ms), while one column alone goes to CUB's device-wide radix sort. The columns' results
 * are joined again (a concat of k indices per column). On the CPU one batched op is as fast
 * (its threads split the columns) and is kept.
 */
public final class ColumnTopK {
    /** Columns up to this long are sorted by ggml's one-kernel bitonic sort on CUDA, batched or not. */
    static final int SHORT_COLUMN = 1024;

    private ColumnTopK() {
    }

    /**
     * I32 {@code [k, columns]}: the rows of the {@code k} largest scores of each column of
     * {@code scores} F32 {@code [rows, columns]} (contiguous), column by column when
     * {@code onGpu} and the columns are long.
     */
    public static Tensor select(GgmlContext ctx, Tensor scores, int k, boolean onGpu) {
        long rows = scores.ne(0);
        long columns = scores.ne(1);
        if (!onGpu || columns == 1 || rows <= SHORT_COLUMN) {
            return ctx.topK(scores, k);
        }
        Tensor joined = null;
        for (long c = 0; c < columns; c++) {
            Tensor column = ctx.view(scores, new long[] {rows, 1}, new long[] {scores.nb(1)}, c * scores.nb(1));
            Tensor top = ctx.topK(column, k);
            joined = joined == null ? top : ctx.concat(joined, top, 1);
        }
        return joined;
    }
}
