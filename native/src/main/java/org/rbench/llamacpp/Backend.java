package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** An initialised ggml backend (one device): computes graphs, owns nothing else. */
public final class Backend implements AutoCloseable {
    private MemorySegment backend;
    private final MemorySegment device;
    private int threads;
    /** The CPU backend's threadpool, made by setThreads (null on other backends and before). */
    private CpuThreadpool threadpool;
    /** {@link #flashAttentionWritesScores}, asked once. */
    private Boolean writesScores;
    /** {@link #flashAttentionReadsGatheredRows}, asked once. */
    private Boolean readsGathered;
    private java.util.OptionalInt stableSortFrom;
    private java.util.OptionalInt topKColumnOrderFrom;
    /** What gives memory of this device back when an allocation fails ({@link #reclaimMemory}). */
    private final java.util.List<java.util.function.BooleanSupplier> reclaimers = new java.util.concurrent.CopyOnWriteArrayList<>();

    Backend(MemorySegment backend, MemorySegment device) {
        this.backend = backend;
        this.device = device;
    }

    public MemorySegment address() {
        if (backend == null) {
            throw new IllegalStateException("backend is closed");
        }
        return backend;
    }

    public String name() {
        return Bindings.string(GgmlBackend.ggml_backend_name(address()));
    }

    /** Lower-case registry name: cpu, cuda, metal, ... */
    public String kind() {
        return Bindings.string(GgmlBackend.ggml_backend_reg_name(GgmlBackend.ggml_backend_dev_backend_reg(device)))
                .toLowerCase(java.util.Locale.ROOT);
    }

    public boolean isCpu() {
        return DeviceInfo.kindOf(GgmlBackend.ggml_backend_dev_type(device)) == DeviceInfo.Kind.CPU;
    }

    public String deviceDescription() {
        return Bindings.string(GgmlBackend.ggml_backend_dev_description(device));
    }

    public MemorySegment device() {
        return device;
    }

    /**
     * Bytes of the device's memory in use now (total minus free, as the driver reports it:
     * every process and allocator on the device, this one's CUDA context included). ggml's
     * GPU pools keep what they once took, so within a run this only grows: a high-water mark.
     * For the CPU backend ggml reports host memory, which says nothing about this process.
     */
    public long memoryUsedBytes() {
        long[] freeAndTotal = memoryFreeAndTotal();
        return freeAndTotal[1] - freeAndTotal[0];
    }

    /** Bytes of the device's memory free now, as the driver reports it (for the CPU backend: the host's). */
    public long memoryFreeBytes() {
        return memoryFreeAndTotal()[0];
    }

    /** Bytes of the device's memory in all, as the driver reports it (for the CPU backend: the host's). */
    public long memoryTotalBytes() {
        return memoryFreeAndTotal()[1];
    }

