package org.rbench.core.attention;

/**
 * Where a policy makes its per-step decisions ({@code decide=} in a method spec): on the host,
 * from read-backs, or in the step graph, with no host round trip. {@code AUTO} is the device on
 * a GPU backend and the host on the CPU, where there is no round trip to save.
 */
public enum Decide {
    AUTO, HOST, DEVICE;

    /** Whether this choice decides on the device for a run on {@code context}'s backend. */
    public boolean onDevice(AttentionContext context) {
        return this == DEVICE || (this == AUTO && context.onGpu());
    }
}
