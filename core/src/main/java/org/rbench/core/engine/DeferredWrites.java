package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.DeferredWrite;
import org.rbench.llamacpp.Backend;
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
 * when its plan does not defer ({@link #flushedInGraph}: a gather and a set_rows, K and V, the
 * same bytes the steps would have written). {@link #flush} does the same for every layer in a
 * graph of its own, before anything else reads the full cache: a prefill, a snapshot or
 * restore, a policy's row copy, the end of a decoder (while the compact caches still hold the
 * rows).
 */
final class DeferredWrites implements AutoCloseable {
    private final Backend backend;
    private final KvCache cache;
    private final int kvHeads;
    /** Per layer: the compact cache holding its pending rows (null: none pending). */
    private final CompactCache[] holder;
    /** Per layer: the positions pending, in step order. */
    private final List<List<Integer>> positions = new ArrayList<>();
    /** Per layer: for each pending position, the row holding it in every KV head. */
    private final List<List<int[]>> rows = new ArrayList<>();
    private final GraphCache<int[][]> flushGraphs;
    private long flushes;
    private long deferredRows;

    DeferredWrites(Backend backend, KvCache cache, int kvHeads) {
        this.backend = backend;
        this.cache = cache;
        this.kvHeads = kvHeads;
        this.holder = new CompactCache[cache.layers()];
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
        return pass.batch() == 1 && !pass.shadowFull() && !pass.queryOnly() && pass.plans()[l] != null
                && pass.plans()[l].deferredWrite() != null;
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

    /** What a pass graph's shape takes from the pending rows of layer {@code l}: their count and cache, or 0. */
    Object graphShape(Pass pass, int l) {
        int n = flushedInGraph(pass, l);
        return n == 0 ? (Object) 0 : List.of(n, holder[l]); // the compact cache by identity
    }

    /** The compact cache holding layer {@code l}'s pending rows (null: none). */
    CompactCache holder(int l) {
        return holder[l];
    }

    /**
     * The rows holding the pending positions of the layers a graph of {@code pass} flushes, layer
     * after layer, each layer's {@code [count, kvHeads]} head-major (set_rows' index columns).
     */
    int[] flushedRows(Pass pass) {
        int total = 0;
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            total += flushedInGraph(pass, l);
        }
        int[] out = new int[total * kvHeads];
        int at = 0;
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            int n = flushedInGraph(pass, l);
            for (int i = 0; i < n; i++) {
                for (int h = 0; h < kvHeads; h++) {
                    out[at * kvHeads + h * n + i] = rows.get(l).get(i)[h];
                }
            }
            at += n;
        }
        return out;
    }

    /** The pending positions of the layers a graph of {@code pass} flushes, layer after layer. */
    int[] flushedPositions(Pass pass) {
        List<Integer> out = new ArrayList<>();
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            if (flushedInGraph(pass, l) > 0) {
                out.addAll(positions.get(l));
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
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
            positions.get(l).add(pass.start());
            rows.get(l).add(r);
            deferredRows++;
        }
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
        List<Object> shape = new ArrayList<>();
        int[][] values = new int[2][]; // source rows, then positions
        int total = 0;
        for (int l = 0; l < holder.length; l++) {
            if (holder[l] != null) {
                shape.add(List.of(l, positions.get(l).size(), holder[l])); // the compact cache by identity
                total += positions.get(l).size();
            }
        }
        values[0] = new int[total * kvHeads];
        values[1] = new int[total];
        int at = 0;
        for (int l = 0; l < holder.length; l++) {
            int n = positions.get(l).size();
            for (int i = 0; i < n; i++) {
                values[1][at + i] = positions.get(l).get(i);
                // head-major, as set_rows' per-head index columns: [n, kvHeads]
                for (int h = 0; h < kvHeads; h++) {
                    values[0][at * kvHeads + h * n + i] = rows.get(l).get(i)[h];
                }
            }
            at += n;
        }
        GraphCache.Entry<int[][]> entry = flushGraphs.get(shape);
        if (entry != null) {
            entry.owner()[0] = values[0];
            entry.owner()[1] = values[1];
        } else {
            entry = flushGraphs.put(shape, flushGraph(values, total), values);
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
    private StepGraph flushGraph(int[][] values, int total) {
        int layers = 0;
        for (CompactCache c : holder) {
            layers += c != null ? 1 : 0;
        }
        int rowBound = rowBound(); // each plan checked its rows against its own cache
        StepGraph g = new StepGraph(16 + 12 * layers);
        Tensor source = g.input("deferred_rows", GgmlType.I32, t -> t.setIndices(values[0], rowBound), (long) total * kvHeads);
        Tensor target = g.input("deferred_positions", GgmlType.I32, t -> t.setIndices(values[1], cache.capacity()), total);
        long at = 0;
        for (int l = 0; l < holder.length; l++) {
            if (holder[l] == null) {
                continue;
            }
            int n = positions.get(l).size();
            Tensor from = g.ctx.view(source, new long[] {n, kvHeads}, new long[] {(long) n * source.nb(0)},
                    at * kvHeads * source.nb(0));
            Tensor to = g.ctx.view(target, new long[] {n}, new long[] {}, at * target.nb(0));
            CompactCache c = holder[l];
            g.expand(g.ctx.setRows(cache.keys(l), PolicyServices.cacheRows(g.ctx, c.keys(), from), to));
            g.expand(g.ctx.setRows(cache.values(l), PolicyServices.cacheRows(g.ctx, c.values(), from), to));
            at += n;
        }
        return g;
    }

    @Override
    public void close() {
        flushGraphs.close();
    }
}
