package org.rbench.baselines;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * SnapKV (FasterDecoding/SnapKV, snapkv_utils.py): after a full-attention prefill, each
 * layer keeps, per KV head (or per query head, {@code gqa=query}), the {@code k - window}
 * prompt keys that the last {@code window} prompt queries voted for most (their softmax
 * weights summed over the window, max-pooled along positions) plus the window itself; a
 * prompt of at most {@code k} tokens is kept whole. Decoding appends every new token and
 * never evicts or selects again. PyramidKV ({@link PyramidKv}) is this policy with a budget
 * per layer.
 *
 * <p>The choice is made once, on the host, from the window's attention rows the prefill
 * returns; the kept rows are copied in position order (window last) into a compact cache per
 * layer, and every decode step writes the new token after them and attends rows
 * {@code [0, kept + steps]} of it ({@link Plan}): the step reads those rows and nothing of the
 * full cache, with no host round trip. A layer that keeps every prompt row (a budget that
 * covers the prompt) attends the full cache instead, which is full attention exactly.
 *
 * <p>Room for decoded tokens: each layer's compact cache starts with room for {@code growRows}
 * (1024) tokens beyond its kept rows, or for as many as the engine's context has left if fewer,
 * rounded up to a multiple of 256 rows. When the decode outgrows it, a cache 1024 rows larger
 * is taken and refilled from the full cache (which holds every token at its original position,
 * so the refilled rows are the same bytes).
 */
public final class SnapKv implements AttentionPolicy {
    /** Rows added to a compact cache when the decode outgrows it. */
    static final int GROW_ROWS = 1024;
    /** Compact caches hold a multiple of this many rows per store; reads are padded to it as full reads are (llama.cpp's 256). */
    static final int ROW_BLOCK = 256;

    /** Voted keys (beyond the window) each layer keeps, for a prompt longer than the budget. */
    @FunctionalInterface
    interface Budgets {
        int[] voted(int promptTokens, int window, int layers);
    }

    private final int budget;
    private final int window;
    private final int pool;
    private final GqaChoice gqa;
    private final Budgets budgets;
    private final int growRows;
    private final String name;

    private AttentionContext context;
    private int promptEnd;
    /** Stores per layer: 1 (the compact cache holds KV heads) or the GQA group (it holds query heads). */
    private int segments;
    /** [layer][store] kept prompt positions, ascending; a null layer attends the full cache. */
    private int[][][] kept;
    private CompactCache[] caches;
    /** Rows per store of each layer's compact cache. */
    private int[] segmentRows;
    private int lastPosition = -1;

    SnapKv(int budget, int window, int pool, GqaChoice gqa, Budgets budgets, int growRows, String name) {
        if (window <= 0 || budget <= window) {
            throw new IllegalArgumentException(name + ": the budget k=" + budget + " must exceed the window " + window);
        }
        if (pool < 1 || pool % 2 == 0) {
            throw new IllegalArgumentException(name + ": pool must be an odd kernel >= 1, got " + pool);
        }
        if (growRows <= 0) {
            throw new IllegalArgumentException(name + ": growRows must be positive, got " + growRows);
        }
        this.budget = budget;
        this.window = window;
        this.pool = pool;
        this.gqa = gqa;
        this.budgets = budgets;
        this.growRows = growRows;
        this.name = name;
    }

    /** SnapKV's own budget: {@code budget - window} voted keys in every layer. */
    static Budgets uniform(int budget) {
        return (promptTokens, window, layers) -> {
            int[] out = new int[layers];
            Arrays.fill(out, budget - window);
            return out;
        };
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PrefillRequest prefillRequest() {
        // the window's votes summed on the device: [heads][n] per layer, where the rows would be [heads][window][n]
        return PrefillRequest.windowSums(window);
    }

    @Override
    public void start(AttentionContext context, PrefillStatistics prefill) {
        this.context = context;
        HyperParameters hp = context.hyperParameters();
        int layers = hp.layers();
        promptEnd = prefill.promptEnd();
        segments = gqa == GqaChoice.QUERY ? hp.heads() / hp.kvHeads() : 1;
        kept = new int[layers][][];
        caches = new CompactCache[layers];
        segmentRows = new int[layers];
        lastPosition = promptEnd - 1;
        int n = promptEnd;
        if (n <= budget) {
            return; // the prompt fits: every layer keeps it all and attends the full cache
        }
        int before = n - window;
        int[] voted = budgets.voted(n, window, layers);
        if (voted.length != layers) {
            throw new IllegalStateException(name + ": " + voted.length + " layer budgets for " + layers + " layers");
        }
        for (int l = 0; l < layers; l++) {
            if (voted[l] < 0) {
                throw new IllegalStateException(name + ": layer " + l + " would keep " + voted[l] + " voted keys");
            }
        }
        // the layers' choices are independent: made in parallel (a long prompt's are hundreds of ms a layer,
        // timed with the prefill as the start: Decoder.startNanos)
        java.util.stream.IntStream.range(0, layers).parallel().filter(l -> voted[l] < before).forEach(l -> {
            float[][] votes = prefill.window() == window
                    ? SnapKvSelection.votes(prefill.windowSums(l), hp.heads(), n, before)
                    : SnapKvSelection.votes(windowRows(prefill, l, n), window, before); // a prefill shared with another window
            kept[l] = SnapKvSelection.keep(votes, voted[l], window, pool, gqa, hp.kvHeads());
        });
        List<AttentionContext.RowCopy> copies = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            if (kept[l] == null) {
                continue; // keeps every prompt row: full attention
            }
            int keptRows = kept[l][0].length;
            int room = Math.max(1, Math.min(growRows, context.cacheCapacity() - n));
            segmentRows[l] = roundUp(keptRows + room);
            caches[l] = context.newCompactCache(segments * segmentRows[l]);
            addCopies(copies, l, n - 1);
        }
        context.copyRows(copies); // every layer's kept rows in one graph
    }

