package org.rbench.baselines.example;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.Strategy;
import org.rbench.core.engine.AttentionMath;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.recycled.TopRows;
import org.rbench.core.recycled.TopRowsSelection;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.Tensor;

import java.util.Set;

/**
 * baselines/README.md's worked example of a strategy that decides on the device: every step
 * and layer, each KV head attends the k rows its query group attends most this very step
 * (scores, top-k and gather all in the step's graph: nothing crosses to the host).
 */
public final class TopScores implements AttentionPolicy {
    private final int k;

    TopScores(int k) {
        this.k = k;
    }

    @Override
    public String name() {
        return "top-scores:k=" + k;
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        return at.cachedRows() <= k ? AttentionPlan.full() : new Plan(k);
    }

    /** The plan kind: it owns its graph piece. */
    record Plan(int k) implements AttentionPlan {

        @Override
        public int rows(int position) {
            return k;
        }

        @Override
        public Object shape(int position) {
            return k; // nothing else fixes the nodes: every step of the run reuses one graph
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            GgmlContext ctx = g.ctx();
            HyperParameters m = g.model();
            // this step's attention over the whole cache, [rows, 1, heads]
            Tensor all = g.rowsView(g.cacheKeys(), 0, g.keyRows());
            Tensor probs = AttentionMath.decodeSoftmax(ctx, all, g.query(), g.causalMask(), m.attentionScale(), m.kvHeads());
            // per KV head: the group's maximum, padding at -inf; then the k best rows
            Tensor scores = TopRowsSelection.scores(ctx, probs, g.causalMask(), new TopRows(k, GqaAggregation.MAX, 1),
                    m.heads(), m.kvHeads());
            Tensor rows = ctx.topK(scores, k); // I32 [k, kvHeads]
            return new AttendedRows(ctx.getRows(g.cacheKeys(), rows), ctx.getRows(g.cacheValues(), rows), null);
        }
    }

    /** {@code top-scores:k=256}. */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "top-scores";
        }

        @Override
        public String description() {
            return "the k rows this step attends most, per KV head, chosen on the device; k=256";
        }

        @Override
        public Set<String> parameters() {
            return Set.of("k");
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            return new TopScores(spec.positiveInt("k", 256));
        }
    }
}
