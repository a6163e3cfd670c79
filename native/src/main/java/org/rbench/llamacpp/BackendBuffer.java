package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;

/** Device memory holding the data of all tensors of one context (weights, KV cache). */
public final class BackendBuffer implements AutoCloseable {
    private MemorySegment buffer;

    private BackendBuffer(MemorySegment buffer) {
        this.buffer = buffer;
    }

    /** Allocates every tensor of a no_alloc context on the backend, in one buffer. */
    public static BackendBuffer allocate(GgmlContext ctx, Backend backend) {
        if (!ctx.noAlloc()) {
            throw new IllegalArgumentException("only the tensors of a no_alloc context can be placed on a backend");
        }
        if (Ggml.ggml_get_first_tensor(ctx.address()).equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("the context holds no tensors to allocate");
        }
        MemorySegment b = GgmlBackend.ggml_backend_alloc_ctx_tensors(ctx.address(), backend.address());
        if (b.equals(MemorySegment.NULL) && backend.allocatesInOneBuffer() && backend.reclaimMemory()) {
            // memory kept for speed (cached graphs) went back: once more (one buffer failed, so no tensor holds memory)
            b = GgmlBackend.ggml_backend_alloc_ctx_tensors(ctx.address(), backend.address());
        }
        if (b.equals(MemorySegment.NULL)) {
            throw new NativeCallException("Could not allocate the tensors on " + backend.name()
                    + " (out of device memory?)." + NativeLog.tail(3));
        }
        return new BackendBuffer(b);
    }

    /**
     * Allocates every tensor of a no_alloc context in one buffer of the given buffer type
     * (for example a device's pinned host memory, {@link Backend#hostBufferType()}).
     */
    public static BackendBuffer allocate(GgmlContext ctx, MemorySegment bufferType) {
        if (!ctx.noAlloc()) {
            throw new IllegalArgumentException("only the tensors of a no_alloc context can be placed in a buffer");
        }
        if (bufferType == null || bufferType.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("no buffer type given");
        }
        if (Ggml.ggml_get_first_tensor(ctx.address()).equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException("the context holds no tensors to allocate");
        }
        MemorySegment b = GgmlBackend.ggml_backend_alloc_ctx_tensors_from_buft(ctx.address(), bufferType);
        if (b.equals(MemorySegment.NULL)) {
            throw new NativeCallException("Could not allocate the tensors in a "
                    + Bindings.string(GgmlBackend.ggml_backend_buft_name(bufferType)) + " buffer (out of memory?)."
                    + NativeLog.tail(3));
        }
        return new BackendBuffer(b);
    }

    /**
     * Places {@code slice}, a tensor of a no_alloc context that has no memory yet, at byte {@code offset} of
     * {@code within}, a tensor this buffer holds (ggml_backend_tensor_alloc): the slice is then a tensor of its
     * own (an op-less leaf in any graph that reads it, as a tensor the buffer allocated is) over part of
     * {@code within}'s memory. So one tensor can hold every layer's rows of a cache, and each layer's tensor read
     * and write its share, with no view node in the graphs that use them. Both must be contiguous, of one type.
     */
    public void place(Tensor slice, Tensor within, long offset) {
        if (slice.hasBuffer() || !slice.data().equals(MemorySegment.NULL) || slice.viewSource() != null) {
            throw new IllegalArgumentException("only a tensor with no memory yet can be placed, not " + slice);
        }
        if (!within.hasBuffer() || !within.buffer().equals(address()) || within.viewSource() != null) {
            throw new IllegalArgumentException(within + " is not a tensor of this buffer");
        }
        if (slice.type() != within.type() || !slice.isContiguous() || !within.isContiguous()) {
            throw new IllegalArgumentException("a slice is contiguous and of its tensor's type: " + slice + " in " + within);
        }
        long allocated = GgmlBackend.ggml_backend_buffer_get_alloc_size(address(), slice.address());
        if (offset < 0 || allocated != slice.bytes() || offset > within.bytes() - allocated) {
            throw new IllegalArgumentException("a slice of " + allocated + " bytes at byte " + offset + " does not lie within the "
                    + within.bytes() + " bytes of " + within);
        }
        int status = GgmlBackend.ggml_backend_tensor_alloc(address(), slice.address(),
                MemorySegment.ofAddress(within.data().address() + offset));
        if (status != 0) {
            throw new NativeCallException("ggml_backend_tensor_alloc failed (status " + status + ")." + NativeLog.tail(3));
        }
    }

    /**
     * {@code whole}'s slices along dimension {@code dim} (its last: 1 to 3), each a tensor of its own made in
     * {@code into} (a no_alloc context) with {@code whole}'s first {@code dim} dimensions, named {@code name_i}, and
     * {@link #place}d over slice i's memory: every layer's cache in one tensor, and each layer's tensor its share.
     */
    public Tensor[] placeSlices(GgmlContext into, Tensor whole, int dim, String name) {
        if (dim < 1 || dim > 3 || (dim < 3 && whole.ne(dim + 1) != 1)) {
            throw new IllegalArgumentException("slices are taken along a tensor's last dimension, not " + dim + " of " + whole);
        }
        long[] shape = java.util.Arrays.copyOf(whole.shape(), dim);
        Tensor[] slices = new Tensor[Math.toIntExact(whole.ne(dim))];
        for (int i = 0; i < slices.length; i++) {
            slices[i] = into.newTensor(whole.type(), shape).name(name + "_" + i);
            place(slices[i], whole, i * whole.nb(dim));
        }
        return slices;
    }

    public long size() {
        return GgmlBackend.ggml_backend_buffer_get_size(address());
    }

    public void clear(int value) {
        GgmlBackend.ggml_backend_buffer_clear(address(), (byte) value);
    }

    public MemorySegment address() {
        if (buffer == null) {
            throw new IllegalStateException("buffer is closed");
        }
        return buffer;
    }

    @Override
    public void close() {
        if (buffer != null) {
            GgmlBackend.ggml_backend_buffer_free(buffer);
            buffer = null;
        }
    }
}
