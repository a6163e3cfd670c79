package org.rbench.core.recycled;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.TopRows;
import org.rbench.core.select.GqaAggregation;
import org.rbench.core.select.RecycledCache;
import org.rbench.core.select.Schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * Recycled Attention (Xu, Goyal, Choi 2024) / RefreshKV: full steps attend the whole
 * cache and refresh Cp, a per-layer compact cache of the top-K positions per KV head;
 * recycled steps attend Cp only, so the bytes they read are K rows, not the context.
 *
 * <p>Steps are counted as in the paper: step 0 is the token the prefill produced (a full
 * step: the prefill attended everything and initialised Cp from the last prompt token's
 * attention); decode step {@code s} of the engine is step {@code s + 1} here.
 * When Cp has no free slot (GROW past its capacity, or EVICT with every refreshed entry
 * gone) the layer does a full step instead, which refreshes Cp.
 */
public final class RecycledAttention implements AttentionPolicy {
    /** Everything that defines a Recycled Attention run. */
    public record Config(int k, Schedule schedule, String scheduleLabel, int poolKernel, GqaAggregation aggregation,
                         RecycledCache.Update update, int capacity) {
    }

    private final Config config;
    private final String name;
    private RecycledCache[] cps;
    private CompactCache[] compacts;
    private AttentionContext context;
    private final List<AttentionContext.RowCopy> pending = new ArrayList<>();
    private long recycledLayerSteps;
    private long fullLayerSteps;

    public RecycledAttention(Config config, String name) {
        this.config = config;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PrefillRequest prefillRequest() {
        return new PrefillRequest(1, false, config.schedule().needsQueries());
    }

    @Override
    public void start(AttentionContext context, PrefillStatistics prefill) {
        this.context = context;
        int layers = context.hyperParameters().layers();
        int kvHeads = context.hyperParameters().kvHeads();
        cps = new RecycledCache[layers];
        compacts = new CompactCache[layers];
        for (int l = 0; l < layers; l++) {
            AttentionProbabilities last = prefill.lastRows(l);
            if (last == null) {
                throw new IllegalStateException("the prefill did not return the last token's attention for layer " + l);
            }
            cps[l] = new RecycledCache(config.k(), config.capacity(), config.poolKernel(), config.aggregation(),
                    config.update(), kvHeads);
            compacts[l] = context.newCompactCache(config.capacity());
            refresh(l, last);
            if (config.schedule().needsQueries()) {
                config.schedule().onFullStep(l, prefill.lastQuery(l).meanBeforeRope());
            }
        }
        flushCopies();
    }

    /**
     * Cp from the attention row of the newest query (the last row of {@code probs}). The
     * row is cut to the cache positions that exist (0..query position): the engine may
     * attend a padded number of rows, and pooling would otherwise spread the newest
     * token's score onto masked rows past it.
     */
    private void refresh(int layer, AttentionProbabilities probs) {
        int heads = probs.heads();
        int q = probs.queries() - 1;
        int valid = probs.firstQueryPosition() + q + 1;
        float[][] rows = new float[heads][];
        for (int h = 0; h < heads; h++) {
            rows[h] = java.util.Arrays.copyOf(probs.row(h, q), valid);
        }
        copyInto(layer, cps[layer].refresh(rows));
    }

    /** Queues the copy of a refreshed Cp's rows into the layer's compact cache (run at the step's end). */
    private void copyInto(int layer, int[] slots) {
        pending.add(new AttentionContext.RowCopy(layer, slots, cps[layer].size(), compacts[layer], 0));
    }

    @Override
    public boolean needsQueryBeforePlanning(int step) {
        // Only the check steps of a similarity schedule need the query before planning.
        return config.schedule().needsQueries() && config.schedule().isFullStepCandidate(step + 1);
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        int step = at.step() + 1;
        float[] meanQuery = at.query() == null ? null : at.query().meanBeforeRope();
        if (!config.schedule().isFullStep(step, at.layer(), meanQuery)) {
            int slot = cps[at.layer()].append(at.position());
            if (slot >= 0) {
                recycledLayerSteps++;
                return AttentionPlan.compact(compacts[at.layer()], slot, cps[at.layer()].size());
            }
        }
        fullLayerSteps++;
        // Cp is selected on the device: only K + pool positions per KV head come back, not
        // heads x context probabilities (at 128K that is the difference between 4 KB and
        // 16 MB per layer, and a host sort of the whole context per KV head).
        AttentionPlan full = AttentionPlan.full()
                .withTopRows(new TopRows(config.k(), config.aggregation(), config.poolKernel()));
        return config.schedule().needsQueries() ? full.withQuery() : full;
    }

    @Override
    public void observe(LayerObservation observation) {
        int layer = observation.layer();
        if (observation.topRows() != null) {
            copyInto(layer, cps[layer].refreshSelected(observation.topRows()));
        } else if (observation.probabilities() != null) {
            refresh(layer, observation.probabilities());
        } else {
            return;
        }
        if (config.schedule().needsQueries() && observation.query() != null) {
            config.schedule().onFullStep(observation.layer(), observation.query().meanBeforeRope());
        }
    }

    @Override
    public void endStep(int step, int position, int token) {
        flushCopies();
    }

    private void flushCopies() {
        if (!pending.isEmpty()) {
            context.copyRows(List.copyOf(pending));
            pending.clear();
        }
    }

    /** Layer-steps that attended Cp only, and that attended the whole cache. */
    public long recycledLayerSteps() {
        return recycledLayerSteps;
    }

    public long fullLayerSteps() {
        return fullLayerSteps;
    }

    @Override
    public int[] compactPositions(int layer, int kvHead) {
        RecycledCache cp = cps[layer];
        int[] out = new int[cp.size()];
        for (int slot = 0; slot < out.length; slot++) {
            out[slot] = cp.position(kvHead, slot);
        }
        return out;
    }

    /** Positions KV head h of a layer attends on its next recycled step (diagnostics, tests). */
    public int[] cpRows(int layer, int kvHead) {
        return cps[layer].rows(kvHead);
    }

    @Override
    public void close() {
        if (compacts != null) {
            for (CompactCache c : compacts) {
                if (c != null) {
                    c.close();
                }
            }
        }
    }
}