    private AttentionProbabilities windowRows(PrefillStatistics prefill, int layer, int n) {
        AttentionProbabilities rows = prefill.lastRows(layer);
        if (rows == null) {
            throw new IllegalStateException(name + ": the prefill did not return the window's attention rows for layer " + layer);
        }
        if (rows.queries() < window || rows.firstQueryPosition() + rows.queries() != n || rows.keys() < n) {
            throw new IllegalStateException(name + ": the prefill returned attention rows of positions ["
                    + rows.firstQueryPosition() + ", " + (rows.firstQueryPosition() + rows.queries()) + ") over "
                    + rows.keys() + " keys, not of the last " + window + " of the " + n + " prompt tokens"
                    + " (prefill at least the last window of the prompt in one call)");
        }
        return rows;
    }

    private static int roundUp(int rows) {
        return (rows + ROW_BLOCK - 1) / ROW_BLOCK * ROW_BLOCK;
    }

    /**
     * Queues the copy of layer {@code l}'s rows, the kept prompt rows then the decoded tokens
     * up to {@code lastDecoded}, into its compact cache: one copy per store segment, each
     * carrying, per KV head, the rows of the store that KV head's segment holds.
     */
    private void addCopies(List<AttentionContext.RowCopy> copies, int l, int lastDecoded) {
        int kvHeads = context.hyperParameters().kvHeads();
        int keptRows = kept[l][0].length;
        int decoded = lastDecoded - promptEnd + 1;
        int count = keptRows + decoded;
        for (int j = 0; j < segments; j++) {
            int[] source = new int[count * kvHeads];
            for (int h = 0; h < kvHeads; h++) {
                int[] rows = kept[l][h * segments + j]; // the KV head itself, or query head h * group + j
                System.arraycopy(rows, 0, source, h * count, keptRows);
                for (int d = 0; d < decoded; d++) {
                    source[h * count + keptRows + d] = promptEnd + d;
                }
            }
            copies.add(new AttentionContext.RowCopy(l, source, count, caches[l], j * segmentRows[l]));
        }
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        lastPosition = at.position();
        int l = at.layer();
        if (kept[l] == null) {
            return AttentionPlan.full();
        }
        int rows = attendedRows(l, at.position());
        return new Plan(caches[l], segments, rows, rows - at.position(), false, false);
    }

    /** Rows per store that layer {@code l} attends at the step of {@code position}: the kept ones and the decoded ones. */
    private int attendedRows(int l, int position) {
        return kept[l][0].length + position - promptEnd + 1;
    }

    @Override
    public void endStep(int step, int position, int token) {
        if (kept == null) {
            return;
        }
        List<AttentionContext.RowCopy> copies = new ArrayList<>();
        for (int l = 0; l < kept.length; l++) {
            if (kept[l] == null) {
                continue;
            }
            int next = attendedRows(l, position + 1);
            if (next > segmentRows[l]) {
                // Outgrown: a larger cache, refilled from the full cache (kept rows and every decoded token so far).
                caches[l].close();
                segmentRows[l] = roundUp(next + growRows);
                caches[l] = context.newCompactCache(segments * segmentRows[l]);
                addCopies(copies, l, position);
            }
        }
        if (!copies.isEmpty()) {
            context.copyRows(copies);
        }
    }

    /**
     * The prompt positions a layer keeps for a store (a KV head, or a query head under
     * {@code gqa=query}), ascending with the window last; null when the layer keeps the whole
     * prompt.
     */
    public int[] keptPrompt(int layer, int store) {
        return kept[layer] == null ? null : kept[layer][store].clone();
    }

