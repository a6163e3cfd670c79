package org.rbench.core.attention;

import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

/**
 * Rows gathered out of a KV cache {@code [headDim, capacity, kvHeads]}, in the cache's own type
 * where it can be.
 *
 * <p>ggml's get_rows converts every source but I32 to F32. Rows of an F16 (or BF16) cache are
 * therefore gathered as I32 pairs through {@link GgmlContext#bitcast} and read back as the
 * cache's type: a plain byte copy, half the bytes written and read again, and no cast before
 * GPU flash attention (which reads F16 K/V only); attention then reads them exactly as it reads
 * the cache itself. Other cache types (F32, quantized) come back F32, as get_rows gives them.
 */
public final class CacheRows {
    private CacheRows() {
    }

    /**
     * The rows {@code indices} I32 {@code [rows, kvHeads]} (column h: rows of KV head h) of
     * {@code cache}: {@code [headDim, rows, kvHeads]}, F16/BF16 for such a cache, else F32.
     */
    public static Tensor gather(GgmlContext ctx, Tensor cache, Tensor indices) {
        if (!copiesAsBytes(cache)) {
            return ctx.getRows(cache, indices);
        }
        return ctx.bitcast(ctx.getRows(ctx.bitcast(cache, GgmlType.I32), indices), cache.type());
    }

    /**
     * Whether {@link #gatherInto} can write rows of {@code cache} straight into {@code into}: a
     * contiguous tensor of the type {@link #gather} gives (the whole of a compact cache, say).
     */
    public static boolean canGatherInto(Tensor cache, Tensor into) {
        GgmlType gathered = copiesAsBytes(cache) ? cache.type() : GgmlType.F32;
        return into.type() == gathered && into.isContiguous() && (!copiesAsBytes(cache) || copiesAsBytes(into));
    }

    /**
     * {@link #gather} computed straight into {@code into} ({@link #canGatherInto}), whose memory
     * then holds the rows with no copy after the gather: returns the node to expand.
     */
    public static Tensor gatherInto(GgmlContext ctx, Tensor cache, Tensor indices, Tensor into) {
        if (!canGatherInto(cache, into)) {
            throw new IllegalArgumentException("rows of a " + cache.type() + " cache cannot be gathered into a "
                    + into.type() + (into.isContiguous() ? "" : " strided") + " tensor");
        }
        if (!copiesAsBytes(cache)) {
            return ctx.getRowsInto(cache, indices, into);
        }
        return ctx.getRowsInto(ctx.bitcast(cache, GgmlType.I32), indices, ctx.bitcast(into, GgmlType.I32));
    }

    /** Rows [from, to) of a {@code [headDim, capacity, kvHeads]} cache tensor, as a strided view (no copy). */
    public static Tensor range(GgmlContext ctx, Tensor cache, int from, int to) {
        return ctx.view(cache, new long[] {cache.ne(0), to - from, cache.ne(2)}, new long[] {cache.nb(1), cache.nb(2)},
                from * cache.nb(1));
    }

    /**
     * Rows for each query head: the cache viewed as one list of {@code capacity * kvHeads}
     * rows, gathered at flat indices {@code flat} I32 {@code [rows * heads, 1]} (query head h's
     * rows as (h / group) * capacity + position): {@code [headDim, rows, heads]}, so attention
     * sees one K/V head per query head.
     */
    public static Tensor perQueryHead(GgmlContext ctx, Tensor cache, Tensor flat, int rows, int heads) {
        Tensor list = ctx.reshape(cache, cache.ne(0), cache.ne(1) * cache.ne(2));
        return ctx.reshape(gather(ctx, list, flat), cache.ne(0), rows, heads);
    }

    /**
     * The cache seen as pages: {@code [page x headDim, capacity / page, kvHeads]}, each page's
     * {@code page} rows (contiguous in the cache) one row of the view. The capacity must be
     * whole pages.
     */
    public static Tensor byPage(GgmlContext ctx, Tensor cache, int page) {
        if (cache.ne(1) % page != 0) {
            throw new IllegalArgumentException("a cache of " + cache.ne(1) + " rows is not whole pages of " + page);
        }
        return ctx.view(cache, new long[] {cache.ne(0) * page, cache.ne(1) / page, cache.ne(2)},
                new long[] {cache.nb(1) * page, cache.nb(2)}, 0);
    }

    /**
     * Whole pages of {@code page} rows at page indices {@code pages} I32 {@code [count, kvHeads]}
     * (column h: pages of KV head h), page after page: {@code [headDim, count * page, kvHeads]}.
     * One gathered row per page: ggml's get_rows gives every gathered row a thread block, so
     * this is a {@code page}-th of the work of gathering the same rows one by one.
     */
    public static Tensor pages(GgmlContext ctx, Tensor cache, Tensor pages, int page) {
        return ctx.reshape(gather(ctx, byPage(ctx, cache, page), pages), cache.ne(0), pages.ne(0) * page, pages.ne(1));
    }

    /** Whether rows of {@code cache} are copied as bytes (a 2-byte float type, rows of whole I32 pairs). */
    public static boolean copiesAsBytes(Tensor cache) {
        GgmlType t = cache.type();
        return (t == GgmlType.F16 || t == GgmlType.BF16) && cache.ne(0) % 2 == 0 && cache.nb(0) == t.typeSize;
    }
}
