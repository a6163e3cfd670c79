package org.rbench.baselines;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.Decide;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.attention.GqaAggregation;

import java.util.Set;

/**
 * H2O (heavy-hitter oracle): per layer and KV head, keep the {@code recent} newest tokens
 * plus the {@code heavy} tokens with the highest accumulated attention
 * ({@link HeavyHitterCache}). The prefill's column sums (computed chunk by chunk by the
 * engine) seed the scores; each decode step gathers the kept rows plus its own, reads the
 * step's attention probabilities back to accumulate them, then evicts.
 *
 * <p>Where the decisions are made ({@code decide=}): {@code host} keeps the scores in
 * {@link HeavyHitterCache} (the reference implementation: ties evict the highest position);
 * {@code device} keeps them, with the kept rows' K and V, in {@link HeavyHitterSlots} and makes
 * each step's accumulation and eviction part of its graph, with no read-back, no upload of row
 * indices and no gather (ties evict the lowest slot). {@code auto} (the default) is device on a GPU backend and host on the CPU,
 * where there is no round trip to save. The device form starts from a full budget: with a
 * prompt shorter than the budget, or {@code gqa=max}, the host form is used.
 */
public final class H2o implements AttentionPolicy {
    private final int heavy;
    private final int recent;
    private final GqaAggregation aggregation;
    private final String name;
    private final Decide decide;
    private HeavyHitterCache[] caches;
    private HeavyHitterSlots slots;
    /** The device form's slots as they were at close (read once a layer; null before close and for the host form). */
    private HeavyHitterSlots.LayerState[] atClose;
    private int kvHeads;

    public H2o(int heavy, int recent, GqaAggregation aggregation, String name) {
        this(heavy, recent, aggregation, Decide.HOST, name);
    }

    public H2o(int heavy, int recent, GqaAggregation aggregation, Decide decide, String name) {
        this.heavy = heavy;
        this.recent = recent;
        this.aggregation = aggregation;
        this.decide = decide;
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
            if (prefill.columnSums(l) == null) {
                throw new IllegalStateException("the prefill did not return column sums for layer " + l);
            }
        }
        // the layers' first choices are independent: made in parallel (timed with the prefill as the start)
        java.util.stream.IntStream.range(0, hp.layers()).parallel().forEach(l -> {
            float[] sums = prefill.columnSums(l);
            float[][] perHead = new float[hp.heads()][n];
            for (int h = 0; h < hp.heads(); h++) {
                System.arraycopy(sums, h * n, perHead[h], 0, n);
            }
            caches[l] = new HeavyHitterCache(heavy, recent, aggregation, kvHeads);
            caches[l].prefill(perHead);
        });
        if (decisionsOnDevice(context, n)) {
            slots = HeavyHitterSlots.allocate(context, heavy + recent, recent, aggregation);
            java.util.List<AttentionContext.RowCopy> copies = new java.util.ArrayList<>();
            int budget = heavy + recent;
            for (int l = 0; l < hp.layers(); l++) {
                int[][] kept = new int[kvHeads][];
                float[][] scores = new float[kvHeads][];
                int[] rows = new int[kvHeads * budget]; // the kept positions head-major, for the K/V copy
                for (int h = 0; h < kvHeads; h++) {
                    kept[h] = caches[l].positions(h);
                    scores[h] = caches[l].scores(h);
                    System.arraycopy(kept[h], 0, rows, h * budget, budget);
                }
                slots.load(l, kept, scores);
                copies.add(new AttentionContext.RowCopy(l, rows, budget, slots.cache(l), 0));
            }
            context.copyRows(copies); // the kept rows' K/V into the slots, one graph for every layer
            caches = null; // the device holds the state from here on
        }
    }

    private boolean decisionsOnDevice(AttentionContext context, int promptTokens) {
        boolean possible = promptTokens >= heavy + recent && aggregation != GqaAggregation.MAX;
        return switch (decide) {
            case HOST -> false;
            case AUTO -> possible && context.onGpu();
            case DEVICE -> {
                if (!possible) {
                    throw new IllegalArgumentException(name + ": decisions on the device need a prompt of at least k = "
                            + (heavy + recent) + " tokens (got " + promptTokens + ") and gqa=sum or mean");
                }
                yield true;
            }
        };
    }

    /** Whether this run's decisions are made on the device (after {@link #start}). */
    public boolean decidesOnDevice() {
        return slots != null || atClose != null;
    }

    @Override
    public boolean plansAhead() {
        // the device form decides in the step graph; the host form observes every step (waited for)
        return true;
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        if (slots != null) {
            return slots.plan(at.layer());
        }
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
        if (slots != null) {
            return; // the step's graph has accumulated and evicted
        }
        // Only the gathered rows count (the engine may pad the attended rows with masked ones):
        // the cache reads the first size() + 1 keys of each head's last query row.
        caches[o.layer()].afterStep(o.position(), o.probabilities());
    }

    /** Rows of the compact cache holding a layer's slots while the device decides (0 otherwise; tests). */
    int slotCacheRows(int layer) {
        return slots == null ? 0 : slots.cache(layer).capacity();
    }

    /** The positions KV head h of a layer keeps (diagnostics, tests). */
    public int[] kept(int layer, int h) {
        if (atClose != null) {
            return atClose[layer].kept(h);
        }
        return slots != null ? slots.kept(layer, h) : caches[layer].positions(h);
    }

    /** The accumulated scores of the positions {@link #kept} gives, in its order (tests). */
    public float[] keptScores(int layer, int h) {
        if (atClose != null) {
            return atClose[layer].keptScores(h);
        }
        return slots != null ? slots.state(layer).keptScores(h) : caches[layer].scores(h);
    }

    @Override
    public void close() {
        if (slots != null) {
            atClose = new HeavyHitterSlots.LayerState[slots.layers()];
            for (int l = 0; l < slots.layers(); l++) {
                atClose[l] = slots.state(l); // three reads a layer; what it kept is worked out when asked
            }
            slots.close();
            slots = null;
        }
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
                    + " gqa=sum|mean|max, decide=auto|host|device (where each step's accumulation and eviction run;"
                    + " auto: device on a GPU)";
        }

        @Override
        public Set<String> parameters() {
            return Set.of("heavy", "recent", "k", "gqa", "decide");
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            sizes(spec);
            spec.enumParam("gqa", GqaAggregation.class, GqaAggregation.SUM);
            spec.enumParam("decide", Decide.class, Decide.AUTO);
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
            Decide decide = spec.enumParam("decide", Decide.class, Decide.AUTO);
            if (decide == Decide.DEVICE && gqa == GqaAggregation.MAX) {
                throw new IllegalArgumentException("method '" + spec.text() + "': decide=device needs gqa=sum or mean");
            }
            return new H2o(s[0], s[1], gqa, decide, spec.text());
        }
    }
}
