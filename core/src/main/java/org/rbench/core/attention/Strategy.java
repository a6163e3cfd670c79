package org.rbench.core.attention;

import org.rbench.core.model.HyperParameters;

import java.util.Set;

/**
 * A named, configurable attention strategy: makes a fresh {@link AttentionPolicy} for each
 * decoding run from a {@link MethodSpec}. Strategies are found with
 * {@link java.util.ServiceLoader}: adding one is one class plus one line in
 * {@code META-INF/services/org.rbench.core.attention.Strategy} of its module.
 */
public interface Strategy {
    /** The spec name, e.g. "recycled". */
    String name();

    /** One line for {@code rbench methods}: what it does and its parameters with defaults. */
    String description();

    /** The parameter names the spec may carry. */
    Set<String> parameters();

    /**
     * Checks the spec (throws IllegalArgumentException with a clear message) without a
     * model, so a sweep fails before any work starts.
     */
    default void validate(MethodSpec spec) {
        spec.requireOnly(parameters());
    }

    /**
     * A policy for one run over a prompt of {@code promptTokens} tokens (some defaults,
     * such as RefreshKV's budget K = input length / 8, depend on it).
     */
    AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens);
}