    /**
     * The positions a layer's compact cache holds for a KV head, in row order: the kept prompt
     * positions, then every decoded token up to the last step planned. Under {@code gqa=query}
     * the union of the group's query heads' positions (what the KV head's reads cover; each
     * query head attends only its own).
     */
    @Override
    public int[] compactPositions(int layer, int kvHead) {
        if (kept == null || kept[layer] == null) {
            return null;
        }
        int[] prompt;
        if (segments == 1) {
            prompt = kept[layer][kvHead];
        } else {
            java.util.BitSet union = new java.util.BitSet(promptEnd);
            for (int j = 0; j < segments; j++) {
                for (int p : kept[layer][kvHead * segments + j]) {
                    union.set(p);
                }
            }
            prompt = union.stream().toArray();
        }
        int decoded = Math.max(0, lastPosition - promptEnd + 1);
        int[] out = Arrays.copyOf(prompt, prompt.length + decoded);
        for (int d = 0; d < decoded; d++) {
            out[prompt.length + d] = promptEnd + d;
        }
        return out;
    }

    @Override
    public void close() {
        if (caches != null) {
            for (CompactCache c : caches) {
                if (c != null) {
                    c.close();
                }
            }
            caches = null;
        }
    }

    /**
     * A decode step's read of a layer's compact cache, whose rows grow by one a step: writes
     * the new token at row {@code rows - 1} of every store segment, then attends rows
     * {@code [0, rows)} of each, padded to the next multiple of 256 rows (the shape stays the
     * same for 256 steps, so one built graph serves them) and masked past {@code rows} by a
     * step input holding every layer's mask, filled before each compute from the step's position.
     *
     * <p>With one segment the cache is {@code [headDim, segmentRows, kvHeads]}; with one
     * segment per query head of a GQA group it is {@code [headDim, group x segmentRows, kvHeads]},
     * KV head h's block holding query heads {@code h x group .. h x group + group - 1} one after
     * the other, which is the same memory as {@code [headDim, segmentRows, heads]}: read as that,
     * query head q attends its own rows.
     *
     * @param rows   rows per segment attended at this step (the new token's included)
     * @param offset {@code rows - position}: fixed for a layer through a run, so it is part of
     *               the shape and the mask input computes rows from the step's position
     */
    record Plan(CompactCache cache, int segments, int rows, int offset, boolean probabilities, boolean query)
            implements AttentionPlan {
        Plan {
            if (segments <= 0 || cache.capacity() % segments != 0) {
                throw new IllegalArgumentException("a compact cache of " + cache.capacity() + " rows is not " + segments
                        + " segments");
            }
            if (rows <= 0 || rows > cache.capacity() / segments) {
                throw new IllegalArgumentException(rows + " rows outside [1, " + cache.capacity() / segments + "]");
            }
        }

        int segmentRows() {
            return cache.capacity() / segments;
        }

        /** Rows the read covers, before the engine's own padding: rows rounded up to the row block, within the segment. */
        int block() {
            return Math.min(segmentRows(), roundUp(rows));
        }

        private int padded(PlanGraph g) {
            return g.paddedRows(block(), segmentRows());
        }

        /** The new token's row in each segment. */
        private int[] newTokenRows() {
            int[] out = new int[segments];
            for (int j = 0; j < segments; j++) {
                out[j] = j * segmentRows() + rows - 1;
            }
            return out;
        }

        @Override
        public Plan withProbabilities() {
            return new Plan(cache, segments, rows, offset, true, query);
        }

        @Override
        public Plan withQuery() {
            return new Plan(cache, segments, rows, offset, probabilities, true);
        }

        @Override
        public int rows(int position) {
            return segments * rows; // per KV head: every segment of its block
        }

        @Override
        public void check(PlanCheck at) {
            at.requireHeadShape(cache, "the compact cache");
            if (rows != at.position() + offset) {
                throw at.fail(rows + " rows with offset " + offset + " at position " + at.position());
            }
            if (segments > 1 && segments * at.model().kvHeads() != at.model().heads()) {
                throw at.fail(segments + " segments per KV head for " + at.model().heads() + " query heads");
            }
            if (segments > 1 && probabilities) {
                throw at.fail("per-query-head reads do not return attention probabilities");
            }
        }

        @Override
        public Object shape(int position) {
            return List.of(cache, segments, offset, block()); // the cache by identity
        }

        @Override
        public int extraTensors() {
            return 8 + 3 * segments;
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            var ctx = g.ctx();
            int kvHeads = g.model().kvHeads();
            int segmentRows = segmentRows();
            Tensor newRows = g.layerIndices("snapkv_new_rows", segments, (Plan p) -> p.newTokenRows(),
                    p -> p.cache().capacity());
            // Cache layout is [headDim, rows, kvHeads]: the token and head dims swap to write.
            Tensor newKeys = ctx.permute(g.newKeys(), 0, 2, 1, 3);
            Tensor newValues = ctx.permute(g.newValues(), 0, 2, 1, 3);
            Tensor k = cache.keys();
            Tensor v = cache.values();
            for (int j = 0; j < segments; j++) {
                // one index for every KV head: segment j's row in each KV head's block
                Tensor row = ctx.view(newRows, new long[] {1, 1}, new long[] {newRows.nb(0)}, j * newRows.nb(0));
                k = ctx.setRows(k, newKeys, row);
                v = ctx.setRows(v, newValues, row);
            }
            g.expand(k);
            g.expand(v);
            int padded = padded(g);
            long stores = (long) kvHeads * segments;
            Tensor keys = ctx.view(k, new long[] {k.ne(0), padded, stores}, new long[] {k.nb(1), segmentRows * k.nb(1)}, 0);
            Tensor values = ctx.view(v, new long[] {v.ne(0), padded, stores}, new long[] {v.nb(1), segmentRows * v.nb(1)}, 0);
            return new AttendedRows(keys, values, mask(g, padded));
        }

        /**
         * This layer's mask, a column of one F16 step input {@code [widest, layers]} for every
         * layer with such a plan (one upload a step): row i counts (0) while i < rows, else -inf.
         * F16 because flash attention reads only that, and softmax takes it as well. The offsets
         * and read sizes it is filled from are part of the plans' shapes, so the same for every
         * step this graph computes; the rows come from the step's position.
         */
        private static Tensor mask(PlanGraph g, int padded) {
            int layers = g.model().layers();
            int[] offsets = new int[layers];
            int[] reads = new int[layers];
            int widest = 0;
            for (int l = g.fromLayer(); l < g.toLayer(); l++) {
                if (g.plan(l) instanceof Plan p) {
                    offsets[l] = p.offset();
                    reads[l] = p.padded(g);
                    widest = Math.max(widest, reads[l]);
                }
            }
            int width = widest;
            Tensor all = g.stepInput("snapkv_mask", GgmlType.F16, (t, position) -> {
                float[] m = new float[width * layers];
                for (int l = 0; l < layers; l++) {
                    if (reads[l] == 0) {
                        continue;
                    }
                    int rows = position + offsets[l];
                    if (rows <= 0 || rows > reads[l]) {
                        throw new IllegalStateException("layer " + l + ": " + rows + " rows in a read of " + reads[l]);
                    }
                    Arrays.fill(m, l * width + rows, (l + 1) * width, Float.NEGATIVE_INFINITY);
                }
                t.setHalfs(m);
            }, width, layers);
            return g.ctx().view(all, new long[] {padded, 1}, new long[] {padded * all.nb(0)},
                    (long) g.layer() * all.ne(0) * all.nb(0));
        }

        @Override
        public String toString() {
            return "SnapKv.Plan[" + rows + " rows x " + segments + " segments]";
        }
    }

