package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;

/**
 * Uploads queued on a GPU backend's stream instead of each waiting for its copy: while
 * {@link #run} fills a graph's inputs, {@link Tensor#write} (and so {@code setInts} and its kind)
 * copies the data into this object's pinned staging memory and enqueues the copy with
 * {@code ggml_backend_tensor_set_async}; the graph computed next on the same stream reads them
 * in order. A plain {@code ggml_backend_tensor_set} on CUDA is a copy and a stream synchronize,
 * 10-20 microseconds each, and a decode step fills four or more inputs.
 *
 * <p>Each write gets its own slice of one half of the staging memory; the runs take turns with
 * the halves, and a run first waits (on an event recorded after the copies it queued) for the
 * copies of the run before last, which used its half. So a run need not wait for the graph the
 * last run fed: the host can fill the next step's inputs while a step computes. A write that does not fit, or whose
 * tensor is not in the backend's own device memory (ggml asserts that), is made synchronously,
 * as outside {@link #run}, once the backend has finished everything queued before it. On the CPU backend
 * there is nothing to queue: make none there. The compute that follows includes the copies' time.
 */
public final class QueuedUploads implements AutoCloseable {
    private static final ThreadLocal<QueuedUploads> ACTIVE = new ThreadLocal<>();
    /** Slices start at this alignment. */
    private static final long ALIGN = 64;

    private final Backend backend;
    private final MemorySegment deviceBufferType;
    private final HostBlock block;
    /** The two halves of the staging memory, and per half an event after its last run's copies. */
    private final MemorySegment[] halves;
    private final BackendEvent[] landed;
    private int half;
    private MemorySegment staging;
    private long used;

    /**
     * Staging of {@code bytes} in the backend device's pinned host memory; throws
     * IllegalArgumentException for a backend without such memory (the CPU).
     */
    public QueuedUploads(Backend backend, long bytes) {
        this(backend, backend.hostBufferType(), backend.defaultBufferType(), bytes);
        if (backend.isCpu()) {
            close();
            throw new IllegalArgumentException("the CPU backend has no stream to queue uploads on");
        }
    }

    /**
     * Staging in buffer type {@code stagingType}, queuing writes to tensors of buffer type
     * {@code deviceType} (tests: the CPU's types stand in for pinned and device memory).
     */
    QueuedUploads(Backend backend, MemorySegment stagingType, MemorySegment deviceType, long bytes) {
        if (stagingType == null) {
            throw new IllegalArgumentException(backend.name() + " has no pinned host memory: uploads there are plain copies");
        }
        this.backend = backend;
        this.deviceBufferType = deviceType;
        block = new HostBlock(stagingType, bytes, "queued_uploads");
        MemorySegment all = block.memory();
        halves = new MemorySegment[] {all.asSlice(0, bytes / 2), all.asSlice(bytes / 2, bytes / 2)};
        landed = new BackendEvent[] {backend.newEvent(), backend.newEvent()};
        staging = halves[0];
    }

    /** Runs {@code fill}, its tensor writes on this thread queued on the backend's stream. */
    public void run(Runnable fill) {
        half ^= 1;
        landed[half].synchronize(); // the copies of the run before last have read this half
        staging = halves[half];
        used = 0;
        QueuedUploads outer = ACTIVE.get();
        ACTIVE.set(this);
        try {
            fill.run();
        } finally {
            ACTIVE.set(outer);
            landed[half].record();
        }
    }

    /** The half of the staging memory the current (or last) run writes (tests). */
    int half() {
        return half;
    }

    /** Bytes of the staging memory the current run has used (tests). */
    long used() {
        return used;
    }

    /** The writes being queued on this thread, or null. */
    static QueuedUploads active() {
        return ACTIVE.get();
    }

    /** Queues {@code src} into {@code tensor} at {@code offset}; false when it must be written synchronously. */
    boolean write(Tensor tensor, MemorySegment src, long offset) {
        long size = src.byteSize();
        long start = (used + ALIGN - 1) / ALIGN * ALIGN;
        if (start + size > staging.byteSize() || !tensor.inBufferOfType(deviceBufferType)) {
            // the direct write goes on another stream: the queued copies land first, and no graph
            // queued earlier (one of an earlier step may read this tensor) is still running
            backend.synchronize();
            return false;
        }
        MemorySegment slice = staging.asSlice(start, size);
        MemorySegment.copy(src, 0, slice, 0, size);
        GgmlBackend.ggml_backend_tensor_set_async(backend.address(), tensor.address(), slice, offset, size);
        used = start + size;
        return true;
    }

    @Override
    public void close() {
        landed[0].close();
        landed[1].close();
        block.close();
    }
}
