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
 * positions (v2: kernel 7; v1: none; {@link TopRows} for windows that reach further forward),
 * and its top K positions fill slots 0..K-1 in
 * descending score order. Every recycled step then {@link #append}s its own token, which
 * stays attended until the next refresh. With {@link Update#EVICT} (v2) a full Cp makes
 * room by dropping each head's lowest-scored refreshed entry; in score order that entry
 * sits in the same slot for every head, so one compact-cache row takes the new token for
 * all heads. With {@link Update#GROW} (v1) Cp grows by the generated tokens.
 *
 * <p>Where the budget covers the context (the refresh selects every row there is), the slots are
 * in position order instead, the new tokens after them: attending Cp is then full attention over
 * the same rows in the same order, bit for bit. Should such a Cp have to evict later, each head
 * drops its own lowest-scored entry, whose slot then differs between heads ({@link #append}
 * returns a slot per head). A selection of fewer rows than there are stays in score order even
 * where it happens to be the first positions: whether the slots are in position order is then
 * known from the row count alone, and a refresh on the device reads nothing back.
 */
public final class RecycledCache {
    /** How Cp takes in the tokens generated between full steps. */
    public enum Update { EVICT, GROW }

    private final int k;
    private final int capacity;
    private final TopRows selection;
    private final Update update;
    private final int kvHeads;
    private final int[][] slotPosition;
    /**
     * Per KV head, the slots of the refreshed entries in descending score order (the last live
     * one goes first); kept only where {@link #slotIsRank} is false.
     */
    private final int[][] slotByScore;
    /**
     * Per KV head, whether slot i holds the refreshed entry of rank i (Cp in score order, the
     * usual case): then {@link #slotByScore} is the identity and is not written, which at
     * 32 layers x 8 KV heads x K=4096 was a million stores on every refresh's critical path.
     */
    private final boolean[] slotIsRank;
    private int live;
    private int generated;
    /**
     * After a refresh on the device: where the positions of slots [0, live) of the heads in
     * score order are (head-major, {@code stride} per head), read only when someone asks which
     * positions Cp holds; null when the host knows every slot.
     */
    private java.util.function.Supplier<int[]> devicePositions;
    private int deviceStride;
    /** Per KV head, whether the positions of its slots are still on the device (read by {@link #fetchDevicePositions}). */
    private final boolean[] onDevice;

    /**
     * @param selection K, the GQA aggregation and the pooling window a refresh scores with
     * @param capacity  slots available (K for EVICT; K plus the longest run of recycled
     *                  steps for GROW); {@link #append} reports when they run out
     */
    public RecycledCache(TopRows selection, int capacity, Update update, int kvHeads) {
        int k = selection.k();
        if (capacity < k) {
            throw new IllegalArgumentException("capacity must be >= K (K=" + k + ", capacity=" + capacity + ")");
        }
        this.k = k;
        this.capacity = capacity;
        this.selection = selection;
        this.update = update;
        this.kvHeads = kvHeads;
        this.slotPosition = new int[kvHeads][capacity];
        this.slotByScore = new int[kvHeads][k];
        this.slotIsRank = new boolean[kvHeads];
        this.onDevice = new boolean[kvHeads];
    }

    /** A cache whose refreshes pool with the symmetric kernel {@code poolKernel}. */
    public RecycledCache(int k, int capacity, int poolKernel, GqaAggregation aggregation, Update update, int kvHeads) {
        this(new TopRows(k, aggregation, poolKernel), capacity, update, kvHeads);
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
        float[][] perKv = selection.aggregation().aggregate(headProbabilities, kvHeads);
        int n = perKv[0].length;
        int[][] selected = new int[kvHeads][];
        for (int h = 0; h < kvHeads; h++) {
            float[] pooled = selection.pool(perKv[h]);
            selected[h] = ScoreSelection.topKByScore(pooled, Math.min(k, n));
        }
        return refreshSelected(selected, n);
    }

    /**
     * Rebuilds Cp from positions already selected (on the device: see
     * org.rbench.core.recycled.TopRows) out of {@code validRows} rows, per KV head in descending
     * score order, the same number for every head and at most K. Returns the slot contents as
     * {@link #refresh}.
     */
    public int[] refreshSelected(int[][] byScore, int validRows) {
        devicePositions = null;
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
            // a covering selection is every position, but where a score cannot be ordered (NaN): then by score, as the
            // device's order flags have it
            slotIsRank[h] = !coversContext(n, validRows) || !selectsEveryPosition(byScore[h]);
            if (slotIsRank[h]) {
                System.arraycopy(byScore[h], 0, slotPosition[h], 0, n);
            } else {
                // position p in slot p: Cp is the cache's first rows in order
                for (int i = 0; i < n; i++) {
                    slotPosition[h][i] = i;
                }
                System.arraycopy(byScore[h], 0, slotByScore[h], 0, n);
            }
            System.arraycopy(slotPosition[h], 0, rows, h * live, live);
        }
        return rows;
    }


    /**
     * Cp refreshed on the device ({@link RefreshPlan} with its {@link RefreshPlan.DeviceCp}):
     * {@code n} slots per KV head, copied into the compact cache there, in the slot order
     * {@link #refreshSelected} gives. {@code positionOrdered[h]} holds head h's positions by score
     * where its slots are in position order (the refresh covered the context), null where they
     * are in score order: those positions stay on the device, {@code positions} reads them
     * (head-major, {@code stride} per head) when {@link #position} or {@link #rows} asks, and
     * must wait for the refresh's compute (this may be told at its launch).
     */
    public void refreshedOnDevice(int n, int[][] positionOrdered, java.util.function.Supplier<int[]> positions, int stride) {
        if (n == 0 || n > k) {
            throw new IllegalArgumentException("a refresh selects 1 to K=" + k + " positions per head, got " + n);
        }
        if (positionOrdered.length != kvHeads) {
            throw new IllegalArgumentException(positionOrdered.length + " selections for " + kvHeads + " KV heads");
        }
        live = n;
        generated = 0;
        for (int h = 0; h < kvHeads; h++) {
            int[] byScore = positionOrdered[h];
            onDevice[h] = byScore == null;
            slotIsRank[h] = byScore == null;
            if (byScore != null) {
                if (byScore.length != n) {
                    throw new IllegalArgumentException("KV head " + h + " selected " + byScore.length + " positions, not " + n);
                }
                for (int i = 0; i < n; i++) {
                    slotPosition[h][i] = i;
                }
                System.arraycopy(byScore, 0, slotByScore[h], 0, n);
            }
        }
        devicePositions = positions;
        deviceStride = stride;
    }

    /**
     * Reads the device's positions of the refreshed slots still in Cp: [0, live) of each head in
     * score order (an eviction takes slot live - 1, whose new token the host wrote).
     */
    private void fetchDevicePositions() {
        if (devicePositions == null) {
            return;
        }
        int[] all = devicePositions.get();
        for (int h = 0; h < kvHeads; h++) {
            if (onDevice[h]) {
                System.arraycopy(all, h * deviceStride, slotPosition[h], 0, live);
            }
        }
        devicePositions = null;
    }

    /**
     * Whether a refresh of {@code n} rows per KV head out of {@code validRows} selects every row, its slots then in
     * position order (the only case: a selection of fewer rows stays in score order).
     */
    public static boolean coversContext(int n, long validRows) {
        if (n < 1 || n > validRows) {
            throw new IllegalArgumentException("a refresh selects 1 to " + validRows + " rows per KV head, not " + n);
        }
        return n == validRows;
    }

    /** Whether distinct positions are exactly 0..n-1. */
    private static boolean selectsEveryPosition(int[] positions) {
        int max = -1;
        for (int p : positions) {
            max = Math.max(max, p);
        }
        return max == positions.length - 1;
    }

    /**
     * A recycled step's own token at {@code position} joins Cp. Returns the slot it goes to
     * in each KV head's part, or null when no slot is left (GROW past its capacity, or every
     * refreshed entry evicted): the caller should do a full step instead.
     */
    public int[] append(int position) {
        int[] slots = new int[kvHeads];
        if (update == Update.EVICT && live + generated >= k && live > 0) {
            // Each head's lowest-scored refreshed entry makes room. In score order that is slot
            // live-1 for every head, just before the generated run, which so stays contiguous.
            live--;
            for (int h = 0; h < kvHeads; h++) {
                slots[h] = slotIsRank[h] ? live : slotByScore[h][live];
            }
        } else {
            int slot = live + generated;
            if (slot >= capacity) {
                return null;
            }
            java.util.Arrays.fill(slots, slot);
        }
        for (int h = 0; h < kvHeads; h++) {
            slotPosition[h][slots[h]] = position;
        }
        generated++;
        return slots;
    }

    /** Slots in use: rows 0..size()-1 of the compact cache. */
    public int size() {
        return live + generated;
    }

    /** The position held in slot {@code slot} for KV head {@code h}. */
    public int position(int h, int slot) {
        fetchDevicePositions();
        return slotPosition[h][slot];
    }

    /** The positions KV head {@code h} attends now, ascending. */
    public int[] rows(int h) {
        fetchDevicePositions();
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
