package org.rbench.core.engine;

/**
 * A point a {@link KvCache} can be rewound to, so that several decoding methods start from
 * one prefill. It holds no copy: the engine only ever writes the cache at and after its
 * length (a prefill or decode step appends), so rows [0, {@link #length()}) stay as they
 * were until the length drops below the snapshot's (a reset, a synthetic refill, the
 * restore of an earlier snapshot). From then on the snapshot is no longer {@link #intact()}
 * and restoring it is refused. Restoring is setting the length back: O(1), where a copy of
 * an 8B model's 512K-token cache would be 64 GiB of host memory and a transfer each way.
 */
public final class KvSnapshot implements AutoCloseable {
    private final KvCache owner;
    private final int length;
    private boolean intact = true;
    private boolean closed;

    KvSnapshot(KvCache owner, int length) {
        this.owner = owner;
        this.length = length;
    }

    KvCache owner() {
        return owner;
    }

    /** Tokens in the snapshot. */
    public int length() {
        return length;
    }

    /** Whether the rows below the snapshot's length are still the ones it was taken over. */
    public boolean intact() {
        return intact;
    }

    boolean closed() {
        return closed;
    }

    /** The cache's length dropped below this snapshot's: its rows may be rewritten from now on. */
    void overwritable() {
        intact = false;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.forget(this);
        }
    }
}
