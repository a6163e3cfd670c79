package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Results read back without waiting for the backend: {@link #queue} copies a tensor into one of
 * a few slots of host memory with ggml_backend_tensor_get_async, queued on the backend's stream
 * behind the graph that computes the tensor, so the host can go on queuing work (the next
 * step's graph, which may overwrite the tensor) before the result exists. Read a slot once a
 * {@link BackendEvent} recorded after its queue has passed. On a GPU the slots are pinned
 * memory (an async copy into pageable memory would wait for the stream); a tensor outside the
 * backend's device memory, and any on the CPU backend, is copied at once.
 */
public final class QueuedReadback implements AutoCloseable {
    private final Backend backend;
    private final long slotBytes;
    private final MemorySegment[] slots;
    /** Pinned memory (a GPU), or null. */
    private final HostBlock block;
    /** Plain memory (the CPU), or null. */
    private final Arena arena;

    /** {@code count} slots of {@code slotBytes} bytes each. */
    public QueuedReadback(Backend backend, int count, long slotBytes) {
        if (count < 1 || slotBytes < 1) {
            throw new IllegalArgumentException("a read-back needs at least one slot of at least one byte, got " + count
                    + " x " + slotBytes);
        }
        this.backend = backend;
        this.slotBytes = (slotBytes + 63) / 64 * 64;
        long bytes = this.slotBytes * count;
        MemorySegment pinned = backend.isCpu() ? null : backend.hostBufferType();
        MemorySegment all;
        if (pinned != null) {
            block = new HostBlock(pinned, bytes, "queued_readback");
            all = block.memory();
            arena = null;
        } else {
            block = null;
            arena = Arena.ofShared();
            all = arena.allocate(bytes, 64);
        }
        slots = new MemorySegment[count];
        for (int i = 0; i < count; i++) {
            slots[i] = all.asSlice(i * this.slotBytes, this.slotBytes);
        }
    }

    /** Bytes a slot holds. */
    public long slotBytes() {
        return slotBytes;
    }

    /** Queues a copy of the whole of {@code tensor} (contiguous) into slot {@code slot}. */
    public void queue(int slot, Tensor tensor) {
        if (!tensor.isContiguous()) {
            throw new IllegalArgumentException("tensor '" + tensor.name() + "' is not contiguous");
        }
        long size = tensor.bytes();
        if (size > slotBytes) {
            throw new IllegalArgumentException("tensor '" + tensor.name() + "' of " + size + " bytes does not fit a slot of "
                    + slotBytes);
        }
        MemorySegment into = slots[slot].asSlice(0, size);
        if (block != null && tensor.inBufferOfType(backend.defaultBufferType())) {
            tensor.requireReadable(size);
            GgmlBackend.ggml_backend_tensor_get_async(backend.address(), tensor.address(), into, 0, size);
        } else {
            backend.synchronize();
            tensor.read(into, 0);
        }
    }

    /** Element {@code index} of slot {@code slot} as an int (after the copy has landed). */
    public int intAt(int slot, int index) {
        return slots[slot].getAtIndex(ValueLayout.JAVA_INT, index);
    }

    /** The first {@code n} floats of slot {@code slot} (after the copy has landed). */
    public float[] floats(int slot, int n) {
        float[] out = new float[n];
        MemorySegment.copy(slots[slot], ValueLayout.JAVA_FLOAT, 0, out, 0, n);
        return out;
    }

    @Override
    public void close() {
        if (block != null) {
            block.close();
        }
        if (arena != null) {
            arena.close();
        }
    }
}