    /** ggml_backend_dev_memory's two answers: the device's free bytes, then its total. */
    private long[] memoryFreeAndTotal() {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment free = arena.allocate(java.lang.foreign.ValueLayout.JAVA_LONG);
            MemorySegment total = arena.allocate(java.lang.foreign.ValueLayout.JAVA_LONG);
            GgmlBackend.ggml_backend_dev_memory(device, free, total);
            return new long[] {free.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0), total.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0)};
        }
    }

    /**
     * Registers what can give this device's memory back on demand: memory kept for speed, not needed (an engine's
     * cached step graphs). An allocation on this backend that fails asks every one of them ({@link #reclaimMemory})
     * and tries once more, so that keeping such memory never turns into an out-of-memory error elsewhere.
     *
     * @param reclaimer frees what it keeps; true where it freed anything
     */
    public void addMemoryReclaimer(java.util.function.BooleanSupplier reclaimer) {
        reclaimers.add(java.util.Objects.requireNonNull(reclaimer));
    }

    public void removeMemoryReclaimer(java.util.function.BooleanSupplier reclaimer) {
        reclaimers.remove(reclaimer);
    }

    /** How many reclaimers are registered ({@link #addMemoryReclaimer}). */
    public int memoryReclaimers() {
        return reclaimers.size();
    }

    /**
     * Whether this backend's default buffer type places any context's tensors in one buffer (no maximum buffer size: the
     * CPU's, CUDA's). Only then may a failed {@code ggml_backend_alloc_ctx_tensors} be retried: with several buffers a
     * failure frees the earlier ones but leaves their tensors pointing into them, and a retry would skip those tensors.
     */
    public boolean allocatesInOneBuffer() {
        return GgmlBackend.ggml_backend_buft_get_max_size(defaultBufferType()) == -1L;
    }

    /** Asks every registered reclaimer to give its memory back; true where any freed something (worth a retry). */
    public boolean reclaimMemory() {
        boolean freed = false;
        for (java.util.function.BooleanSupplier r : reclaimers) {
            freed |= r.getAsBoolean();
        }
        return freed;
    }

    /** Puts this CPU backend's pool to sleep until its next graph ({@link CpuThreadpool#pause}); nothing elsewhere. */
    public void pauseThreads() {
        if (threadpool != null) {
            threadpool.pause();
        }
    }

    public int threads() {
        return threads;
    }

    /**
     * Sets the thread count through the registry's "ggml_backend_set_n_threads" entry
     * point (CPU backends have one; GPU backends ignore threads), and gives a CPU backend a
     * threadpool of that many threads that lives as long as the backend ({@link CpuThreadpool}:
     * without it every graph starts and joins its own threads).
     */
    public void setThreads(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("threads must be positive: " + n);
        }
        MemorySegment reg = GgmlBackend.ggml_backend_dev_backend_reg(device);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fn = GgmlBackend.ggml_backend_reg_get_proc_address(reg, arena.allocateFrom("ggml_backend_set_n_threads"));
            if (!fn.equals(MemorySegment.NULL)) {
                MethodHandle h = NativeLibraries.functionAt(fn, FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
                h.invokeExact(address(), n);
                threads = n;
                if (isCpu() && (threadpool == null || threadpool.threads() != n)) {
                    // attach the new pool before it replaces the old one: a failure leaves the old one attached
                    CpuThreadpool fresh = CpuThreadpool.create(n);
                    try {
                        fresh.attachTo(this);
                    } catch (Throwable t) {
                        fresh.close();
                        throw t;
                    }
                    CpuThreadpool old = threadpool;
                    threadpool = fresh;
                    if (old != null) {
                        old.close();
                    }
                }
            }
        } catch (Throwable t) {
            throw Bindings.rethrow(t);
        }
    }

    /**
     * Whether this backend's flash attention writes its logits into a scores tensor ({@link
     * GgmlContext#flashAttnExtScoring}): the suite's CUDA build does (native/patches/ggml-cuda-fa-scores.diff,
     * which registers the marker "rbench_flash_attn_ext_scores"); stock and prebuilt builds do not.
     */
    public boolean flashAttentionWritesScores() {
        if (writesScores == null) {
            writesScores = registersMarker("rbench_flash_attn_ext_scores");
        }
        return writesScores;
    }

    /**
     * Whether this backend's flash attention reads rows gathered out of an F16 cache where the cache holds them,
     * leaving the gather uncomputed (a get_rows that only flash attention reads, {@code CacheRows.gather}): the
     * suite's CUDA build does (native/patches/ggml-cuda-vec-reads-gathered-rows.diff, which registers the marker
     * "rbench_flash_attn_ext_gathered"); stock and prebuilt builds do not.
     */
    public boolean flashAttentionReadsGatheredRows() {
        if (readsGathered == null) {
            readsGathered = registersMarker("rbench_flash_attn_ext_gathered");
        }
        return readsGathered;
    }

    /**
     * The row length from which this backend's argsort keeps equal keys in their order (a stable sort), or empty
     * where no length is known to: the suite's CUDA build sorts rows longer than 1,024 columns with CUB's segmented
     * radix sort (native/patches/ggml-cuda-stable-argsort.diff, which registers the marker "rbench_argsort_stable"),
     * shorter ones with a bitonic sort that is not stable; stock ggml-cuda's sort outside a captured graph, and
     * ggml-cpu's std::sort, are not guaranteed to be stable either.
     */
    public java.util.OptionalInt stableArgsortFrom() {
        if (stableSortFrom == null) {
            stableSortFrom = registersMarker("rbench_argsort_stable") ? java.util.OptionalInt.of(1025) : java.util.OptionalInt.empty();
        }
        return stableSortFrom;
    }

    /**
     * The row length from which this backend's top_k writes the chosen columns in column order: those above the cut
     * (the k-th largest value) in ascending column order, then those at it, lowest column first, so that a stable
     * sort by value of its output orders ties by column. Empty where it may not: the suite's CUDA build does for rows
     * longer than 1,024 columns (native/patches/ggml-cuda-top-k-column-order.diff, which registers the marker
     * "rbench_top_k_column_order"); stock ggml-cuda's multi-block select places them in the order its atomics take,
     * and ggml-cpu's partial sort by value.
     */
    public java.util.OptionalInt topKColumnOrderFrom() {
        if (topKColumnOrderFrom == null) {
            topKColumnOrderFrom = registersMarker("rbench_top_k_column_order") ? java.util.OptionalInt.of(1025)
                    : java.util.OptionalInt.empty();
        }
        return topKColumnOrderFrom;
    }

    /**
     * The KV rows from which this backend decodes with flash attention's tensor-core kernel ({@link TensorCoreDecode}):
     * only the suite's CUDA build reads the setting (its patches register the flash-attention scores marker); empty
     * for stock's choice and for every other backend.
     *
     * @throws IllegalArgumentException where the setting applies and is not a whole number
     */
    public java.util.OptionalLong flashAttentionTensorCoreFrom() {
        return "cuda".equals(kind()) && flashAttentionWritesScores() ? TensorCoreDecode.fromEnvironment()
                : java.util.OptionalLong.empty();
    }

    /** Whether this GPU backend's registry answers {@code get_proc_address(marker)}: a suite patch's sign that it is built in. */
    private boolean registersMarker(String marker) {
        MemorySegment reg = GgmlBackend.ggml_backend_dev_backend_reg(device);
        try (Arena arena = Arena.ofConfined()) {
            return !isCpu() && !GgmlBackend.ggml_backend_reg_get_proc_address(reg, arena.allocateFrom(marker)).equals(MemorySegment.NULL);
        }
    }

    /** Whether this backend computes {@code op} as built (its type, shapes and sources): ggml_backend_supports_op. */
    public boolean supportsOp(Tensor op) {
        return GgmlBackend.ggml_backend_supports_op(address(), op.address());
    }

    /** Runs the graph; its tensors must have been allocated (GraphAllocator / buffers). */
    public void compute(ComputeGraph graph) {
        int status = GgmlBackend.ggml_backend_graph_compute(address(), graph.address());
        if (status != 0) {
            throw new NativeCallException("ggml_backend_graph_compute failed with status " + status + " on " + name()
                    + "." + NativeLog.tail(5));
        }
    }

    /**
     * Starts the graph and returns without waiting for it on a backend with a stream (a GPU):
     * what the host queues next on this backend (uploads, read-backs, graphs) runs after it.
     * The CPU backend computes before it returns. Wait with {@link #synchronize} or a
     * {@link BackendEvent} recorded after it.
     */
    public void computeAsync(ComputeGraph graph) {
        int status = GgmlBackend.ggml_backend_graph_compute_async(address(), graph.address());
        if (status != 0) {
            throw new NativeCallException("ggml_backend_graph_compute_async failed with status " + status + " on "
                    + name() + "." + NativeLog.tail(5));
        }
    }

    public void synchronize() {
        GgmlBackend.ggml_backend_synchronize(address());
    }

    /** A new event on this backend's stream (see {@link BackendEvent}); close it before the backend. */
    public BackendEvent newEvent() {
        return new BackendEvent(this);
    }

    /**
     * The device's host buffer type (pinned memory, which a GPU copies from at full speed),
     * or null when the device has none (the CPU).
     */
    public MemorySegment hostBufferType() {
        MemorySegment t = GgmlBackend.ggml_backend_dev_host_buffer_type(device);
        return t.equals(MemorySegment.NULL) ? null : t;
    }

    /** The backend's default buffer type (device memory). */
    public MemorySegment defaultBufferType() {
        return GgmlBackend.ggml_backend_get_default_buffer_type(address());
    }

    @Override
    public void close() {
        if (backend != null) {
            GgmlBackend.ggml_backend_free(backend);
            backend = null;
        }
        if (threadpool != null) {
            threadpool.close(); // after the backend, which computed on it
            threadpool = null;
        }
    }
}
