package org.rbench.core.recycled;

import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.select.GqaAggregation;
import org.rbench.core.select.QuerySimilaritySchedule;
import org.rbench.core.select.RecycledCache;
import org.rbench.core.select.Schedule;

import java.util.HashSet;
import java.util.Set;

/**
 * {@code recycled:k=4096,s=50[,version=v2][,pool=7][,gqa=max][,update=evict]}: Recycled
 * Attention with a full step every S steps. {@code version} picks the paper version's
 * defaults (v2 = RefreshKV, the default: pool 7, gqa max, update evict; v1: pool 1, gqa
 * first, update grow); explicit parameters override them. Without {@code k} the budget
 * is RefreshKV's default, input length / 8.
 */
public class RecycledStrategy implements Strategy {
    static final Set<String> COMMON = Set.of("k", "version", "pool", "gqa", "update");

    @Override
    public String name() {
        return "recycled";
    }

    @Override
    public String description() {
        return "Recycled Attention, fixed schedule: k (default input/8), s=50, version=v2|v1, pool=7 (v1: 1),"
                + " gqa=max|first|mean (v1: first), update=evict|grow (v1: grow)";
    }

    @Override
    public Set<String> parameters() {
        Set<String> p = new HashSet<>(COMMON);
        p.add("s");
        return p;
    }

    @Override
    public void validate(MethodSpec spec) {
        Strategy.super.validate(spec);
        config(spec, 1024, 1);
    }

    @Override
    public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
        return new RecycledAttention(config(spec, promptTokens, model.layers()), spec.text());
    }

    RecycledAttention.Config config(MethodSpec spec, int promptTokens, int layers) {
        int stride = spec.positiveInt("s", 50);
        return common(spec, promptTokens, Schedule.fixed(stride), "s=" + stride, stride);
    }

    static RecycledAttention.Config common(MethodSpec spec, int promptTokens, Schedule schedule, String label, int growRoom) {
        String version = spec.stringParam("version", "v2").toLowerCase(java.util.Locale.ROOT);
        if (!version.equals("v1") && !version.equals("v2")) {
            throw new IllegalArgumentException("method '" + spec.text() + "': version must be v1 or v2, not '" + version + "'");
        }
        boolean v1 = version.equals("v1");
        int k = spec.has("k") ? spec.positiveInt("k", 0) : Math.max(1, promptTokens / 8);
        int pool = spec.intParam("pool", v1 ? 1 : 7);
        if (pool < 1 || pool % 2 == 0) {
            throw new IllegalArgumentException("method '" + spec.text() + "': pool must be an odd kernel >= 1, got " + pool);
        }
        GqaAggregation gqa = spec.enumParam("gqa", GqaAggregation.class, v1 ? GqaAggregation.FIRST : GqaAggregation.MAX);
        if (gqa == GqaAggregation.SUM) {
            throw new IllegalArgumentException("method '" + spec.text() + "': gqa must be first, mean or max");
        }
        RecycledCache.Update update = spec.enumParam("update", RecycledCache.Update.class,
                v1 ? RecycledCache.Update.GROW : RecycledCache.Update.EVICT);
        int capacity = update == RecycledCache.Update.EVICT ? k : k + growRoom;
        return new RecycledAttention.Config(k, schedule, label, pool, gqa, update, capacity);
    }

    /**
     * {@code recycled-dynamic:k=4096,qc=5,threshold=0.8}: every QC steps each layer does a
     * full step when its mean query's cosine similarity to its last full step's is at or
     * below the threshold.
     */
    public static final class Dynamic extends RecycledStrategy {
        @Override
        public String name() {
            return "recycled-dynamic";
        }

        @Override
        public String description() {
            return "Recycled Attention, query-similarity schedule: k, qc=5, threshold=0.8, and the version/pool/gqa/update"
                    + " options of recycled";
        }

        @Override
        public Set<String> parameters() {
            Set<String> p = new HashSet<>(COMMON);
            p.add("qc");
            p.add("threshold");
            return p;
        }

        @Override
        RecycledAttention.Config config(MethodSpec spec, int promptTokens, int layers) {
            int qc = spec.positiveInt("qc", 5);
            double threshold = spec.doubleParam("threshold", 0.8);
            QuerySimilaritySchedule schedule = new QuerySimilaritySchedule(qc, threshold, layers);
            // Between full steps Cp may grow by many tokens under GROW; 512 more slots, then a forced full step.
            return common(spec, promptTokens, schedule, "qc=" + qc + ",threshold=" + threshold, 512);
        }
    }
}
