package org.rbench.core.attention;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Device state that a policy keeps for one decode (tensors in a buffer of its own) and hands
 * back when it is done, so that the next decode of an equal policy on the engine takes it
 * over ({@link AttentionContext#reuse}). The engine's step graphs name a policy's tensors by
 * identity: with the state taken over, the next decode reuses the last one's graphs, and on
 * CUDA their captures. With a fresh state every decode builds and captures its graphs again:
 * 3-5 ms and 10-15 ms a decode at Llama-3.1-8B shapes on an H200, paid whole by a RULER
 * answer of a few tokens. {@link CompactCache}s are reusable states too (an engine keeps both in
 * one pool).
 *
 * <p>{@link #close} hands the state back where it came from a pool (and frees it otherwise);
 * the pool frees the idle states when the engine closes. A state taken over holds what its
 * last decode left: {@link #reuse()} clears what the next one must not see, and the policy
 * rewrites the rest before reading it.
 */
public abstract class ReusableState implements AutoCloseable {
    private Pool pool;
    private Object key;
    /** The order in which its pool made it: which idle state of a key is handed out first. */
    private long serial;
    private boolean open = true;

    /** Releases the device memory: the state is not used again. */
    protected abstract void free();

    /** Called when a later decode takes this state over, before it is handed out. */
    protected void reuse() {
    }

    /**
     * Whether an idle state of this class is freed when one of its class is made for another key:
     * yes (the default) for a state that a policy takes one of, so that a sweep over its shapes
     * (Quest's page sizes, say) holds one idle state, not one per shape; a compact cache, of which
     * a policy takes one a layer, of several capacities (PyramidKV), answers no.
     */
    protected boolean oneShapeIdle() {
        return true;
    }

    /** Whether this state is out (not yet closed). */
    public final boolean isOpen() {
        return open;
    }

    @Override
    public final void close() {
        if (!open) {
            return;
        }
        open = false;
        if (pool == null || !pool.giveBack(key, this)) {
            free();
        }
    }

    /**
     * The states handed back on one engine, by key. Idle states are kept until the pool closes,
     * so a benchmark that rotates methods finds each method's state (and graphs) where it left
     * them, at the price of device memory held between a method's turns (Quest's page bounds at
     * 131K and Llama-3.1-8B shapes: 2 GB); but making a state frees the idle ones of its class
     * and another key ({@link #oneShapeIdle}).
     *
     * <p>Of a key's idle states the oldest is handed out first, whatever order they came back in.
     * A decode then gets the states the last decode that took and closed as it does got, so its
     * graphs match again: with first in, first out, a policy that hands some back mid-decode
     * (PyramidKV's compact caches, outgrown and replaced every few steps near the end of the cache)
     * reordered the queue for the next, and every decode rebuilt its graphs.
     */
    public static final class Pool implements AutoCloseable {
        private static final Comparator<ReusableState> OLDEST_FIRST = Comparator.comparingLong(s -> s.serial);
        private final Map<Object, TreeSet<ReusableState>> idle = new HashMap<>();
        private long made;
        private boolean closed;

        /**
         * A state handed back under {@code key} (the oldest of them), or {@code make}'s. The key
         * names everything the state's shape depends on; equal keys must give states of one class.
         */
        public <T extends ReusableState> T take(Object key, Class<T> type, Supplier<T> make) {
            if (closed) {
                throw new IllegalStateException("the policy state pool is closed");
            }
            TreeSet<ReusableState> free = idle.get(key);
            if (free != null && !free.isEmpty() && !type.isInstance(free.first())) {
                throw new IllegalArgumentException("the key " + key + " holds a " + free.first().getClass().getName()
                        + ", not a " + type.getName());
            }
            ReusableState reused = free == null ? null : free.pollFirst();
            if (reused != null) {
                try {
                    reused.reuse();
                } catch (RuntimeException e) {
                    reused.free(); // neither idle nor handed out: nothing else would free it
                    throw e;
                }
                reused.open = true;
                return type.cast(reused);
            }
            freeOtherShapes(key, type);
            T state = make.get();
            ReusableState fresh = state;
            if (fresh.pool != null || !fresh.open) {
                throw new IllegalStateException("a new policy state must be fresh: open and from no pool");
            }
            fresh.pool = this;
            fresh.key = key;
            fresh.serial = made++;
            return state;
        }

        /** Frees the idle states of class {@code type} kept under keys other than {@code key}, where their class asks. */
        private void freeOtherShapes(Object key, Class<?> type) {
            java.util.List<ReusableState> freed = new java.util.ArrayList<>();
            for (var e : idle.entrySet()) {
                ReusableState first = e.getValue().isEmpty() ? null : e.getValue().first();
                if (first != null && first.getClass() == type && !e.getKey().equals(key) && first.oneShapeIdle()) {
                    freed.addAll(e.getValue());
                    e.getValue().clear();
                }
            }
            idle.values().removeIf(TreeSet::isEmpty);
            for (ReusableState s : freed) {
                s.free(); // after the walk: a state may hand back states of its own (H2O's slots, their caches)
            }
        }

        /** Idle states kept (tests). */
        public int idle() {
            return idle.values().stream().mapToInt(TreeSet::size).sum();
        }

        private boolean giveBack(Object key, ReusableState state) {
            if (closed) {
                return false;
            }
            idle.computeIfAbsent(key, k -> new TreeSet<>(OLDEST_FIRST)).add(state);
            return true;
        }

        /**
         * Frees the idle states (each, even where one fails: the first failure is thrown after); those
         * still out are freed when they are closed. A state that holds pooled states of its own frees
         * them as it is freed, and a closed pool takes nothing back.
         */
        @Override
        public void close() {
            closed = true;
            RuntimeException failure = null;
            for (TreeSet<ReusableState> states : idle.values()) {
                for (ReusableState s : states) {
                    try {
                        s.free();
                    } catch (RuntimeException e) {
                        if (failure == null) {
                            failure = e;
                        } else {
                            failure.addSuppressed(e);
                        }
                    }
                }
            }
            idle.clear();
            if (failure != null) {
                throw failure;
            }
        }
    }
}
