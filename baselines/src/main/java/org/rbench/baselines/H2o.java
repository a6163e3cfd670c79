package org.rbench.baselines;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.select.GqaAggregation;

import java.util.Set;

/**
 * H2O (heavy-hitter oracle): per layer and KV head, keep the {@code recent} newest tokens
 * plus the {@code heavy} tokens with the highest accumulated attention
 * ({@link HeavyHitterCache}). The prefill's column sums (computed chunk by chunk by the
 * engine) seed the scores; each decode step gathers the kept rows plus its own, reads the
 * step's attention probabilities back to accumulate them, then evicts.
 */
public final class H2o implements AttentionPolicy {
    private final int heavy;
    private final int recent;
    private final GqaAggregation aggregation;
    private final String name;
    private HeavyHitterCache[] caches;
    private int kvHeads;

    public H2o(int heavy, int recent, GqaAggregation aggregation, String name) {
        this.heavy = heavy;
        this.recent = recent;
        this.aggregation = aggregation;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PrefillRequest prefillRequest() {
        return new PrefillRequest(0, true, false);
    }

    @Override
    public void start(AttentionContext context, PrefillStatistics prefill) {
        HyperParameters hp = context.hyperParameters();
        kvHeads = hp.kvHeads();
        caches = new HeavyHitterCache[hp.layers()];
        int n = prefill.promptEnd();
        for (int l = 0; l < hp.layers(); l++) {
            float[] sums = prefill.columnSums(l);
            if (sums == null) {
                throw new IllegalStateException("the prefill did not return column sums for layer " + l);
            }
            float[][] perHead = new float[hp.heads()][n];
            for (int h = 0; h < hp.heads(); h++) {
                System.arraycopy(sums, h * n, perHead[h], 0, n);
            }
            caches[l] = new HeavyHitterCache(heavy, recent, aggregation, kvHeads);
            caches[l].prefill(perHead);
        }
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        HeavyHitterCache c = caches[at.layer()];
        int perHead = c.size() + 1;
        int[] rows = new int[perHead * kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            c.copyRowsForStep(h, at.position(), rows, h * perHead);
        }
        return AttentionPlan.gather(perHead, rows).withProbabilities();
    }

    @Override
    public void observe(LayerObservation o) {
        // Only the gathered rows count (the engine may pad the attended rows with masked ones):
        // the cache reads the first size() + 1 keys of each head's last query row.
        caches[o.layer()].afterStep(o.position(), o.probabilities());
    }

    /** The positions KV head h of a layer keeps (diagnostics, tests). */
    public int[] kept(int layer, int h) {
        return caches[layer].positions(h);
    }

    /** {@code h2o:heavy=2048,recent=2048[,gqa=sum|mean|max]} (or {@code k=4096}, split 50/50). */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "h2o";
        }

        @Override
        public String description() {
            return "H2O: heavy + recent tokens by accumulated attention; heavy, recent (or k, split 50/50; default k=1024),"
                    + " gqa=sum|mean|max";
        }

        @Override
        public Set<String> parameters() {
            return Set.of("heavy", "recent", "k", "gqa");
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            sizes(spec);
            spec.enumParam("gqa", GqaAggregation.class, GqaAggregation.SUM);
        }

        private static int[] sizes(MethodSpec spec) {
            if (spec.has("heavy") || spec.has("recent")) {
                int heavy = spec.intParam("heavy", 0);
                int recent = spec.intParam("recent", 0);
                if (heavy < 0 || recent < 0 || heavy + recent == 0) {
                    throw new IllegalArgumentException("method '" + spec.text() + "': heavy and recent must be >= 0 with a positive sum");
                }
                if (spec.has("k") && spec.positiveInt("k", 0) != heavy + recent) {
                    throw new IllegalArgumentException("method '" + spec.text() + "': k must equal heavy + recent");
                }
                return new int[] {heavy, recent};
            }
            int k = spec.positiveInt("k", 1024);
            return new int[] {k / 2, k - k / 2};
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            validate(spec);
            int[] s = sizes(spec);
            GqaAggregation gqa = spec.enumParam("gqa", GqaAggregation.class, GqaAggregation.SUM);
            if (gqa == GqaAggregation.FIRST) {
                throw new IllegalArgumentException("method '" + spec.text() + "': gqa must be sum, mean or max");
            }
            return new H2o(s[0], s[1], gqa, spec.text());
        }
    }
}
