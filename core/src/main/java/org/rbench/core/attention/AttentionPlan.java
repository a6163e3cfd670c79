package org.rbench.core.attention;

import org.rbench.llamacpp.Tensor;

/**
 * What one layer attends to in one decode step, and the graph piece that reads it. The
 * engine writes the new token's K/V into the full cache before every plan (unless the plan
 * defers that write: {@link #deferredWrite}); a plan chooses
 * which rows the attention reads and builds those reads into the step's graph
 * ({@link #attend}), the way llama.cpp gives each kind of attention input a class of its
 * own. The engine calls a plan only through this interface: a new kind of plan is a new
 * class, wherever it lives (core's {@link FullPlan}, {@link GatherPlan}, {@link CompactPlan},
 * {@link RangesPlan}; Recycled Attention's refresh; H2O's device slots in baselines).
 *
 * <p>Plans are immutable values. Steps whose plans have equal {@link #shape}s reuse one
 * built graph, so everything that varies between such steps must reach the graph through
 * inputs ({@link PlanGraph#input}), which read the plan of the step being computed.
 */
public interface AttentionPlan {

    /**
     * Read the attention probabilities of this layer back after the step ({@link LayerObservation#probabilities()}).
     * False by default: a plan that decides without looking back reads nothing.
     */
    default boolean probabilities() {
        return false;
    }

    /** Read this token's query vectors at this layer back after the step ({@link LayerObservation#query()}); false by default. */
    default boolean query() {
        return false;
    }

    /** This plan with its probabilities read back; a plan that cannot read them says so (the default). */
    default AttentionPlan withProbabilities() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " reads no probabilities back");
    }

    /** This plan with its query read back; a plan that cannot read it says so (the default). */
    default AttentionPlan withQuery() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " reads no query back");
    }

    /** KV rows this plan reads per KV head in a step whose new token is at {@code position} (reports). */
    int rows(int position);

    /**
     * Bytes the piece reads besides the K/V rows it attends, in a step whose new token is at
     * {@code position} (e.g. page bounds it scores, keys it ranks), so that the bytes-moved
     * bound counts everything the method reads. The attended rows are {@link #rows}.
     */
    default long extraBytes(int position, org.rbench.core.model.HyperParameters model, org.rbench.llamacpp.GgmlType cacheType) {
        return 0;
    }

    /** Whether this plan reads every cached row: full attention, counted as a full layer-step. */
    default boolean readsWholeCache() {
        return false;
    }

    /**
     * Checks the plan against the model and the step before any of it reaches ggml, which
     * aborts the JVM on a bad index or shape; throws {@link IllegalArgumentException}.
     */
    default void check(PlanCheck at) {
    }

    /**
     * What fixes this plan's graph piece at a step whose new token is at {@code position}:
     * plans with equal shapes build the same nodes and differ only in input values. Device
     * objects the piece reads (a compact cache, device state) belong here by identity.
     */
    Object shape(int position);

    /**
     * The cache positions KV head {@code kvHead} reads (diagnostics: attention-mass recall),
     * or null when the plan does not know them (the policy is asked then).
     */
    default int[] attendedPositions(int kvHead, int position) {
        return null;
    }

    /** Tensors the piece creates beyond the few every plan needs (the graph's metadata pool is sized from it). */
    default int extraTensors() {
        return 0;
    }

    /**
     * The position input at which this layer's query, and the keys {@link PlanGraph#newKeys()}
     * hands the piece, are rotated; null (the default) for the new token's cache position.
     * Called before {@link #attend}, once per layer.
     */
    default Tensor ropePosition(PlanGraph graph) {
        return null;
    }

    /**
     * Where this step's K/V wait for the full cache, or null (the default): the engine then writes
     * them there before the plan reads. A plan that reads compact caches only may keep the new
     * token's rows in its compact cache instead, promising that they stay there until a later
     * step's plan for this layer reads more (the engine copies them into the full cache first):
     * a decode step then writes one cache instead of two. The engine may write anyway (batched
     * passes, diagnostics); the plan then reads nothing different.
     */
    default DeferredWrite deferredWrite() {
        return null;
    }

    /**
     * Whether the new token's K/V may stay out of the full cache for good: the plan reads only rows it keeps
     * itself, written from the step's new rows ({@link PlanGraph#newKeys}), and nothing of its decode reads the
     * full cache's rows from this step on (H2O's device slots, which evictions overwrite, so that unlike a
     * {@link #deferredWrite} no row is left to copy later). The engine then writes nothing there in a plain
     * decode step, and refuses what would read those rows later (a prefill or decoder continuing the sequence,
     * a snapshot) until the cache is restored, reset or refilled. Diagnostics, which read the whole cache,
     * write as ever. False by default.
     */
    default boolean skipsFullCacheWrite() {
        return false;
    }

    /** Builds this layer's attention reads into the step graph: the K and V rows attended, and their mask. */
    AttendedRows attend(PlanGraph graph);

    // ---- the plans core offers ----

    /** Attend to every cached row [0, position]. */
    static FullPlan full() {
        return FullPlan.PLAIN;
    }

    /**
     * Attend to explicit rows of the full cache, chosen per KV head: {@code rows} holds
     * {@code kvHeads} blocks of {@code rowsPerHead} cache positions (head-major). The new
     * token's row (its position) must be among them if the policy wants it attended.
     */
    static GatherPlan gather(int rowsPerHead, int[] rows) {
        return GatherPlan.host(rowsPerHead, rows);
    }

    /** Attend to the rows held in a device tensor the policy keeps (no host transfer per step). */
    static GatherPlan gather(RowIndices deviceRows) {
        return GatherPlan.device(deviceRows);
    }

    /**
     * Attend to rows [0, rows) of a policy-owned compact cache, after the engine has
     * written the new token's K/V at row {@code newTokenRow} of it (which must be below
     * {@code rows}).
     */
    static CompactPlan compact(CompactCache cache, int newTokenRow, int rows) {
        return new CompactPlan(cache, new int[] {newTokenRow}, rows, -1, false, false, false);
    }

    /** {@link #compact(CompactCache, int, int)} with the new token at its own row in each KV head's part. */
    static CompactPlan compact(CompactCache cache, int[] newTokenRowPerKvHead, int rows) {
        return new CompactPlan(cache, newTokenRowPerKvHead.clone(), rows, -1, false, false, false);
    }

    /**
     * Attend to ranges [start, end) of the full cache, the same for every head (e.g. the
     * attention sinks plus a recent window). One range is a zero-copy view; several are
     * joined into one contiguous block.
     */
    static RangesPlan ranges(int[] starts, int[] ends) {
        return new RangesPlan(starts.clone(), ends.clone(), false, false);
    }
}
