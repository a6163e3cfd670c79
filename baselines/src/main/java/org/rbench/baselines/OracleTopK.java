package org.rbench.baselines;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.CacheRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.Strategy;
import org.rbench.core.engine.AttentionMath;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.recycled.TopRows;
import org.rbench.core.recycled.TopRowsSelection;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Oracle top-K: at every decode step and layer, the current token's own full attention is
 * computed, scored per KV head exactly as Recycled Attention scores a refresh (the query-head
 * group aggregated by {@code gqa}, max-pooled with kernel {@code pool}), and the attention
 * then reads only the {@code k} highest-scored rows of each KV head. It is the ceiling of
 * any method that attends K rows chosen per KV head: no selection of K rows can recall more
 * of this step's (aggregated, pooled) attention. It saves nothing: it reads every cached key
 * to score them ({@link Plan#extraBytes}) besides the K rows its attention reads
 * ({@link Plan#rows}).
 *
 * <p>Everything runs in the step's graph ({@link Plan}): probabilities over the full cache,
 * scores, the selection and the gather, with no host round trip. A budget that covers the
 * cached rows ({@code k >= position + 1}) plans full attention, so it equals full attention
 * exactly.
 */
public final class OracleTopK implements AttentionPolicy {
    private final TopRows request;
    private final String name;
    private final Selections selections = new Selections();

    public OracleTopK(int k, GqaAggregation aggregation, int poolKernel, String name) {
        this.request = new TopRows(k, aggregation, poolKernel);
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean plansAhead() {
        return true; // rows are chosen in the step graph
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        if (at.cachedRows() <= request.k()) {
            return AttentionPlan.full();
        }
        return new Plan(request, at.layer(), selections, false, false);
    }

    /**
     * Each layer's selection tensor of the latest compute: a plan's piece registers it at
     * every launch of its graph, so that {@link Plan#attendedPositions} (diagnostics) reads the rows the
     * device chose without the plan itself holding per-step state.
     */
    static final class Selections {
        private final java.util.Map<Integer, Tensor> byLayer = new java.util.HashMap<>();

        void computed(int layer, Tensor rows) {
            byLayer.put(layer, rows);
        }

        int[] read(int layer, int kvHead, int k) {
            Tensor t = byLayer.get(layer);
            if (t == null) {
                return null;
            }
            int[] all = t.getInts();
            return Arrays.copyOfRange(all, kvHead * k, (kvHead + 1) * k);
        }
    }

    /**
     * One layer of a step under the oracle: the probabilities of the new token over the
     * whole cache ({@link AttentionMath#decodeSoftmax}, causally masked), the scores per KV
     * head ({@link TopRowsSelection#scores}), the k best rows of each KV head in ascending
     * position order, and a gather of those rows' K and V out of the full cache.
     *
     * <p>Ties at rank k go to the lower positions, as on the host ({@code ScoreSelection}),
     * whatever order the device's sort leaves equal scores in (ggml's sorts are not stable):
     * the k-th highest score t is read off a descending sort; a row is selected when its
     * score is above t, or equal to t and among the first {@code k - #above} such rows in
     * position order (a running count of the ties); an ascending sort of
     * {@code position + rows * (1 - selected)} then lists the selected positions first, in
     * position order.
     */
    public record Plan(TopRows request, int layer, Selections selections, boolean probabilities, boolean query)
            implements AttentionPlan {
        public Plan {
            java.util.Objects.requireNonNull(request, "request");
            java.util.Objects.requireNonNull(selections, "selections");
        }

        @Override
        public Plan withProbabilities() {
            return new Plan(request, layer, selections, true, query);
        }

        @Override
        public Plan withQuery() {
            return new Plan(request, layer, selections, probabilities, true);
        }

        /** The rows the attention reads per KV head; scoring them read the whole cache besides. */
        @Override
        public int rows(int position) {
            return request.k();
        }

        /** Choosing reads every cached key: the whole cache's K, beside the k rows attended. */
        @Override
        public long extraBytes(int position, org.rbench.core.model.HyperParameters model,
                               org.rbench.llamacpp.GgmlType cacheType) {
            return (position + 1) * model.kvRowBytes(cacheType);
        }

        @Override
        public void check(PlanCheck at) {
            if (at.layer() != layer) {
                throw at.fail("an oracle plan made for layer " + layer);
            }
            if (request.k() >= at.position() + 1) {
                throw at.fail("k = " + request.k() + " covers the " + (at.position() + 1) + " cached rows (plan full attention)");
            }
            if (at.position() + 1 >= 1 << 24) {
                throw at.fail("positions are ranked as F32: " + (at.position() + 1) + " rows is too many");
            }
        }

        @Override
        public Object shape(int position) {
            return List.of(request, layer);
        }

        @Override
        public int[] attendedPositions(int kvHead, int position) {
            return selections.read(layer, kvHead, request.k());
        }

        @Override
        public int extraTensors() {
            return 48;
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            if (g.tokens() != 1) {
                throw new IllegalStateException("the oracle selects rows in decode steps (one token), not in a batch of "
                        + g.tokens());
            }
            GgmlContext ctx = g.ctx();
            HyperParameters hp = g.model();
            int kvHeads = hp.kvHeads();
            int rows = g.keyRows();
            Tensor probs = AttentionMath.decodeSoftmax(ctx, g.rowsView(g.cacheKeys(), 0, rows), g.query(), g.causalMask(),
                    hp.attentionScale(), kvHeads); // [rows, 1, heads]
            Tensor scores = TopRowsSelection.scores(ctx, probs, g.causalMask(), request, hp.heads(), kvHeads);
            Tensor selected = selectInPositionOrder(ctx, scores, request.k()).name("oracle_rows_" + layer).output();
            g.expand(selected);
            int l = layer;
            g.whenLaunched((Plan current, int position) -> current.selections().computed(l, selected));
            return new AttendedRows(CacheRows.gather(ctx, g.cacheKeys(), selected), CacheRows.gather(ctx, g.cacheValues(), selected), null);
        }

        /**
         * The {@code k} highest-scored positions of every column of {@code scores}
         * {@code [rows, kvHeads]} (F32; -inf where nothing may be selected), ties to the lower
         * position, in ascending position order: I32 {@code [k, kvHeads]}. Two top_k and a sort of
         * the k found, where two sorts of every row took 2 x 0.5 ms a layer at 131K rows on an H100
         * (a kernel-times profile: 63 ms a step at 32 layers): the k-th score is the least of the k
         * largest, whichever of equal scores top_k found; the chosen positions are then the k
         * smallest of keys that are distinct.
         */
        static Tensor selectInPositionOrder(GgmlContext ctx, Tensor scores, int k) {
            long rows = scores.ne(0);
            long kvHeads = scores.ne(1);
            Tensor byColumn = ctx.reshape(scores, 1, rows, kvHeads);
            Tensor largest = ctx.getRows(byColumn, ctx.topK(scores, k));                 // [1, k, kvHeads], in no order
            Tensor least = ctx.argmax(ctx.scale(ctx.reshape(largest, k, kvHeads), -1f)); // I32 [kvHeads]
            Tensor threshold = ctx.reshape(ctx.getRows(largest, ctx.reshape(least, 1, kvHeads)), 1, kvHeads); // the k-th score
            Tensor above = ctx.step(ctx.sub(scores, threshold));                     // score > t
            Tensor below = ctx.step(ctx.scale(ctx.sub(scores, threshold), -1f));      // score < t (padding: -inf)
            Tensor tie = ctx.scaleBias(ctx.add(above, below), -1f, 1f);              // score == t
            Tensor tieRank = ctx.cumsum(tie);                                         // 1, 2, ... along the ties
            Tensor room = ctx.scaleBias(ctx.sumRows(above), -1f, k + 0.5f);           // k - #above (+ 0.5)
            Tensor tieTaken = ctx.mul(tie, ctx.step(ctx.scale(ctx.sub(tieRank, room), -1f)));
            Tensor chosen = ctx.add(above, tieTaken);                                 // exactly k ones per column
            // Distinct keys, the chosen positions' lowest: -position for them, -(rows + position) for the rest
            // (exact integers in F32); the k largest are the chosen, in no order, then sorted
            Tensor keys = ctx.scale(ctx.add(ctx.scaleBias(chosen, -(float) rows, (float) rows), ctx.arange(0f, rows, 1f)), -1f);
            Tensor picked = ctx.topK(keys, k);                                        // I32 [k, kvHeads]: positions
            Tensor order = ctx.argsort(ctx.cast(picked, GgmlType.F32), GgmlContext.SORT_ASC);
            return ctx.reshape(ctx.getRows(ctx.reshape(picked, 1, k, kvHeads), order), k, kvHeads);
        }

        @Override
        public String toString() {
            return "OracleTopK.Plan[k=" + request.k() + ", layer " + layer + "]";
        }
    }

    /** {@code oracle:k=1024[,gqa=max|mean|first][,pool=1]}. */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "oracle";
        }

        @Override
        public String description() {
            return "oracle top-K: every step and layer, the k rows of the token's own full attention with the highest"
                    + " scores per KV head (a ceiling: it computes full attention, so it saves nothing); k=1024,"
                    + " gqa=max|mean|first, pool=1 (odd kernel; 7 as Recycled v2)";
        }

        @Override
        public Set<String> parameters() {
            return Set.of("k", "gqa", "pool");
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            config(spec);
        }

        private static OracleTopK config(MethodSpec spec) {
            int k = spec.positiveInt("k", 1024);
            GqaAggregation gqa = spec.enumParam("gqa", GqaAggregation.class, GqaAggregation.MAX);
            if (gqa == GqaAggregation.SUM) {
                throw new IllegalArgumentException("method '" + spec.text() + "': gqa must be max, mean or first");
            }
            int pool = spec.intParam("pool", 1);
            if (pool < 1 || pool % 2 == 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': pool must be an odd kernel >= 1, got " + pool);
            }
            return new OracleTopK(k, gqa, pool, spec.text());
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            validate(spec);
            return config(spec);
        }
    }
}
