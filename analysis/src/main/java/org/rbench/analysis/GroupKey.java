package org.rbench.analysis;

import java.util.Comparator;

/**
 * The cell a row is aggregated into: model, method, context length and, for per-task tables,
 * the task ({@code null} when the group spans all tasks).
 */
public record GroupKey(String model, String method, int length, String task) {

    /** Table order: model, then {@link MethodOrder}, then length ascending, then task. */
    public static final Comparator<GroupKey> ORDER = Comparator
            .comparing(GroupKey::model, NaturalOrder.INSTANCE)
            .thenComparing(GroupKey::method, MethodOrder.INSTANCE)
            .thenComparingInt(GroupKey::length)
            .thenComparing(GroupKey::task, Comparator.nullsFirst(NaturalOrder.INSTANCE));

    /** A stable text form, used to derive the group's bootstrap seed. */
    public String id() {
        return model + '|' + method + '|' + length + '|' + (task == null ? "*" : task);
    }
}
