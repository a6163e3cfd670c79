package org.rbench.core.engine;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendEvent;
import org.rbench.llamacpp.QueuedReadback;
import org.rbench.llamacpp.Tensor;

/**
 * Where queued decode steps leave their results: two slots of pinned memory (a step's logits
 * fit), each with an event recorded after its step's graph and copy. A step in flight and the
 * one queued behind it use the two in turn; a slot is reused only once its last step has been
 * finished. The engine owns one, made at the first queued step (its pinned allocation is not a
 * step's cost), so that decoders, one at a time, share it.
 */
final class StepResults implements AutoCloseable {
    private final QueuedReadback slots;
    private final BackendEvent[] done;
    private int next;

    StepResults(Backend backend, long slotBytes) {
        slots = new QueuedReadback(backend, 2, slotBytes);
        done = new BackendEvent[] {backend.newEvent(), backend.newEvent()};
    }

    /** The slot the next launched step uses. */
    int take() {
        int slot = next;
        next = 1 - next;
        return slot;
    }

    /** Queues a copy of {@code result} (null: none) into {@code slot}, then marks the step's end there. */
    void queue(int slot, Tensor result) {
        if (result != null) {
            slots.queue(slot, result);
        }
        done[slot].record();
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

    @Override
    public void close() {
        done[0].close();
        done[1].close();
        slots.close();
    }
}
