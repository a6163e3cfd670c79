package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;

/**
 * A block of host memory allocated in a backend buffer type (a GPU device's pinned memory,
 * {@link Backend#hostBufferType()}, which the device copies to and from by DMA): a one-tensor
 * context and its buffer, freed together.
 */
final class HostBlock implements AutoCloseable {
    private final GgmlContext context;
    private final BackendBuffer buffer;
    private final MemorySegment memory;

    /** {@code bytes} of buffer type {@code type}, named {@code name} (in native diagnostics). */
    HostBlock(MemorySegment type, long bytes, String name) {
        context = GgmlContext.forMetadata(1, 0);
        try {
            Tensor block = context.newTensor(GgmlType.I8, bytes).name(name);
            buffer = BackendBuffer.allocate(context, type);
            memory = block.data().reinterpret(bytes);
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    MemorySegment memory() {
        return memory;
    }

    @Override
    public void close() {
        buffer.close();
        context.close();
    }
}
