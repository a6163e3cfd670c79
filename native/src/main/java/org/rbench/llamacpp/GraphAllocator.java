package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;

/**
 * Allocates the intermediate tensors of compute graphs (ggml_gallocr). Made once and
 * reused for every step: after the first graph (or a reserve with the largest one) it
 * keeps its buffer and only re-plans offsets.
 */
public final class GraphAllocator implements AutoCloseable {
    private MemorySegment galloc;
    /** Asked to give memory back when an allocation fails ({@link Backend#reclaimMemory}). */
    private final Backend backend;

    public GraphAllocator(Backend backend) {
        this.backend = backend;
        galloc = GgmlBackend.ggml_gallocr_new(backend.defaultBufferType());
        if (galloc.equals(MemorySegment.NULL)) {
            throw new NativeCallException("ggml_gallocr_new failed." + NativeLog.tail(3));
        }
    }

    /** Sizes the buffer for the worst-case graph so later allocations never grow it. */
    public void reserve(ComputeGraph graph) {
        if (!GgmlBackend.ggml_gallocr_reserve(address(), graph.address())
                && !(backend.reclaimMemory() && GgmlBackend.ggml_gallocr_reserve(address(), graph.address()))) {
            throw new NativeCallException("ggml_gallocr_reserve failed (out of memory?)." + NativeLog.tail(3));
        }
    }

    public void allocate(ComputeGraph graph) {
        // after a failure the allocator keeps its plan but no buffer, and a second alloc_graph would write into the
        // missing buffer: the retry plans again with reserve (which allocates the buffer) before it allocates
        if (!GgmlBackend.ggml_gallocr_alloc_graph(address(), graph.address())
                && !(backend.reclaimMemory() && GgmlBackend.ggml_gallocr_reserve(address(), graph.address())
                        && GgmlBackend.ggml_gallocr_alloc_graph(address(), graph.address()))) {
            throw new NativeCallException("ggml_gallocr_alloc_graph failed (out of memory?)." + NativeLog.tail(3));
        }
    }

    public long bufferSize() {
        return GgmlBackend.ggml_gallocr_get_buffer_size(address(), 0);
    }

    private MemorySegment address() {
        if (galloc == null) {
            throw new IllegalStateException("graph allocator is closed");
        }
        return galloc;
    }

    @Override
    public void close() {
        if (galloc != null) {
            GgmlBackend.ggml_gallocr_free(galloc);
            galloc = null;
        }
    }
}
