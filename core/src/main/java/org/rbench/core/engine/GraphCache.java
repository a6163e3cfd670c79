package org.rbench.core.engine;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GraphAllocator;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Built graphs kept allocated for reuse, keyed by their shape, each with its own graph
 * allocator so that several stay valid at once. A decode that alternates between shapes
 * (Recycled Attention: recycled steps, a full step every S, a row copy after it) then
 * reuses every graph instead of rebuilding the ones the others displaced. Rebuilding costs
 * the graph's construction in Java and, on CUDA, the captured CUDA graph too: ggml keys
 * those by the graph's first node, which a rebuilt graph does not share, and capture a graph
 * only on its second compute (a rebuilt graph runs uncaptured once, then pays the capture).
 * Least recently used entries beyond the capacity, or beyond the byte budget of their
 * allocators' buffers, are closed; the newest entry always stays.
 *
 * @param <T> what the caller keeps with a graph (e.g. the pass whose inputs it fills)
 */
final class GraphCache<T> implements AutoCloseable {
    /** A built graph, its allocator (holding its intermediate memory) and the caller's object. */
    record Entry<T>(StepGraph graph, GraphAllocator allocator, T owner) {
    }

    private final Backend backend;
    private final int capacity;
    private final long maxBytes;
    private final LinkedHashMap<List<Object>, Entry<T>> entries = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * Keys of the latest graphs closed to make room, so that building one of them again counts as a rebuild; the oldest
     * are forgotten beyond {@link #EVICTED_KEYS_KEPT} (a key holds a list a layer: a long sweep of varied lengths would
     * otherwise keep every shape it ever evicted).
     */
    private final java.util.LinkedHashSet<List<Object>> evicted = new java.util.LinkedHashSet<>();
    private static final int EVICTED_KEYS_KEPT = 1024;
    private long bytes;
    private long evictions;
    private long rebuilds;

    GraphCache(Backend backend, int capacity) {
        this(backend, capacity, Long.MAX_VALUE);
    }

    /** At most {@code capacity} graphs whose buffers take at most {@code maxBytes} together (the newest always stays). */
    GraphCache(Backend backend, int capacity, long maxBytes) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a graph cache holds at least one graph, got " + capacity);
        }
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("a graph cache's byte budget must be positive, got " + maxBytes);
        }
        this.backend = backend;
        this.capacity = capacity;
        this.maxBytes = maxBytes;
    }

    /** Graphs kept. */
    int size() {
        return entries.size();
    }

    /** Bytes of the kept graphs' buffers. */
    long bytes() {
        return bytes;
    }

    /**
     * Graphs closed to make room: to keep within the capacity or the byte budget, to retry a failed allocation, or to
     * give memory back on demand ({@link #evictAllButNewest}); not those replaced or closed with the cache.
     */
    long evictions() {
        return evictions;
    }

    /**
     * Graphs put under a key whose graph had been evicted: each was built, allocated and (on CUDA) captured again,
     * a cost a run with room for every shape it meets does not pay.
     */
    long rebuilds() {
        return rebuilds;
    }

    /** The graph built for this shape, or null. */
    Entry<T> get(List<Object> key) {
        return entries.get(key);
    }

    /**
     * Why {@code key} has no graph here, for a person reading a log: the components (by index) in which it differs from
     * the kept key nearest to it, each as kept and new, or that nothing is kept.
     */
    String whyNew(List<Object> key) {
        if (evicted.contains(key)) {
            return "its graph was evicted";
        }
        List<Object> nearest = null;
        int fewest = Integer.MAX_VALUE;
        for (List<Object> kept : entries.keySet()) {
            int differing = differing(kept, key).size();
            if (differing < fewest) {
                fewest = differing;
                nearest = kept;
            }
        }
        if (nearest == null) {
            return "no graph is kept";
        }
        StringBuilder why = new StringBuilder("of " + entries.size() + " kept, the nearest differs in");
        for (int i : differing(nearest, key)) {
            why.append(String.format(" [%d] kept %s, new %s;", i, shortened(i < nearest.size() ? nearest.get(i) : "-"),
                    shortened(i < key.size() ? key.get(i) : "-")));
        }
        return why.toString();
    }

    private static List<Integer> differing(List<Object> a, List<Object> b) {
        List<Integer> at = new java.util.ArrayList<>();
        for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
            if (i >= a.size() || i >= b.size() || !java.util.Objects.equals(a.get(i), b.get(i))) {
                at.add(i);
            }
        }
        return at;
    }

    private static String shortened(Object o) {
        String text = String.valueOf(o);
        return text.length() <= 400 ? text : text.substring(0, 400) + "...";
    }

    /**
     * Takes ownership of a built graph: allocates it with a fresh allocator and keeps it
     * under {@code key}, closing the least recently used entries beyond the capacity.
     */
    Entry<T> put(List<Object> key, StepGraph graph, T owner) {
        GraphAllocator allocator;
        try {
            allocator = allocated(graph);
        } catch (RuntimeException e) {
            if (entries.isEmpty()) {
                graph.close();
                throw e;
            }
            // the kept graphs' memory may be what the device lacks: give all of it back and try once more (after the
            // device has finished with them: a caller's step may still be computing on the newest)
            backend.synchronize();
            evictAll();
            try {
                allocator = allocated(graph);
            } catch (RuntimeException again) {
                again.addSuppressed(e);
                graph.close();
                throw again;
            }
        }
        Entry<T> entry = new Entry<>(graph, allocator, owner);
        bytes += allocator.bufferSize();
        List<Object> kept = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(key));
        if (evicted.remove(kept)) {
            rebuilds++;
        }
        Entry<T> replaced = entries.put(kept, entry);
        if (replaced != null) {
            close(replaced);
        }
        evictOldest(1, () -> entries.size() > capacity || bytes > maxBytes);
        return entry;
    }

    private GraphAllocator allocated(StepGraph graph) {
        GraphAllocator allocator = new GraphAllocator(backend);
        try {
            allocator.allocate(graph.graph);
            return allocator;
        } catch (RuntimeException e) {
            allocator.close();
            throw e;
        }
    }

    /**
     * Closes every graph but the most recently used (which a step in flight may still be computing or reading):
     * memory given back on demand ({@link org.rbench.llamacpp.Backend#reclaimMemory}). Returns how many went.
     */
    int evictAllButNewest() {
        return evictOldest(1, () -> true);
    }

    private void evictAll() {
        evictOldest(0, () -> true);
    }

    /**
     * Closes the least recently used graphs, remembering their keys ({@link #rebuilds}), while more than {@code keep}
     * are kept and {@code tooMany} holds; returns how many went.
     */
    private int evictOldest(int keep, java.util.function.BooleanSupplier tooMany) {
        int gone = 0;
        Iterator<Map.Entry<List<Object>, Entry<T>>> it = entries.entrySet().iterator();
        while (entries.size() > keep && tooMany.getAsBoolean() && it.hasNext()) {
            Map.Entry<List<Object>, Entry<T>> oldest = it.next();
            it.remove();
            evicted.add(oldest.getKey());
            if (evicted.size() > EVICTED_KEYS_KEPT) {
                evicted.remove(evicted.iterator().next());
            }
            evictions++;
            close(oldest.getValue());
            gone++;
        }
        return gone;
    }

    private void close(Entry<?> e) {
        bytes -= e.allocator().bufferSize();
        e.graph().close();
        e.allocator().close();
    }

    @Override
    public void close() {
        for (Entry<T> e : entries.values()) {
            close(e);
        }
        entries.clear();
    }
}
