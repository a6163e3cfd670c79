package org.rbench.analysis;

import java.util.Comparator;

/**
 * The order in which methods appear in every table, plot legend and comparison: full attention
 * first (it is the reference every other row is read against), then by method name, then by the
 * whole spec with numbers compared by value.
 */
public final class MethodOrder implements Comparator<String> {
    public static final MethodOrder INSTANCE = new MethodOrder();

    private MethodOrder() {
    }

    /** The name part of a method spec: {@code recycled} for {@code recycled:k=4096,s=50}. */
    public static String nameOf(String spec) {
        int colon = spec.indexOf(':');
        return (colon < 0 ? spec : spec.substring(0, colon)).trim();
    }

    /** Whether the spec is full attention, the reference for speedups. */
    public static boolean isFull(String spec) {
        return nameOf(spec).equals("full");
    }

    @Override
    public int compare(String a, String b) {
        boolean fullA = isFull(a);
        boolean fullB = isFull(b);
        if (fullA != fullB) {
            return fullA ? -1 : 1;
        }
        int byName = NaturalOrder.INSTANCE.compare(nameOf(a), nameOf(b));
        return byName != 0 ? byName : NaturalOrder.INSTANCE.compare(a, b);
    }
}
