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
