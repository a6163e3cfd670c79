package org.rbench.harness.sweep;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code --shard i/N}: shard i (0-based) of N takes every N-th work unit of the sweep's
 * stable ordering, starting at i. Work units are whole samples (one prefill shared by all
 * methods), so the split never duplicates a prefill, and the union of the N shards is
 * exactly the sweep.
 */
public record Shard(int index, int count) {
    public static final Shard ALL = new Shard(0, 1);

    public Shard {
        if (count <= 0 || index < 0 || index >= count) {
            throw new IllegalArgumentException("shard must be i/N with 0 <= i < N, got " + index + "/" + count);
        }
    }

    public static Shard parse(String s) {
        String[] parts = s.split("/");
        if (parts.length != 2) {
            throw new IllegalArgumentException("--shard takes i/N (e.g. 0/4), not '" + s + "'");
        }
        try {
            return new Shard(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard takes i/N with integers, not '" + s + "'");
        }
    }

    public <T> List<T> select(List<T> units) {
        List<T> out = new ArrayList<>();
        for (int i = index; i < units.size(); i += count) {
            out.add(units.get(i));
        }
        return out;
    }

    @Override
    public String toString() {
        return index + "/" + count;
    }
}
