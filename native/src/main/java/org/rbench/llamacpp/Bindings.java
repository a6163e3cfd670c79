package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;

/** Small helpers shared by the raw binding classes. */
final class Bindings {
    private Bindings() {
    }

    /** invokeExact declares Throwable; native calls throw nothing checked, so unwrap. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("Unexpected exception from a native call", t);
    }

    /** Reads a NUL-terminated UTF-8 string returned by C; null for a NULL pointer. */
    static String string(MemorySegment p) {
        if (p == null || p.equals(MemorySegment.NULL)) {
            return null;
        }
        return p.reinterpret(Long.MAX_VALUE).getString(0);
    }
}
