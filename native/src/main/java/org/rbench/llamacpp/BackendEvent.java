package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;

/**
 * A point in a backend's stream that the host can wait for (ggml_backend_event): {@link #record}
 * marks the work queued so far, {@link #synchronize} waits until it has run, and work queued
 * after the record may still be running. A device without events (the CPU, whose computes are
 * done when they return) gets one that waits for the whole backend instead: the same guarantee,
 * without the overlap.
 */
public final class BackendEvent implements AutoCloseable {
    private final Backend backend;
    /** The ggml event, or null where the device has none. */
    private MemorySegment event;
    private boolean closed;

    BackendEvent(Backend backend) {
        this.backend = backend;
        MemorySegment e = GgmlBackend.ggml_backend_event_new(backend.device());
        this.event = e.equals(MemorySegment.NULL) ? null : e;
    }

    /** Whether waiting for this event lets later work run on (false: it waits for the backend). */
    public boolean isNative() {
        return event != null;
    }

    /** Marks everything queued on the backend so far. */
    public void record() {
        requireOpen();
        if (event != null) {
            GgmlBackend.ggml_backend_event_record(event, backend.address());
        }
    }

    /** Waits until the work queued before the last {@link #record} has run (at once if never recorded). */
    public void synchronize() {
        requireOpen();
        if (event != null) {
            GgmlBackend.ggml_backend_event_synchronize(event);
        } else {
            backend.synchronize();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the backend event is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (event != null) {
                GgmlBackend.ggml_backend_event_free(event);
                event = null;
            }
        }
    }
}
