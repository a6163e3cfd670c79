package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.DeferredWrite;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Full-cache writes that decode steps left for later ({@link AttentionPlan#deferredWrite}): per
 * layer, the positions whose K/V so far sit only in a compact cache, and the rows there that
 * hold them. A step that attends its compact cache only then writes one cache, not two (on a
 * GPU each write is a kernel per layer, K and V: 64 of a sparse step's 700 at 8B shapes).
 *
 * <p>{@link #flush} copies them all into the full cache in one small graph (a gather and a
 * set_rows per layer, K and V: the same bytes the steps would have written). The engine
 * flushes before anything reads the full cache: a step in which some layer's plan does not
 * defer, a prefill, a snapshot or restore, a policy's row copy, and the end of a decoder,
 * while the compact caches still hold the rows.
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
     * Before a decode step's pass is computed: flushes what is pending when some layer the pass
     * builds reads more than its compact cache, or keeps its new rows in another compact cache
     * than the ones pending (each layer's pending rows share one cache).
     */
    void beforeStep(Pass pass) {
        if (isEmpty()) {
            return;
        }
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            boolean same = defers(pass, l) && (holder[l] == null || holder[l] == pass.plans()[l].deferredWrite().cache());
            if (!same) {
                flush();
                return;
            }
        }
    }

    /** After a decode step's pass: the writes its layers deferred are now pending. */
    void afterStep(Pass pass) {
        for (int l = pass.fromLayer(); l < pass.toLayer(); l++) {
            if (!defers(pass, l)) {
                continue;
            }
            DeferredWrite w = pass.plans()[l].deferredWrite();
            if (holder[l] != null && holder[l] != w.cache()) {
                throw new IllegalStateException("layer " + l + " keeps rows in two compact caches"); // beforeStep flushed
            }
            holder[l] = w.cache();
            int[] r = new int[kvHeads];
            for (int h = 0; h < kvHeads; h++) {
                r[h] = w.row(h);
            }
            positions.get(l).add(pass.start());
            rows.get(l).add(r);
        }
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

    /** Flushes run so far (tests, reports). */
    long flushes() {
        return flushes;
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
        Arrays.fill(holder, null);
        for (int l = 0; l < holder.length; l++) {
            positions.get(l).clear();
            rows.get(l).clear();
        }
    }

    /** One input of every layer's source rows and one of its positions, each layer a view of them. */
    private StepGraph flushGraph(int[][] values, int total) {
        int layers = 0;
        for (CompactCache c : holder) {
            layers += c != null ? 1 : 0;
        }
        long widest = 0;
        for (CompactCache c : holder) {
            widest = c != null ? Math.max(widest, c.keys().ne(1)) : widest;
        }
        int rowBound = (int) widest; // each plan checked its rows against its own cache
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
