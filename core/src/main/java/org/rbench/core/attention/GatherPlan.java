package org.rbench.core.attention;

import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Attend to explicit rows of the full cache, per KV head: {@code kvHeads} blocks of
 * {@code rowsPerHead} positions, head-major, either uploaded from the host each step
 * ({@code rows}) or kept on the device by the policy ({@code deviceRows}). The rows are
 * gathered out of the cache ({@code get_rows}, F32) and attended in the order given; host
 * rows are padded and masked as a full read of as many rows is ({@link PlanGraph#leadingRows}),
 * so that gathering every row in position order gives full attention's logits exactly.
 */
public record GatherPlan(int rowsPerHead, int[] rows, RowIndices deviceRows, boolean probabilities, boolean query)
        implements AttentionPlan {
    public GatherPlan {
        if (rowsPerHead <= 0) {
            throw new IllegalArgumentException("a gather needs at least one row per head, got " + rowsPerHead);
        }
        if ((rows == null) == (deviceRows == null)) {
            throw new IllegalArgumentException("a gather takes either host rows or device rows");
        }
        if (rows != null && rows.length % rowsPerHead != 0) {
            throw new IllegalArgumentException(rows.length + " rows is not a multiple of " + rowsPerHead + " rows per head");
        }
    }

    static GatherPlan host(int rowsPerHead, int[] rows) {
        return new GatherPlan(rowsPerHead, rows.clone(), null, false, false);
    }

    static GatherPlan device(RowIndices deviceRows) {
        return new GatherPlan(deviceRows.rowsPerHead(), null, deviceRows, false, false);
    }

    @Override
    public GatherPlan withProbabilities() {
        return new GatherPlan(rowsPerHead, rows, deviceRows, true, query);
    }

    @Override
    public GatherPlan withQuery() {
        return new GatherPlan(rowsPerHead, rows, deviceRows, probabilities, true);
    }

    @Override
    public int rows(int position) {
        return rowsPerHead;
    }

    @Override
    public void check(PlanCheck at) {
        int kvHeads = at.model().kvHeads();
        if (rows != null && rows.length != rowsPerHead * kvHeads) {
            throw at.fail("a gather of " + rows.length + " rows, expected " + rowsPerHead + " x " + kvHeads + " KV heads,");
        }
        if (deviceRows != null && deviceRows.tensor().ne(1) != kvHeads) {
            throw at.fail("device rows not for " + kvHeads + " KV heads");
        }
        if (rows != null) {
            for (int r : rows) {
                if (r < 0 || r > at.position()) {
                    throw at.fail("gather row " + r + " outside the cached rows [0, " + at.position() + "]");
                }
            }
        }
    }

    @Override
    public Object shape(int position) {
        return List.of(rowsPerHead, deviceRows == null ? "host" : deviceRows); // device rows by identity
    }

    @Override
    public int[] attendedPositions(int kvHead, int position) {
        int[] all = rows != null ? rows : deviceRows.tensor().getInts();
        return Arrays.copyOfRange(all, kvHead * rowsPerHead, (kvHead + 1) * rowsPerHead);
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        if (deviceRows != null) {
            Tensor indices = deviceRows.tensor();
            return new AttendedRows(CacheRows.gather(g.ctx(), g.cacheKeys(), indices),
                    CacheRows.gather(g.ctx(), g.cacheValues(), indices), null);
        }
        int kvHeads = g.model().kvHeads();
        int padded = g.paddedRows(rowsPerHead, Integer.MAX_VALUE);
        Tensor indices = g.input("gather_rows_" + g.layer(), GgmlType.I32,
                (Tensor t, GatherPlan current, int position) -> t.setIndices(current.paddedRows(padded, kvHeads), position + 1),
                padded, kvHeads);
        return new AttendedRows(CacheRows.gather(g.ctx(), g.cacheKeys(), indices), CacheRows.gather(g.ctx(), g.cacheValues(), indices),
                g.paddingMask(rowsPerHead, padded));
    }

    /** The host rows with each KV head's block padded to {@code padded} rows (row 0, masked). */
    private int[] paddedRows(int padded, int kvHeads) {
        if (padded == rowsPerHead) {
            return rows;
        }
        int[] out = new int[padded * kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            System.arraycopy(rows, h * rowsPerHead, out, h * padded, rowsPerHead);
        }
        return out;
    }

    @Override
    public String toString() {
        return "GatherPlan[" + rowsPerHead + " rows per head" + (deviceRows != null ? " on device" : "") + "]";
    }
}
