package org.rbench.baselines;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillStatistics;

import java.util.ArrayList;
import java.util.List;

/**
 * StreamingLLM with the reference's positions: keys rotated by their index in the
 * compacted cache (sinks at 0..sink-1, the window after them), the query at the last index.
 *
 * <p>Only the sinks' relative distance to the query differs from original positions: a
 * window key at position q is p - q away from the query at p either way, while a sink j
 * must stay (size - 1 - j) away. So each layer keeps its kept rows in a compact cache
 * (sinks in rows 0..sink-1, the window as a ring after them, the new token overwriting the
 * row of the one it evicts) and before every step re-rotates the sink keys one position
 * forward ({@link AttentionContext#shiftKeys}); window keys and the query keep their
 * original rotation. Until the context exceeds sink + window nothing is evicted and both
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
            for (int q = position - window + 1; q < position; q++) {
                copies.add(new AttentionContext.RowCopy(l, perHead(q, 1, kvHeads), 1, caches[l], slot(q)));
            }
        }
        context.copyRows(copies);
        shiftSinks(position - budget() + 1);
        materialised = true;
    }

    private int slot(int position) {
        return sink + position % window;
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


    @Override
    public AttentionPlan plan(LayerStep at) {
        lastPosition = at.position();
        if (!materialised) {
            return AttentionPlan.full();
        }
        return AttentionPlan.compact(caches[at.layer()], slot(at.position()), budget());
    }

    @Override
    public int[] compactPositions(int layer, int kvHead) {
        return new StreamingWindow(sink, window).kept(lastPosition);
    }

    @Override
    public void endStep(int step, int position, int token) {
        if (materialised) {
            shiftSinks(1);
        } else {
            materialiseIfNeeded(position + 1);
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
