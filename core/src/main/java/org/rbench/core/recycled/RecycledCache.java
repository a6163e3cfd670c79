package org.rbench.core.recycled;

import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.ScoreSelection;

import java.util.Arrays;

/**
 * Cp of Recycled Attention / RefreshKV for one layer: which cache positions each KV head
 * attends on recycled steps, laid out in slots (the rows of the policy's compact cache).
 *
 * <p>A full step (or the prefill) {@link #refresh}es Cp from that step's attention
 * probabilities: each KV head's query-head group is aggregated, max-pooled along
 * positions (v2: kernel 7; v1: none), and its top K positions fill slots 0..K-1 in
 * descending score order. Every recycled step then {@link #append}s its own token, which
 * stays attended until the next refresh. With {@link Update#EVICT} (v2) a full Cp makes
 * room by dropping each head's lowest-scored refreshed entry; because slots are sorted by
 * score, that entry sits in the same slot for every head, so one compact-cache row takes
 * the new token for all heads. With {@link Update#GROW} (v1) Cp grows by the generated
 * tokens.
 */
public final class RecycledCache {
    /** How Cp takes in the tokens generated between full steps. */
    public enum Update { EVICT, GROW }

    private final int k;
    private final int capacity;
    private final int poolKernel;
    private final GqaAggregation aggregation;
    private final Update update;
    private final int kvHeads;
    private final int[][] slotPosition;
    private int live;
    private int generated;

    /**
     * @param capacity slots available (K for EVICT; K plus the longest run of recycled
     *                 steps for GROW); {@link #append} reports when they run out
     */
    public RecycledCache(int k, int capacity, int poolKernel, GqaAggregation aggregation, Update update, int kvHeads) {
        if (k <= 0 || capacity < k) {
            throw new IllegalArgumentException("budget K must be positive and capacity >= K (K=" + k + ", capacity=" + capacity + ")");
        }
        this.k = k;
        this.capacity = capacity;
        this.poolKernel = poolKernel;
        this.aggregation = aggregation;
        this.update = update;
        this.kvHeads = kvHeads;
        this.slotPosition = new int[kvHeads][capacity];
    }

    public RecycledCache(int k, int poolKernel, GqaAggregation aggregation, Update update, int kvHeads) {
        this(k, update == Update.EVICT ? k : k + 4096, poolKernel, aggregation, update, kvHeads);
    }

    /**
     * Rebuilds Cp from a full step's attention probabilities [queryHeads][positions]
     * (positions 0..n-1, the current token included). Returns the slot contents,
     * head-major ({@code kvHeads} blocks of {@link #size()} positions), for copying the
     * rows into the compact cache.
     */
    public int[] refresh(float[][] headProbabilities) {
        float[][] perKv = aggregation.aggregate(headProbabilities, kvHeads);
        int n = perKv[0].length;
        int[][] selected = new int[kvHeads][];
        for (int h = 0; h < kvHeads; h++) {
            float[] pooled = ScoreSelection.maxPool(perKv[h], poolKernel);
            selected[h] = ScoreSelection.topKByScore(pooled, Math.min(k, n));
        }
        return refreshSelected(selected);
    }

    /**
     * Rebuilds Cp from positions already selected (on the device: see
     * org.rbench.core.recycled.TopRows), per KV head in descending score order, the same
     * number for every head and at most K. Returns the slot contents as {@link #refresh}.
     */
    public int[] refreshSelected(int[][] byScore) {
        if (byScore.length != kvHeads) {
            throw new IllegalArgumentException(byScore.length + " selections for " + kvHeads + " KV heads");
        }
        int n = byScore[0].length;
        if (n == 0 || n > k) {
            throw new IllegalArgumentException("a refresh selects 1 to K=" + k + " positions per head, got " + n);
        }
        live = n;
        generated = 0;
        int[] rows = new int[kvHeads * live];
        for (int h = 0; h < kvHeads; h++) {
            if (byScore[h].length != n) {
                throw new IllegalArgumentException("KV head " + h + " selected " + byScore[h].length + " positions, head 0 " + n);
            }
            System.arraycopy(byScore[h], 0, slotPosition[h], 0, live);
            System.arraycopy(byScore[h], 0, rows, h * live, live);
        }
        return rows;
    }


    /**
     * A recycled step's own token at {@code position} joins Cp. Returns the slot it goes
     * to (the same for every head), or -1 when no slot is left (GROW past its capacity, or
     * every refreshed entry evicted): the caller should do a full step instead.
     */
    public int append(int position) {
        int slot;
        if (update == Update.EVICT && live + generated >= k && live > 0) {
            // Slots: refreshed entries [0, live) by descending score, then the generated run.
            // The lowest-scored refreshed entry (slot live-1) sits just before that run, so the
            // new token takes its slot and the run stays contiguous without moving any row.
            live--;
            slot = live;
        } else {
            slot = live + generated;
        }
        if (slot >= capacity) {
            return -1;
        }
        for (int h = 0; h < kvHeads; h++) {
            slotPosition[h][slot] = position;
        }
        generated++;
        return slot;
    }

    /** Slots in use: rows 0..size()-1 of the compact cache. */
    public int size() {
        return live + generated;
    }

    /** The position held in slot {@code slot} for KV head {@code h}. */
    public int position(int h, int slot) {
        return slotPosition[h][slot];
    }

    /** The positions KV head {@code h} attends now, ascending. */
    public int[] rows(int h) {
        int[] out = Arrays.copyOf(slotPosition[h], size());
        Arrays.sort(out);
        return out;
    }

    public int budget() {
        return k;
    }

    public int capacity() {
        return capacity;
    }
}
