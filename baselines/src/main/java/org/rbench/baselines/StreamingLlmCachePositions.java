package org.rbench.baselines;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.CompactPlan;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.StepPart;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * StreamingLLM with the reference's positions: keys rotated by their index in the
 * compacted cache (sinks at 0..sink-1, the window after them), the query at the last index.
 *
 * <p>Only the sinks' relative distance to the query differs from original positions: a
 * window key at position q is p - q away from the query at p either way, while a sink j
 * must stay (size - 1 - j) away. So each layer keeps its kept rows in a compact cache
 * (sinks in rows 0..sink-1, the window as a ring after them, the new token overwriting the
 * row of the one it evicts) and after every step re-rotates the sink keys one position
 * forward, in the step's own graph once every layer has attended ({@link SinkShift}; the
 * first time, when the window starts to slide, by {@link AttentionContext#shiftKeys}); window
 * keys and the query keep their original rotation. Until the context exceeds sink + window nothing is evicted and both
 * position modes coincide, so those steps attend the full cache.
 */
public final class StreamingLlmCachePositions implements AttentionPolicy {
    private final int sink;
    private final int window;
    private final String name;
    private AttentionContext context;
    private CompactCache[] caches;
    private boolean materialised;
    private int lastPosition;

    public StreamingLlmCachePositions(int sink, int window, String name) {
        new StreamingWindow(sink, window); // validates
        this.sink = sink;
        this.window = window;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    private int budget() {
        return sink + window;
    }

    @Override
    public void start(AttentionContext context, PrefillStatistics prefill) {
        this.context = context;
        materialiseIfNeeded(prefill.promptEnd());
    }

    /** Before the step at {@code position}: fill the compact caches once the window starts to slide. */
    private void materialiseIfNeeded(int position) {
        if (materialised || position + 1 <= budget()) {
            return;
        }
        int layers = context.hyperParameters().layers();
        int kvHeads = context.hyperParameters().kvHeads();
        caches = new CompactCache[layers];
        // Kept before the new token: sinks [0, sink) and the window's older rows (position - window, position).
        List<AttentionContext.RowCopy> copies = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            caches[l] = context.newCompactCache(budget());
            if (sink > 0) {
                copies.add(new AttentionContext.RowCopy(l, perHead(0, sink, kvHeads), sink, caches[l], 0));
            }
            for (WindowRun run : windowRuns(position)) {
                copies.add(new AttentionContext.RowCopy(l, perHead(run.firstRow(), run.rows(), kvHeads), run.rows(), caches[l],
                        run.firstSlot()));
            }
        }
        context.copyRows(copies);
        shiftSinks(position - budget() + 1);
        materialised = true;
    }

    private int slot(int position) {
        return sink + position % window;
    }

    /** Rows [firstRow, firstRow + rows) of the full cache, kept in slots [firstSlot, firstSlot + rows). */
    record WindowRun(int firstRow, int rows, int firstSlot) {
    }

    /**
     * The window's rows kept before the step at {@code position}, (position - window, position), as runs
     * of rows whose slots follow one another, at most two (the ring wraps once). One copy a run, where a
     * copy a row made 2 x (window - 1) gathers and writes a layer: a start of 4,092 rows at 32 layers took
     * 8.8 s on an H100 (half a million kernels).
     */
    List<WindowRun> windowRuns(int position) {
        List<WindowRun> runs = new ArrayList<>(2);
        for (int q = position - window + 1; q < position; ) {
            int rows = Math.min(position - q, window - q % window);
            runs.add(new WindowRun(q, rows, slot(q)));
            q += rows;
        }
        return runs;
    }

    private static int[] perHead(int first, int count, int kvHeads) {
        int[] rows = new int[count * kvHeads];
        for (int h = 0; h < kvHeads; h++) {
            for (int i = 0; i < count; i++) {
                rows[h * count + i] = first + i;
            }
        }
        return rows;
    }

    private void shiftSinks(int delta) {
        if (sink == 0 || delta == 0) {
            return;
        }
        context.shiftKeys(java.util.List.of(caches), 0, sink, delta);
    }

    /** Planning is the slot's arithmetic; the sinks' shift is part of the step's graph. */
    @Override
    public boolean plansAhead() {
        return true;
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        lastPosition = at.position();
        if (!materialised) {
            return AttentionPlan.full();
        }
        return new Plan(AttentionPlan.compact(caches[at.layer()], slot(at.position()), budget()), sink);
    }

    @Override
    public int[] compactPositions(int layer, int kvHead) {
        return new StreamingWindow(sink, window).kept(lastPosition);
    }

    @Override
    public void endStep(int step, int position, int token) {
        if (!materialised) {
            materialiseIfNeeded(position + 1);
        }
        // else the step's graph has moved the sinks one position forward (SinkShift)
    }

    /**
     * A layer's step once the window slides: attend the compact cache ({@code read}), and have the
     * step's {@link SinkShift} move this cache's sink keys one position forward after every layer
     * has attended.
     */
    record Plan(CompactPlan read, int sink) implements AttentionPlan {
        @Override
        public boolean probabilities() {
            return read.probabilities();
        }

        @Override
        public boolean query() {
            return read.query();
        }

        @Override
        public Plan withProbabilities() {
            return new Plan(read.withProbabilities(), sink);
        }

        @Override
        public Plan withQuery() {
            return new Plan(read.withQuery(), sink);
        }

        @Override
        public int rows(int position) {
            return read.rows(position);
        }

        @Override
        public void check(PlanCheck at) {
            read.check(at);
        }

        @Override
        public Object shape(int position) {
            return List.of(read.shape(position), sink);
        }

        @Override
        public int extraTensors() {
            return read.extraTensors() + 8;
        }

        @Override
        public Tensor ropePosition(PlanGraph g) {
            return read.ropePosition(g.forPart(Plan::read));
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            if (sink > 0) {
                g.stepPart(SinkShift.class, pg -> new SinkShift(pg, sink)).add(read.cache());
            }
            return read.attend(g.forPart(Plan::read));
        }
    }

    /**
     * Every layer's sink keys rotated one position forward, after the last layer has attended
     * (the step read them where they were): per compact cache, rows [0, sink) roped by +1 and
     * written back in place, as {@link AttentionContext#shiftKeys} does in a graph of its own.
     */
    static final class SinkShift implements StepPart {
        private final PlanGraph graph;
        private final Tensor ones;
        private final int sink;
        private final List<CompactCache> caches = new ArrayList<>();

        SinkShift(PlanGraph graph, int sink) {
            this.graph = graph;
            this.sink = sink;
            this.ones = graph.stepInput("sink_shift", GgmlType.I32, (t, p) -> {
                int[] one = new int[sink];
                Arrays.fill(one, 1);
                t.setInts(one);
            }, sink);
        }

        void add(CompactCache cache) {
            caches.add(cache);
        }

        @Override
        public void finish(PlanGraph.Finishing g) {
            for (CompactCache cache : caches) {
                g.expand(cache.rotateKeys(g.ctx(), 0, sink, rows -> graph.rope(rows, ones)));
            }
        }
    }

    @Override
    public void close() {
        if (caches != null) {
            for (CompactCache c : caches) {
                c.close();
            }
        }
    }
}
