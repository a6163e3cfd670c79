package org.rbench.baselines;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.CacheRows;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullPlan;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.ReusableState;
import org.rbench.core.attention.StepPart;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * TidalDecode (DerrickYLJ/TidalDecode): layers below {@code select} attend everything; layer
 * {@code select} attends everything too and chooses, per KV head, the {@code k} positions of
 * highest q.k; the layers after it attend only those positions, until layer {@code reselect}
 * (round(13 L / 32) by default, 13 of Llama's 32 layers), which again attends everything and
 * chooses anew for the layers after it. Chosen afresh at every token, nothing evicted; full
 * attention while {@code k} covers the cached rows.
 *
 * <p>All of it happens in the step's graph: a selecting layer ({@link Select}) scores the
 * cache with its own query (K^T q per KV head, the query-head group aggregated), adds the
 * step's causal mask (-inf past the newest row), writes +inf as the newest row's score (so it
 * is always chosen) and takes the top {@code k} (ggml_top_k: which of equal scores at the cut
 * is kept is the kernel's choice, not the lower position); the indices go into the graph's
 * {@link Selections} step part, from which each later layer's piece ({@link Reuse}) gathers
 * its own cache's rows. Nothing is read back; the one upload per step is the newest row's
 * index (one I32, shared by the layers). A reusing layer
 * needs its selecting layer in the same graph: the engine builds a step layer by layer only
 * for policies that ask for queries before planning, which this one never does.
 *
 * <p>GQA ({@code gqa=}): the reference expands K/V per query head, so each query head picks
 * its own rows; {@code query} does that (rows gathered from the cache viewed as one row list
 * of all KV heads, attention then sees one K/V head per query head); {@code max} (default) and
 * {@code mean} aggregate the group's q.k per KV head. The selecting layers read every row,
 * and K once more for the scores; a reusing layer reads {@code k} rows per KV head
 * ({@code k x group} with {@code gqa=query}).
 */
public final class TidalDecode implements AttentionPolicy {
    private final int budget;
    private final int select;
    /** The re-selecting layer, or -1 for none. */
    private final int reselect;
    private final GqaChoice gqa;
    private final String name;
    private Rows rows;

    public TidalDecode(int budget, int select, int reselect, GqaChoice gqa, String name) {
        if (budget <= 0 || select < 0 || (reselect >= 0 && reselect <= select)) {
            throw new IllegalArgumentException("TidalDecode needs k > 0, select >= 0 and reselect > select (or none), got k="
                    + budget + ", select=" + select + ", reselect=" + reselect);
        }
        this.budget = budget;
        this.select = select;
        this.reselect = reselect;
        this.gqa = gqa;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    /** The default re-selecting layer of an {@code layers}-layer model: round(13 L / 32), half up. */
    public static int defaultReselect(int layers) {
        return (int) Math.round(13.0 * layers / 32);
    }

    /** What layer {@code layer} does in a selecting step. */
    public enum Role { FULL, SELECT, REUSE }

    /** The role of a layer when the budget does not cover the context. */
    public Role role(int layer) {
        if (layer < select) {
            return Role.FULL;
        }
        return layer == select || layer == reselect ? Role.SELECT : Role.REUSE;
    }

    /** The layer whose choice a reusing layer attends. */
    public int source(int layer) {
        return reselect >= 0 && layer > reselect ? reselect : select;
    }

    @Override
    public void start(AttentionContext context, PrefillStatistics prefill) {
        HyperParameters hp = context.hyperParameters();
        if (select >= hp.layers() || reselect >= hp.layers()) {
            throw new IllegalArgumentException(name + ": select=" + select + ", reselect=" + reselect + " outside a "
                    + hp.layers() + "-layer model");
        }
        int capacity = context.cacheCapacity();
        rows = context.reuse(java.util.List.of(Rows.class, capacity, gqa), Rows.class,
                () -> new Rows(context.backend(), hp, capacity, gqa));
    }

    @Override
    public boolean plansAhead() {
        return true; // selections are made in the step graph; planning is the layer roles
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        if (budget >= at.cachedRows()) {
            return AttentionPlan.full();
        }
        return switch (role(at.layer())) {
            case FULL -> AttentionPlan.full();
            case SELECT -> new Select(rows, at.layer(), budget, false, false);
            case REUSE -> new Reuse(rows, at.layer(), source(at.layer()), budget, false, false);
        };
    }

    /** The device state (null before {@link #start}). */
    Rows rows() {
        return rows;
    }

    @Override
    public void close() {
        if (rows != null) {
            rows.close();
            rows = null;
        }
    }

    // ---- graph pieces (package-private for tests on hand-made tensors) ----

    /**
     * Scores of every row of {@code keys} {@code [headDim, rows, kvHeads]} for the query
     * {@code q} ({@code headDim x heads} contiguous; query head h reads KV head h / group):
     * q.k, F32 {@code [rows, kvHeads]} aggregated over each KV head's query heads (max or mean),
     * or {@code [rows, heads]} per query head.
     */
    static Tensor scores(GgmlContext ctx, Tensor keys, Tensor q, GqaChoice gqa) {
        long headDim = keys.ne(0);
        long rowCount = keys.ne(1);
        int kvHeads = (int) keys.ne(2);
        int heads = Math.toIntExact(q.elements() / headDim);
        int group = heads / kvHeads;
        Tensor kq = ctx.mulMat(keys, ctx.reshape(q, headDim, group, kvHeads)); // [rows, group, kvHeads]
        ctx.setMulMatPrecision(kq, GgmlContext.PREC_F32);
        return gqa.perChooser(ctx, ctx.reshape(kq, rowCount, heads), group);
    }

    /**
     * The {@code k} rows of highest score per column of {@code scores} F32 {@code [rows, H]}: the
     * rows past the newest one masked by {@code causal} ({@code [rows, 1]} F16 or F32, 0 or -inf;
     * null when there are none), the newest row (I32 {@code newest} {@code [1]}) given
     * {@code boost} (F32 {@code [1, 1, H]}, +inf) so that it is always chosen: I32 {@code [k, H]},
     * in no particular order (ggml_top_k of every column at once: on CUDA the suite's radix select,
     * several blocks a column).
     */
    static Tensor top(GgmlContext ctx, Tensor scores, Tensor causal, Tensor newest, Tensor boost, int k) {
        long rowCount = scores.ne(0);
        long columns = scores.ne(1);
        Tensor masked = scores;
        if (causal != null) {
            Tensor m32 = causal.type() == GgmlType.F32 ? causal : ctx.cast(causal, GgmlType.F32);
            masked = ctx.add(scores, ctx.reshape(m32, rowCount, 1));
        }
        // one-element rows: set_rows writes the newest row's score in every column
        Tensor boosted = ctx.setRows(ctx.reshape(masked, 1, rowCount, columns), boost, newest);
        return ctx.topK(ctx.reshape(boosted, rowCount, columns), k);
    }

    /**
     * What a policy keeps on the device: +inf per column (F32 {@code [1, 1, H]}), the score the
     * newest row is given; for {@code gqa=query} a constant I32 table {@code [1, capacity, heads]}
     * mapping (position, query head h) to the flat index (h / group) * capacity + position into
     * the cache viewed as one row list, through which a per-query-head selection becomes gather
     * indices; and per layer the selection the last computed step made, a tensor of its graph
     * (diagnostics: read after the compute). The next decode of an equal policy takes it over
     * ({@link ReusableState}): its tensors are constants but for the selections.
     */
    static final class Rows extends ReusableState {
        private final GgmlContext context;
        private final BackendBuffer buffer;
        private final Tensor boost;
        private final Tensor flat;
        private final Tensor[] chosen;
        /**
         * Per layer, whether the graph of the step launched last ranks rows by the logits flash attention
         * writes (no second read of K): set at every launch, since graphs built for other shapes are reused.
         */
        private final boolean[] fromFlashLogits;
        private final int capacity;
        private final int heads;
        private final int kvHeads;
        private final GqaChoice gqa;

        Rows(Backend backend, HyperParameters hp, int capacity, GqaChoice gqa) {
            this.capacity = capacity;
            this.heads = hp.heads();
            this.kvHeads = hp.kvHeads();
            this.gqa = gqa;
            this.chosen = new Tensor[hp.layers()];
            this.fromFlashLogits = new boolean[hp.layers()];
            int columns = gqa == GqaChoice.QUERY ? heads : kvHeads;
            context = GgmlContext.forMetadata(2, 0);
            boost = context.newTensor(GgmlType.F32, 1, 1, columns).name("tidal_newest_boost");
            flat = gqa == GqaChoice.QUERY ? context.newTensor(GgmlType.I32, 1, capacity, heads).name("tidal_flat_rows") : null;
            buffer = BackendBuffer.allocate(context, backend);
            float[] inf = new float[columns];
            java.util.Arrays.fill(inf, Float.POSITIVE_INFINITY);
            boost.setFloats(inf);
            if (flat != null) {
                int group = heads / kvHeads;
                int[] t = new int[capacity * heads];
                for (int h = 0; h < heads; h++) {
                    for (int r = 0; r < capacity; r++) {
                        t[h * capacity + r] = (h / group) * capacity + r;
                    }
                }
                flat.setInts(t);
            }
        }

        /** +inf per column: what the newest row scores. */
        Tensor boost() {
            return boost;
        }

        /**
         * The positions layer {@code source} chose in the last computed step, per column (KV
         * head, or query head with {@code gqa=query}), in the device's order; null before any.
         */
        int[][] chosen(int source) {
            Tensor t = chosen[source];
            if (t == null) {
                return null;
            }
            int[] all = t.getInts();
            int group = heads / kvHeads;
            int columns = gqa == GqaChoice.QUERY ? heads : kvHeads;
            int perColumn = all.length / columns;
            int[][] out = new int[columns][perColumn];
            for (int c = 0; c < columns; c++) {
                int offset = gqa == GqaChoice.QUERY ? (c / group) * capacity : 0;
                for (int i = 0; i < perColumn; i++) {
                    out[c][i] = all[c * perColumn + i] - offset;
                }
            }
            return out;
        }

        /** The cache positions KV head h attended at a layer reusing {@code source}'s choice (its group's union), ascending. */
        int[] attended(int source, int h) {
            int[][] byColumn = chosen(source);
            if (byColumn == null) {
                return null;
            }
            int group = heads / kvHeads;
            TreeSet<Integer> out = new TreeSet<>();
            for (int c = 0; c < byColumn.length; c++) {
                if (gqa == GqaChoice.QUERY ? c / group == h : c == h) {
                    for (int r : byColumn[c]) {
                        out.add(r);
                    }
                }
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        @Override
        protected void reuse() {
            java.util.Arrays.fill(chosen, null); // what the last decode's steps chose
        }

        @Override
        protected void free() {
            buffer.close();
            context.close();
        }
    }

    /** The choices of a step's selecting layers, by layer: made at a layer, gathered with by the later ones. */
    static final class Selections implements StepPart {
        private final Map<Integer, Tensor> byLayer = new HashMap<>();

        Selections(PlanGraph g) {
        }

        void put(int layer, Tensor indices) {
            byLayer.put(layer, indices);
        }

        Tensor get(int layer) {
            return byLayer.get(layer);
        }
    }

    /**
     * A selecting layer: attend every cached row and choose the top {@code k} rows of this
     * layer's q.k (per KV head, or per query head with {@code gqa=query}) for the layers after it.
     */
    public record Select(Rows state, int layer, int k, boolean probabilities, boolean query) implements AttentionPlan {
        @Override
        public Select withProbabilities() {
            return new Select(state, layer, k, true, query);
        }

        @Override
        public Select withQuery() {
            return new Select(state, layer, k, probabilities, true);
        }

        @Override
        public int rows(int position) {
            return position + 1;
        }

        /**
         * The keys read a second time, for the q.k scores that choose the rows; none where flash attention
         * wrote its logits as it read them, and the rows were ranked by those (EMULATED stands in for the
         * kernel there: its second product is not counted).
         */
        @Override
        public long extraBytes(int position, org.rbench.core.model.HyperParameters model,
                               org.rbench.llamacpp.GgmlType cacheType) {
            return state.fromFlashLogits[layer] ? 0 : (position + 1) * model.kvRowBytes(cacheType);
        }

        @Override
        public boolean readsWholeCache() {
            return true;
        }

        @Override
        public void check(PlanCheck at) {
            checkState(state, at, k);
        }

        @Override
        public Object shape(int position) {
            return List.of(k, state.gqa, state.boost); // the state's tensors by identity
        }

        @Override
        public int extraTensors() {
            return 32;
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            if (g.tokens() != 1) {
                throw new IllegalStateException("TidalDecode selects rows in decode steps (one token), not in a batch of "
                        + g.tokens());
            }
            GgmlContext ctx = g.ctx();
            int keyRows = g.keyRows();
            Tensor newest = g.stepInput("tidal_newest_row", GgmlType.I32, (t, p) -> t.setIndices(new int[] {p}, keyRows), 1);
            int l = layer;
            // the rows ranked by the logits flash attention writes as it reads the keys (scale q.k plus the
            // causal mask: q.k's order, up to the kernel's rounding at near-ties), else by a second product
            // over every key
            g.onLogits(logits -> {
                boolean fromLogits = logits != null;
                Tensor scores = logits != null
                        ? state.gqa.perChooser(ctx, ctx.reshape(logits, keyRows, state.heads), state.heads / state.kvHeads)
                        : scores(ctx, g.rowsView(g.cacheKeys(), 0, keyRows), g.query(), state.gqa);
                Tensor top = top(ctx, scores, g.causalMask(), newest, state.boost, k); // [k, kvHeads], or [k, heads]
                Tensor chosen = state.gqa == GqaChoice.QUERY ? ctx.getRows(state.flat, top) : top; // flat: [1, k, heads]
                chosen.name("tidal_rows_" + l).output();
                g.whenLaunched((Select plan, int p) -> {
                    plan.state().chosen[l] = chosen;
                    plan.state().fromFlashLogits[l] = fromLogits;
                });
                g.stepPart(Selections.class, Selections::new).put(l, chosen);
            });
            return FullPlan.readWholeCache(g);
        }
    }

    /** A layer attending the rows the selecting layer {@code source} of the same step chose. */
    public record Reuse(Rows state, int layer, int source, int k, boolean probabilities, boolean query)
            implements AttentionPlan {
        public Reuse {
            if (source >= layer) {
                throw new IllegalArgumentException("layer " + layer + " cannot reuse the choice of layer " + source);
            }
        }

        @Override
        public Reuse withProbabilities() {
            return new Reuse(state, layer, source, k, true, query);
        }

        @Override
        public Reuse withQuery() {
            return new Reuse(state, layer, source, k, probabilities, true);
        }

        /** Rows read per KV head: k, or k per query head of the group with {@code gqa=query}. */
        @Override
        public int rows(int position) {
            return state.gqa == GqaChoice.QUERY ? k * (state.heads / state.kvHeads) : k;
        }

        @Override
        public void check(PlanCheck at) {
            checkState(state, at, k);
        }

        @Override
        public Object shape(int position) {
            return List.of(source, k, state.gqa);
        }

        @Override
        public int[] attendedPositions(int kvHead, int position) {
            return state.attended(source, kvHead);
        }

        @Override
        public int extraTensors() {
            return 16;
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            Tensor chosen = g.stepPart(Selections.class, Selections::new).get(source);
            if (chosen == null) {
                throw new IllegalStateException("TidalDecode: layer " + layer + " attends the rows layer " + source
                        + " chooses in the same step, but this graph builds layers [" + g.fromLayer() + ", " + g.toLayer()
                        + ") without it (a step built layer by layer); TidalDecode's steps are built whole");
            }
            GgmlContext ctx = g.ctx();
            if (state.gqa == GqaChoice.QUERY) {
                int heads = g.model().heads();
                Tensor flat = ctx.reshape(chosen, (long) k * heads, 1);
                return new AttendedRows(CacheRows.perQueryHead(ctx, g.cacheKeys(), flat, k, heads),
                        CacheRows.perQueryHead(ctx, g.cacheValues(), flat, k, heads), null);
            }
            return new AttendedRows(CacheRows.gather(ctx, g.cacheKeys(), chosen), CacheRows.gather(ctx, g.cacheValues(), chosen), null);
        }
    }

    private static void checkState(Rows state, PlanCheck at, int k) {
        if (state.heads != at.model().heads() || state.kvHeads != at.model().kvHeads() || state.capacity != at.cacheCapacity()) {
            throw at.fail("TidalDecode state for " + state.heads + " heads and a cache of " + state.capacity + " rows");
        }
        if (k >= at.position() + 1) {
            throw at.fail("k=" + k + " covers the " + (at.position() + 1) + " cached rows (plan full attention)");
        }
    }

    /** {@code tidaldecode:k=4096,select=2,reselect=round(13L/32)|none,gqa=max|mean|query}. */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "tidaldecode";
        }

        @Override
        public String description() {
            return "TidalDecode: layers below `select` full; layer `select` (full) picks the top-k rows by q.k, later layers"
                    + " attend only those until layer `reselect` (full) picks again; k=4096, select=2,"
                    + " reselect=round(13L/32) (or none), gqa=max|mean|query (query: rows per query head, as the reference)";
        }

        @Override
        public Set<String> parameters() {
            return Set.of("k", "select", "reselect", "gqa");
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            spec.positiveInt("k", 4096);
            int select = spec.intParam("select", 2);
            if (select < 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': select must be >= 0, got " + select);
            }
            Integer reselect = explicitReselect(spec);
            if (reselect != null && reselect >= 0 && reselect <= select) {
                throw new IllegalArgumentException("method '" + spec.text() + "': reselect must come after select=" + select
                        + " (or be none), got " + reselect);
            }
            spec.enumParam("gqa", GqaChoice.class, GqaChoice.MAX);
        }

        /** The reselect parameter: null when absent (the default), -1 for none. */
        private static Integer explicitReselect(MethodSpec spec) {
            if (!spec.has("reselect")) {
                return null;
            }
            if (spec.stringParam("reselect", "").toLowerCase(Locale.ROOT).equals("none")) {
                return -1;
            }
            return spec.intParam("reselect", -1);
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            validate(spec);
            int layers = model.layers();
            int select = spec.intParam("select", 2);
            if (select >= layers) {
                throw new IllegalArgumentException("method '" + spec.text() + "': select=" + select + " is not a layer of a "
                        + layers + "-layer model");
            }
            Integer explicit = explicitReselect(spec);
            int reselect;
            if (explicit == null) {
                int d = defaultReselect(layers);
                reselect = d > select && d < layers ? d : -1; // a small model may leave no room for it
            } else {
                if (explicit >= layers) {
                    throw new IllegalArgumentException("method '" + spec.text() + "': reselect=" + explicit
                            + " is not a layer of a " + layers + "-layer model");
                }
                reselect = explicit;
            }
            return new TidalDecode(spec.positiveInt("k", 4096), select, reselect, spec.enumParam("gqa", GqaChoice.class, GqaChoice.MAX),
                    spec.text());
        }
    }
}
