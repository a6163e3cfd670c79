package org.rbench.baselines;

import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

/**
 * Who chooses rows under GQA, for the methods that offer the references' choice per query
 * head beside an aggregation per KV head ({@code gqa=max|mean|query}).
 */
public enum GqaChoice {
    /** Each KV head chooses by its query-head group's scores aggregated by maximum: equal rows read at equal K. */
    MAX,
    /** Each KV head chooses by its query-head group's scores averaged. */
    MEAN,
    /**
     * Each query head chooses its own rows (the references, which expand K/V to every query
     * head first), so a KV head's group reads group x k rows.
     */
    QUERY;

    /**
     * Scores per query head {@code [rows, heads]} (query head h reads KV head h / group) as
     * this choice ranks them: {@code [rows, kvHeads]} aggregated over each group, or unchanged
     * per query head ({@link #QUERY}, or no grouping).
     */
    Tensor perChooser(GgmlContext ctx, Tensor perQueryHead, int group) {
        if (this == QUERY || group == 1) {
            return perQueryHead;
        }
        return ctx.pool2d(perQueryHead, this == MAX ? GgmlContext.POOL_MAX : GgmlContext.POOL_AVG, 1, group, 1, group, 0, 0);
    }
}
