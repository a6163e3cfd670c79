package org.rbench.datasets;

/**
 * A task generator at one target length, seen by {@link PromptSizer}: it builds a sample's
 * prompt for any haystack size ("units": words, noise lines, distractor needles, documents).
 *
 * <p>Contract: {@link #build} is a pure function of its arguments, and a larger size only
 * adds haystack (the sample's keys, values and questions stay the same), so the token count
 * grows with the size and at least by {@link #minTokensPerIncrement()} per increment.
 */
interface SizedTask {

    /** The prompt of the sample (index, seed) with {@code units} of haystack. */
    Prompt build(int units, int index, long seed);

    /** The smallest haystack the task can be built with. */
    int minUnits();

    /** The reference's per-sample step when a sample does not fit. */
    int increment();

    /** A safe lower bound of the tokens one {@link #increment()} adds; 0 if unknown. */
    int minTokensPerIncrement();

    /** What a unit is, for messages: "words", "noise lines", ... */
    String unitName();
}
