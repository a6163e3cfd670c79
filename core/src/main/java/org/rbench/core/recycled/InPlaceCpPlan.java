package org.rbench.core.recycled;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CacheRows;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.StepPart;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * A recycled step of Cp read in place ({@link RecycledAttention.CpLayout#INPLACE}): layer {@code layer}'s
 * slots [0, rows) name cache positions ({@link CpPositions}); the step writes its own token's position into
 * its slot of each KV head ({@code newTokenRows}, {@link RecycledCache#append}'s), the engine writes the token's K
 * and V into the full cache, and the rows the slots name are gathered out of it and attended, padded and
 * masked as {@link PlanGraph#leadingRows} reads a compact cache of copies: the same rows in the same order, so
 * the logits of those copies. Where flash attention reads gathered rows in place (the suite's CUDA build) the
 * gathers cost nothing. Every layer's position goes in with one set_rows a graph ({@link PositionWrite}).
 */
record InPlaceCpPlan(CpPositions positions, int layer, int[] newTokenRows, int rows, boolean probabilities, boolean query)
        implements AttentionPlan {
    /** The per-layer input of every layer's new-token slots, one per KV head. */
    private static final String SLOTS = "cp_new_token_slots";

    InPlaceCpPlan {
        if (rows <= 0 || rows > positions.slots()) {
            throw new IllegalArgumentException("Cp rows " + rows + " outside [1, " + positions.slots() + "]");
        }
        for (int r : newTokenRows) {
            if (r < 0 || r >= rows) {
                throw new IllegalArgumentException("the new token's slot " + r + " must lie in [0, " + rows + ")");
            }
        }
    }

    @Override
    public InPlaceCpPlan withProbabilities() {
        return new InPlaceCpPlan(positions, layer, newTokenRows, rows, true, query);
    }

    @Override
    public InPlaceCpPlan withQuery() {
        return new InPlaceCpPlan(positions, layer, newTokenRows, rows, probabilities, true);
    }

    @Override
    public int rows(int position) {
        return rows;
    }

    @Override
    public void check(PlanCheck at) {
        int kvHeads = at.model().kvHeads();
        if (newTokenRows.length != kvHeads) {
            throw at.fail(newTokenRows.length + " new-token slots for " + kvHeads + " KV heads");
        }
        if (positions.all().ne(1) != kvHeads || positions.all().ne(2) != at.model().layers()) {
            throw at.fail("Cp's positions are for " + positions.all().ne(1) + " KV heads and " + positions.all().ne(2)
                    + " layers");
        }
    }

    @Override
    public Object shape(int position) {
        return List.of(positions, layer, rows); // the positions by identity
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        int kvHeads = g.model().kvHeads();
        GgmlContext ctx = g.ctx();
        g.layerIndices(SLOTS, kvHeads, (InPlaceCpPlan p) -> p.newTokenRows(), p -> p.positions().slots());
        // the first layer asking writes every layer's position; each layer reads its own through that write
        Tensor written = g.stepPart(PositionWrite.class, part -> new PositionWrite(part, positions)).written();
        int padded = g.paddedRows(rows, positions.slots());
        Tensor read = ctx.view(written, new long[] {padded, kvHeads}, new long[] {written.nb(1)},
                (long) (layer - g.fromLayer()) * written.nb(2));
        return new AttendedRows(CacheRows.gather(ctx, g.cacheKeys(), read), CacheRows.gather(ctx, g.cacheValues(), read),
                g.paddingMask(rows, padded));
    }

    /**
     * The step's token position into its slot of every layer the graph builds, with one set_rows (the positions'
     * I32 bits as F32: set_rows takes F32 rows, a copy with no arithmetic). A layer of the graph that plans no
     * in-place read this step takes it in slot 0 (the per-layer input's zero): in Recycled such a layer refreshes
     * Cp, whose positions the refresh rewrites after this write (in the graph's order, or on the host after the
     * compute) and before any later read.
     */
    static final class PositionWrite implements StepPart {
        private final Tensor written;

        PositionWrite(PlanGraph g, CpPositions positions) {
            GgmlContext ctx = g.ctx();
            Tensor all = positions.all();
            long kvHeads = all.ne(1);
            int from = g.fromLayer();
            long columns = kvHeads * (g.toLayer() - from);
            Tensor slots = g.layerIndicesOfEveryLayer(SLOTS);
            Tensor slotsHere = ctx.view(slots, new long[] {1, columns}, new long[] {slots.nb(0)}, from * kvHeads * slots.nb(0));
            Tensor position = g.stepInput(SLOTS + "_position", GgmlType.I32, (t, p) -> t.fillInts(p), 1, 1, columns);
            Tensor bits = ctx.bitcast(ctx.view(ctx.reshape(all, 1, all.ne(0), kvHeads * all.ne(2)),
                    new long[] {1, all.ne(0), columns}, new long[] {all.nb(0), all.nb(1)}, from * all.nb(2)), GgmlType.F32);
            Tensor write = ctx.setRows(bits, ctx.bitcast(position, GgmlType.F32), slotsHere);     // [1, slots, columns]
            g.expand(write);
            // the graph's layers' positions as the write leaves them, [slots, kvHeads, layers]: the gathers read them
            // through it, so they follow it whatever the graph's order
            Tensor asInts = ctx.bitcast(write, GgmlType.I32);
            written = ctx.view(asInts, new long[] {all.ne(0), kvHeads, g.toLayer() - from},
                    new long[] {all.nb(1), all.nb(2)}, 0).name("cp_positions_written");
        }

        /** The positions after the write of the graph's layers, its first layer's first: layer l at (l - first) x nb(2). */
        Tensor written() {
            return written;
        }
    }
}
