package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.DeferredWrite;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Full-cache writes that decode steps left for later ({@link AttentionPlan#deferredWrite}): per
 * layer, the positions whose K/V so far sit only in a compact cache, and the rows there that
 * hold them. A step that attends its compact cache only then writes one cache, not two (on a
 * GPU each write is a kernel per layer, K and V: 64 of a sparse step's 700 at 8B shapes).
 *
 * <p>A step graph copies a layer's pending rows into the full cache before the layer's own write
 * when its plan does not defer ({@link #flushedInGraph}: a set_rows each, K and V, the same
 * bytes the steps would have written; from a view of the compact cache where the rows are one
 * {@link Run} at its layer's anchor, as Recycled's new tokens are after a refresh, else from a gather:
 * {@link #copy}; where every layer's are the same run of one {@link CompactCache.Stack} for the same
 * positions, one set_rows a kind for every layer first in the graph: {@link #copyPendingOfEveryLayer}).
 * {@link #flush} does the same for every layer in a
 * graph of its own, before anything else reads the full cache: a prefill, a snapshot or
 * restore, a policy's row copy, the end of a decoder (while the compact caches still hold the
 * rows).
 */
final class DeferredWrites implements AutoCloseable {
    /**
     * Whether every layer's pending rows are set at once where they can be ({@link Copy#everyLayer});
     * {@code RBENCH_PENDING_EVERY_LAYER=0} sets them layer by layer, an A/B.
     */
    private static final boolean EVERY_LAYER_AT_ONCE = !"0".equals(System.getenv("RBENCH_PENDING_EVERY_LAYER"));
    private final Backend backend;
    private final KvCache cache;
    private final int kvHeads;
    /** Per layer: the compact cache holding its pending rows (null: none pending). */
    private final CompactCache[] holder;
    /**
     * Per layer: the compact cache and row where the decode's first run it deferred into that cache began, the slot of
     * a freshly selected Cp's first new token, where every run after a refresh begins again ({@link #copy}); forgotten
     * when a decoder starts ({@link #forgetAnchors}).
     */
    private final CompactCache[] anchorCache;
    private final int[] anchorRow;
    /** Per layer: the positions pending, in step order. */
    private final List<List<Integer>> positions = new ArrayList<>();
    /** Per layer: for each pending position, the row holding it in every KV head. */
    private final List<List<int[]>> rows = new ArrayList<>();
    private final GraphCache<int[][]> flushGraphs;
    private long flushes;
    private long deferredRows;
    private long runCopies;
    private long everyLayerCopies;
    private long gatheredCopies;

    DeferredWrites(Backend backend, KvCache cache, int kvHeads) {
        this.backend = backend;
        this.cache = cache;
        this.kvHeads = kvHeads;
        this.holder = new CompactCache[cache.layers()];
        this.anchorCache = new CompactCache[cache.layers()];
        this.anchorRow = new int[cache.layers()];
        for (int l = 0; l < cache.layers(); l++) {
            positions.add(new ArrayList<>());
            rows.add(new ArrayList<>());
        }
        // a flush's shape is its pending counts and caches: a decode meets a few (the refresh's,
        // the decoder's end), and methods taking turns on one engine each their own; a miss
        // allocates device memory (2-3 ms a refresh on an H200 when two methods shared 2 graphs)
        this.flushGraphs = new GraphCache<>(backend, 16);
    }

    /**
     * Whether layer {@code l} of {@code pass} leaves its full-cache write for later: its plan
     * asks to, and the pass is a plain decode step (diagnostics read the whole cache).
     */
    static boolean defers(Pass pass, int l) {
        AttentionPlan plan = pass.plainStepPlan(l);
        return plan != null && plan.deferredWrite() != null;
    }

    /**
     * Rows of layer {@code l} that a graph of {@code pass} copies into the full cache ahead of
     * the layer's own write: its pending rows, unless the layer defers again into the same compact
     * cache (or the pass never reaches the write); 0 for none. The step graph copies them
     * ({@link LayerAttention}), so a refresh pays no extra compute.
     */
    int flushedInGraph(Pass pass, int l) {
        if (holder[l] == null || pass.queryOnly()) {
            return 0;
        }
        if (defers(pass, l) && pass.plans()[l].deferredWrite().cache() == holder[l]) {
            return 0;
        }
        return positions.get(l).size();
    }

    /**
     * What a graph copies of the pending rows: {@code counts[l]} of layer {@code l}'s (0: none), set from views of
     * {@link Run}s ({@code views}) or from gathers; with {@code everyLayer} (views too) every layer's at once, one
     * set_rows a kind from a view of their stack ({@link #copyPendingOfEveryLayer}).
     */
    record Copy(int[] counts, boolean views, boolean everyLayer) {
    }

    /**
     * A copy of {@code counts[l]} pending rows of each layer. It sets them from views where every layer it copies
     * holds them as one {@link Run} beginning at the layer's anchor: Recycled's new tokens after every refresh, the
     * same view each time. A run elsewhere (a layer whose dynamic check declined the refresh keeps filling Cp's slots
     * further on) would key a graph by its place, one more graph at every check; so then every layer's rows are
     * gathered, and a check step's graph is keyed by that choice alone, whatever its layers chose. (A layer with rows
     * pending holds them in its anchor's cache: {@link #afterStep} moves the anchor with the cache.)
     */
    private Copy copy(int[] counts) {
        boolean views = true;
        for (int l = 0; l < counts.length && views; l++) {
            if (counts[l] > 0) {
                views = counts[l] == positions.get(l).size() && run(l) != null && rows.get(l).get(0)[0] == anchorRow[l];
            }
        }
        return new Copy(counts, views, views && EVERY_LAYER_AT_ONCE && oneRunOfOneStack(counts));
    }

    /**
     * Whether every layer copies its pending rows, the same positions held in the same run of its layer of one
     * {@link CompactCache.Stack}: Recycled's new tokens at a refresh, each layer's in the same slots. Then one
     * set_rows a kind sets every layer's from one view of the stack, where a set_rows a layer and kind took 64
     * small kernels at 8B shapes, in every refresh.
     */
    private boolean oneRunOfOneStack(int[] counts) {
        int n = counts[0];
        CompactCache.Stack stack = holder[0] == null ? null : holder[0].stack();
        if (n == 0 || stack == null || stack.layers().size() != counts.length) {
            return false;
        }
        Run first = run(0);
        List<Integer> at = positions.get(0);
        for (int l = 1; l < counts.length; l++) {
            CompactCache c = holder[l];
            if (counts[l] != n || c == null || c.stack() != stack || c.stackLayer() != l || !first.equals(run(l))
                    || !at.equals(positions.get(l))) {
                return false;
            }
        }
        return true;
    }

    /** What a graph of {@code pass} copies of the pending rows ({@link #flushedInGraph}, layer by layer). */
    Copy inGraph(Pass pass) {
        return copy(inGraphCounts(pass));
    }

    /**
     * What a pass graph's shape takes from the pending rows: per layer that it copies, the count, the cache and the
     * run, or that they are gathered.
     */
    Object graphShape(Pass pass) {
        return shape(inGraph(pass));
    }

    private List<Object> shape(Copy copy) {
        List<Object> shape = new ArrayList<>();
        if (copy.everyLayer()) {
            shape.add(List.of("every layer", copy.counts()[0], holder[0].stack(), run(0)));
            return shape;
        }
        for (int l = 0; l < copy.counts().length; l++) {
            if (copy.counts()[l] > 0) {
                // the compact cache by identity
                shape.add(List.of(l, copy.counts()[l], holder[l], copy.views() ? run(l) : "gathered"));
            }
        }
        return shape;
    }

    /**
     * Layer {@code l}'s pending rows as one run of its compact cache's rows, the same in every KV head: rows
     * {@code [first, first + n)}, in step order ({@code descending} false: Recycled v1's Cp, which grows) or
     * in reverse (true: v2's, where each new token takes the slot of the lowest-scored entry, the last live
     * one). Such rows are set into the full cache from a view of the compact cache, without a gather.
     */
    record Run(int first, boolean descending) {
    }

    /** Layer {@code l}'s pending rows as a {@link Run}, or null where they are not one (they are gathered). */
    Run run(int l) {
        List<int[]> pending = rows.get(l);
        int n = pending.size();
        if (n == 0) {
            return null;
        }
        int first = pending.get(0)[0];
        boolean ascending = true;
        boolean descending = true;
        for (int i = 0; i < n; i++) {
            for (int h = 0; h < kvHeads; h++) {
                int row = pending.get(i)[h];
                ascending &= row == first + i;
                descending &= row == first - i;
            }
        }
        return ascending ? new Run(first, false) : descending ? new Run(first - (n - 1), true) : null;
    }

    /**
     * The rows holding the pending positions of the layers a graph of {@code pass} flushes, layer
     * after layer, each layer's {@code [count, kvHeads]} head-major (set_rows' index columns).
     */
    int[] flushedRows(Pass pass) {
        return rowsOf(inGraphCounts(pass));
    }

    /** The pending positions of the layers a graph of {@code pass} flushes, layer after layer. */
    int[] flushedPositions(Pass pass) {
        return positionsOf(inGraph(pass));
    }

    /**
     * The pending positions a copy's graph input holds: every copied layer's, one after another, or with {@link
     * Copy#everyLayer} layer 0's alone, which are every layer's.
     */
    static int positionCount(Copy copy) {
        return copy.everyLayer() ? copy.counts()[0] : java.util.Arrays.stream(copy.counts()).sum();
    }

    /** Per layer, the pending rows a graph of {@code pass} copies (0 where it copies none). */
    private int[] inGraphCounts(Pass pass) {
        int[] counts = new int[holder.length];
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            counts[l] = flushedInGraph(pass, l);
        }
        return counts;
    }

    /** Per layer, all its pending rows. */
    private int[] pendingCounts() {
        int[] counts = new int[holder.length];
        for (int l = 0; l < holder.length; l++) {
            counts[l] = positions.get(l).size();
        }
        return counts;
    }

    /** The first {@code counts[l]} pending rows of each layer, layer after layer, each {@code [count, kvHeads]} head-major. */
    private int[] rowsOf(int[] counts) {
        int[] out = new int[java.util.Arrays.stream(counts).sum() * kvHeads];
        int at = 0;
        for (int l = 0; l < counts.length; l++) {
            int n = counts[l];
            for (int i = 0; i < n; i++) {
                for (int h = 0; h < kvHeads; h++) {
                    out[at * kvHeads + h * n + i] = rows.get(l).get(i)[h];
                }
            }
            at += n;
        }
        return out;
    }

    /**
     * The pending positions a copy takes, layer after layer; a layer's whose rows it sets from a view of a
     * descending {@link Run} in its row order (reversed), as {@link #copyPending} sets them.
     */
    private int[] positionsOf(Copy copy) {
        int[] counts = copy.counts();
        int[] out = new int[positionCount(copy)];
        int at = 0;
        // every layer's at once: the same positions in every layer, layer 0's serve them all
        for (int l = 0; l < (copy.everyLayer() ? 1 : counts.length); l++) {
            int n = counts[l];
            boolean reversed = n > 0 && copy.views() && run(l).descending();
            for (int i = 0; i < n; i++) {
                out[at++] = positions.get(l).get(reversed ? n - 1 - i : i);
            }
        }
        return out;
    }

    /**
     * Copies layer {@code l}'s {@code n} pending rows, entries {@code [at, at + n)} of a graph's pending-row
     * inputs ({@code rows}: every flushed layer's {@code [count, kvHeads]} one after another; {@code positions}
     * likewise, a {@link Run}'s in its row order), from the compact cache holding them into the layer's
     * full-cache {@code keys} and {@code values}: a set_rows each, from a view of the compact cache where the
     * copy takes views ({@link Copy#views}), else of a gather (on a GPU a kernel a layer, K and V). Returns
     * the written K and V, for the nodes that must come after.
     */
    Tensor[] copyPending(GgmlContext ctx, Copy copy, int l, Tensor keys, Tensor values, Tensor rows, Tensor positions, long at) {
        CompactCache held = holder[l];
        int n = copy.counts()[l];
        Tensor to = ctx.view(positions, new long[] {n}, new long[] {}, at * positions.nb(0));
        if (copy.views()) {
            Run run = run(l);
            runCopies++;
            return new Tensor[] {ctx.setRows(keys, runRows(ctx, held.keys(), run, n), to),
                    ctx.setRows(values, runRows(ctx, held.values(), run, n), to)};
        }
        gatheredCopies++;
        Tensor from = ctx.view(rows, new long[] {n, kvHeads}, new long[] {(long) n * rows.nb(0)}, at * kvHeads * rows.nb(0));
        return new Tensor[] {ctx.setRows(keys, PolicyServices.cacheRows(ctx, held.keys(), from), to),
                ctx.setRows(values, PolicyServices.cacheRows(ctx, held.values(), from), to)};
    }

    /**
     * Copies every layer's {@code n} pending rows ({@link Copy#everyLayer}) into the full cache's tensors of every
     * layer, {@code keys} and {@code values}: one set_rows each from a view of the rows of the run in the stack's
     * tensors, the first {@code n} of {@code positions} (layer 0's, every layer's) broadcast over the KV heads and
     * layers. Returns the written K and V of every layer.
     */
    Tensor[] copyPendingOfEveryLayer(GgmlContext ctx, Copy copy, Tensor keys, Tensor values, Tensor positions) {
        if (!copy.everyLayer()) {
            throw new IllegalStateException("the pending rows are not one run of one stack in every layer");
        }
        int n = copy.counts()[0];
        CompactCache.Stack stack = holder[0].stack();
        Run run = run(0);
        Tensor to = ctx.view(positions, new long[] {n}, new long[] {}, 0);
        runCopies += holder.length;
        everyLayerCopies++;
        return new Tensor[] {ctx.setRows(keys, runRows(ctx, stack.keysOfEveryLayer(), run, n), to),
                ctx.setRows(values, runRows(ctx, stack.valuesOfEveryLayer(), run, n), to)};
    }

    /**
     * Rows {@code [run.first, run.first + n)} of a compact cache's {@code [headDim, rows, kvHeads]} tensor, or of a
     * stack's {@code [headDim, rows, kvHeads, layers]}, a view.
     */
    private static Tensor runRows(GgmlContext ctx, Tensor compact, Run run, int n) {
        return ctx.view(compact, new long[] {compact.ne(0), n, compact.ne(2), compact.ne(3)},
                new long[] {compact.nb(1), compact.nb(2), compact.nb(3)}, run.first() * compact.nb(1));
    }

    /** Rows the compact caches holding pending rows have (the bound of {@link #flushedRows}). */
    int rowBound() {
        long widest = 1;
        for (CompactCache c : holder) {
            widest = c != null ? Math.max(widest, c.keys().ne(1)) : widest;
        }
        return (int) widest;
    }

    /**
     * After a decode step's pass: the rows its graph copied into the full cache are no longer
     * pending, and the writes its layers deferred are.
     */
    void afterStep(Pass pass) {
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            if (flushedInGraph(pass, l) > 0) {
                clear(l);
            }
            if (!defers(pass, l)) {
                continue;
            }
            DeferredWrite w = pass.plans()[l].deferredWrite();
            if (holder[l] != null && holder[l] != w.cache()) {
                throw new IllegalStateException("layer " + l + " keeps rows in two compact caches"); // the graph flushed
            }
            holder[l] = w.cache();
            int[] r = new int[kvHeads];
            for (int h = 0; h < kvHeads; h++) {
                r[h] = w.row(h);
            }
            if (anchorCache[l] != w.cache()) {
                anchorCache[l] = w.cache();
                anchorRow[l] = r[0];
            }
            positions.get(l).add(pass.start());
            rows.get(l).add(r);
            deferredRows++;
        }
    }

    /**
     * A decoder starts: its first runs set the anchors. A decode before it may have begun its runs elsewhere (a prompt
     * shorter than K leaves Cp with fewer rows), and its anchors would make every copy of this decode a gather.
     */
    void forgetAnchors() {
        java.util.Arrays.fill(anchorCache, null);
    }

    private void clear(int l) {
        holder[l] = null;
        positions.get(l).clear();
        rows.get(l).clear();
    }

    boolean isEmpty() {
        for (CompactCache c : holder) {
            if (c != null) {
                return false;
            }
        }
        return true;
    }

    /** Positions of layer {@code l} pending (tests). */
    int pending(int l) {
        return positions.get(l).size();
    }

    /** Layers' pending rows set from a {@link Run}, not gathered, in the graphs built so far (tests). */
    long runCopies() {
        return runCopies;
    }

    /** Copies of every layer's pending rows at once ({@link Copy#everyLayer}), in the graphs built so far (tests). */
    long everyLayerCopies() {
        return everyLayerCopies;
    }

    /** Layers' pending rows gathered, in the graphs built so far (tests). */
    long gatheredCopies() {
        return gatheredCopies;
    }

    /** Flushes run in graphs of their own so far (tests). */
    long flushes() {
        return flushes;
    }

    /** Layer rows whose full-cache write a step deferred so far (tests). */
    long deferredRows() {
        return deferredRows;
    }

    /** Copies every pending row into the full cache; nothing pending afterwards. */
    void flush() {
        if (isEmpty()) {
            return;
        }
        Copy copy = copy(pendingCounts());
        List<Object> shape = shape(copy);
        int[][] values = {rowsOf(copy.counts()), positionsOf(copy)}; // source rows, then positions
        int total = values[1].length;
        GraphCache.Entry<int[][]> entry = flushGraphs.get(shape);
        if (entry != null) {
            entry.owner()[0] = values[0];
            entry.owner()[1] = values[1];
        } else {
            entry = flushGraphs.put(shape, flushGraph(copy, values, total), values);
        }
        entry.graph().fillInputs();
        backend.compute(entry.graph().graph);
        flushes++;
        discard();
    }

    /** Forgets what is pending without writing it (the rows are being overwritten anyway: a reset, a refill). */
    void discard() {
        for (int l = 0; l < holder.length; l++) {
            clear(l);
        }
    }

    /** One input of every layer's source rows and one of its positions, each layer a view of them. */
    private StepGraph flushGraph(Copy copy, int[][] values, int total) {
        int layers = 0;
        for (CompactCache c : holder) {
            layers += c != null ? 1 : 0;
        }
        int rowBound = rowBound(); // each plan checked its rows against its own cache
        StepGraph g = new StepGraph(16 + 12 * layers);
        Tensor target = g.input("deferred_positions", GgmlType.I32, t -> t.setIndices(values[1], cache.capacity()),
                positionCount(copy));
        if (copy.everyLayer()) {
            for (Tensor written : copyPendingOfEveryLayer(g.ctx, copy, cache.keysOfEveryLayer(), cache.valuesOfEveryLayer(),
                    target)) {
                g.expand(written);
            }
            return g;
        }
        Tensor source = g.input("deferred_rows", GgmlType.I32, t -> t.setIndices(values[0], rowBound), (long) total * kvHeads);
        long at = 0;
        for (int l = 0; l < holder.length; l++) {
            if (holder[l] == null) {
                continue;
            }
            for (Tensor written : copyPending(g.ctx, copy, l, cache.keys(l), cache.values(l), source, target, at)) {
                g.expand(written);
            }
            at += copy.counts()[l];
        }
        return g;
    }

    @Override
    public void close() {
        flushGraphs.close();
    }
}
