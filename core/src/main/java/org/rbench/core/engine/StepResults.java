package org.rbench.core.engine;

import org.rbench.core.attention.StepReads;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendEvent;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.QueuedReadback;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Where queued decode steps leave their results: two slots of pinned memory (a step's logits
 * fit, and after them its parts' small reads: {@link org.rbench.core.attention.StepPart#queuedReads}),
 * each with an event recorded after its step's graph and copies. A step in flight and the
 * one queued behind it use the two in turn; a slot is reused only once its last step has been
 * finished. The engine owns one, made at the first queued step (its pinned allocation is not a
 * step's cost), so that decoders, one at a time, share it.
 */
final class StepResults implements AutoCloseable {
    /** Bytes a slot keeps after the result for a step's small reads (a refresh's: 4 bytes a layer and KV head). */
    static final long READ_BYTES = 64 * 1024;

    private final QueuedReadback slots;
    private final BackendEvent[] done;
    /** Where a slot's reads begin: after the result, on a 64-byte line. */
    private final long readsAt;
    /** Per slot, the reads its step queued (by identity), each at {@link #offsets}' entry. */
    private final List<List<Tensor>> queued = List.of(new ArrayList<>(), new ArrayList<>());
    private final long[][] offsets = {new long[0], new long[0]};
    private int next;

    StepResults(Backend backend, long resultBytes) {
        readsAt = wholeLines(resultBytes);
        slots = new QueuedReadback(backend, 2, readsAt + READ_BYTES);
        done = new BackendEvent[] {backend.newEvent(), backend.newEvent()};
    }

    /** The slot the next launched step uses. */
    int take() {
        int slot = next;
        next = 1 - next;
        return slot;
    }

    /**
     * Queues a copy of {@code result} (null: none) and of {@code reads} into {@code slot}, then marks the step's end
     * there. Reads that do not fit the slot's {@link #READ_BYTES} are not queued: {@link #reads} reads those from the
     * device.
     */
    void queue(int slot, Tensor result, List<Tensor> reads) {
        if (result != null) {
            slots.queue(slot, result);
        }
        List<Tensor> kept = queued.get(slot);
        kept.clear();
        if (offsets[slot].length < reads.size()) {
            offsets[slot] = new long[reads.size()]; // once: a graph's reads stay the same (no allocation a step)
        }
        long[] at = offsets[slot];
        long offset = readsAt;
        for (Tensor read : reads) {
            if (read.type() != GgmlType.F32) {
                throw new IllegalArgumentException("a step's queued read '" + read.name() + "' is " + read.type() + ", not F32");
            }
            long size = wholeLines(read.bytes());
            if (offset + size > readsAt + READ_BYTES) {
                break;
            }
            slots.queue(slot, read, offset);
            at[kept.size()] = offset;
            kept.add(read);
            offset += size;
        }
        done[slot].record();
    }

    /** {@code bytes} rounded up to whole 64-byte lines. */
    private static long wholeLines(long bytes) {
        return (bytes + 63) / 64 * 64;
    }

    /** Waits until the step that used {@code slot} has computed and its result has landed. */
    void await(int slot) {
        done[slot].synchronize();
    }

    int intAt(int slot) {
        return slots.intAt(slot, 0);
    }

    float[] floats(int slot, int n) {
        return slots.floats(slot, n);
    }

    /** The reads of the step that used {@code slot} (after {@link #await}): its queued copies, the rest from the device. */
    StepReads reads(int slot) {
        List<Tensor> kept = queued.get(slot);
        long[] at = offsets[slot];
        return tensor -> {
            for (int i = 0; i < kept.size(); i++) {
                if (kept.get(i) == tensor) {
                    return slots.floats(slot, at[i], Math.toIntExact(tensor.elements()));
                }
            }
            return tensor.getFloats();
        };
    }

    @Override
    public void close() {
        done[0].close();
        done[1].close();
        slots.close();
    }
}
