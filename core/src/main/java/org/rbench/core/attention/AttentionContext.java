package org.rbench.core.attention;

import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GgmlType;

import java.util.List;

/** What the engine offers a policy: sizes, and device-side cache operations. */
public interface AttentionContext {
    HyperParameters hyperParameters();

    Backend backend();

    /** Whether the engine runs on a GPU, where a host round trip per step costs (policies choosing where to decide). */
    default boolean onGpu() {
        return !backend().isCpu();
    }

    /** Rows of the full cache (the engine's context size). */
    int cacheCapacity();

    GgmlType cacheType();

    /** Tokens in the full cache now (the position the next token gets). */
    int position();

    /** A compact cache for one layer, on the engine's backend, in the cache type. */
    default CompactCache newCompactCache(int capacity) {
        return newCompactCache(capacity, 0);
    }

    /** {@link #newCompactCache(int)} with {@code spareRows} rows past its capacity ({@link CompactCache#spareRows}). */
    CompactCache newCompactCache(int capacity, int spareRows);

    /**
     * A compact cache for each of the model's layers, all of {@code capacity} rows and {@code spareRows} spare, in
     * one {@link CompactCache.Stack} (so that one op can fill every layer's): handed back by an earlier decode on
     * this engine ({@link #reuse}), or new.
     */
    default CompactCache.Stack newCompactCaches(int capacity, int spareRows) {
        HyperParameters hp = hyperParameters();
        return reuse(List.of(CompactCache.Stack.class, capacity, spareRows), CompactCache.Stack.class,
                () -> CompactCache.Stack.allocate(backend(), hp.headDim(), hp.kvHeads(), hp.layers(), capacity, spareRows,
                        cacheType()));
    }

    /** Device row indices for GATHER plans, bounded by the cache capacity. */
    RowIndices newRowIndices(int rowsPerHead);

    /**
     * A policy's device state for this decode: one that an earlier decode on this engine handed
     * back under an equal {@code key} ({@link ReusableState#close}), or else {@code make}'s, so
     * that the step graphs naming it are reused ({@link ReusableState}). The key names whatever
     * the state's shape depends on besides the engine's model and cache (which never change on
     * one engine), its class first. Without a pool (the default) every call makes a new one.
     */
    default <T extends ReusableState> T reuse(Object key, Class<T> type, java.util.function.Supplier<T> make) {
        return make.get();
    }


    /**
     * One copy of full-cache rows into a compact cache: for each KV head h, rows
     * {@code sourceRows[h * count .. (h + 1) * count)} of layer {@code layer} go to rows
     * {@code targetRow .. targetRow + count} of {@code target}.
     */
    record RowCopy(int layer, int[] sourceRows, int count, CompactCache target, int targetRow) {
    }

    /** Runs the copies in one graph on the device (K and V both). */
    void copyRows(List<RowCopy> copies);

    default void copyRows(int layer, int[] sourceRows, int count, CompactCache target, int targetRow) {
        copyRows(List.of(new RowCopy(layer, sourceRows, count, target, targetRow)));
    }

    /**
     * Re-rotates the keys in rows [fromRow, fromRow + count) of a compact cache as if their
     * positions moved by {@code delta} (RoPE rotations compose: R(p + d) = R(d) R(p)), the
     * way llama.cpp shifts its cache. Lets a policy give kept tokens their index in its
     * cache as position (StreamingLLM's reference behaviour). The full cache is shared by
     * every run from a snapshot, so it is never shifted.
     */
    void shiftKeys(CompactCache cache, int fromRow, int count, int delta);

    /**
     * Builds a graph over the full cache and computes it once, now: work a policy does when it
     * starts, from what the prefill left in the cache (Quest's page bounds). The piece adds its
     * nodes reading the full cache's layers (rows [0, {@link #position()}) hold tokens) and
     * writing the policy's own tensors; at most {@code maxTensors} tensors (ggml aborts past its
     * metadata pool). The graph is not kept: for work done once per run, not per step.
     */
    default void computeOverCache(CachePiece piece, int maxTensors) {
        computeOverCache(piece, maxTensors, () -> { });
    }

    /**
     * {@link #computeOverCache(CachePiece, int)}, then {@code readOutputs} while the graph's
     * tensors still hold their values: its intermediate tensors (outputs the piece marked, read
     * back to the host) live in memory freed when this returns.
     */
    void computeOverCache(CachePiece piece, int maxTensors, Runnable readOutputs);

    /**
     * Every layer's full-cache keys and values, one tensor each {@code [headDim, capacity, kvHeads, layers]} whose
     * slice l is layer l's (org.rbench.core.engine.KvCache), so that a {@link #computeOverCache} piece can read every
     * layer's rows with one op; null (the default) where the layers lie apart.
     */
    default org.rbench.llamacpp.Tensor[] cacheOfEveryLayer() {
        return null;
    }

    /** A graph piece over the full cache ({@link #computeOverCache}). */
    interface CachePiece {
        /** Adds the nodes to {@code ctx}; {@code keys} and {@code values} give a layer's full-cache tensors. */
        void build(org.rbench.llamacpp.GgmlContext ctx, java.util.function.IntFunction<org.rbench.llamacpp.Tensor> keys,
                   java.util.function.IntFunction<org.rbench.llamacpp.Tensor> values,
                   java.util.function.Consumer<org.rbench.llamacpp.Tensor> expand);
    }

    /** {@link #shiftKeys} for the same rows of several caches (e.g. every layer's) at once. */
    default void shiftKeys(java.util.List<CompactCache> caches, int fromRow, int count, int delta) {
        for (CompactCache c : caches) {
            shiftKeys(c, fromRow, count, delta);
        }
    }
}