    /** {@code snapkv:k=2048,window=32,pool=7,gqa=max}. */
    public static final class Factory implements Strategy {
        static final Set<String> PARAMETERS = Set.of("k", "window", "pool", "gqa");

        @Override
        public String name() {
            return "snapkv";
        }

        @Override
        public String description() {
            return "SnapKV: after the prefill each layer keeps the k-window prompt keys most voted by the last window"
                    + " prompt queries (max-pooled) plus the window, then appends every decoded token; k=2048, window=32,"
                    + " pool=7, gqa=max|mean|query";
        }

        @Override
        public Set<String> parameters() {
            return PARAMETERS;
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            common(spec);
        }

        /** k, window, pool and gqa, checked: {@code {k, window, pool}} and the GQA mode. */
        static int[] common(MethodSpec spec) {
            int k = spec.positiveInt("k", 2048);
            int window = spec.positiveInt("window", 32);
            if (k <= window) {
                throw new IllegalArgumentException("method '" + spec.text() + "': k (" + k + ") must exceed the window ("
                        + window + "), which counts inside it");
            }
            int pool = spec.intParam("pool", 7);
            if (pool < 1 || pool % 2 == 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': pool must be an odd kernel >= 1, got " + pool);
            }
            spec.enumParam("gqa", GqaChoice.class, GqaChoice.MAX);
            return new int[] {k, window, pool};
        }

        static GqaChoice gqa(MethodSpec spec) {
            return spec.enumParam("gqa", GqaChoice.class, GqaChoice.MAX);
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            validate(spec);
            int[] c = common(spec);
            return new SnapKv(c[0], c[1], c[2], gqa(spec), uniform(c[0]), GROW_ROWS, spec.text());
        }
    }
}
