package org.rbench.core.parity;

import org.rbench.llamacpp.GgmlType;

/**
 * The outcome of a parity run. Differences are over every logit of every compared
 * position (all prompt positions and every decode step); the relative difference of a
 * position is its largest absolute difference divided by the largest reference logit
 * magnitude at that position (the logit scale), and the maximum over positions is
 * reported.
 *
 * @param promptMaxAbsDiff    the largest absolute difference over the prompt positions alone: beside
 *                            {@code maxAbsDiff} it tells whether a difference starts in decode steps
 * @param positions           positions compared (prompt tokens + decode steps)
 * @param argmaxAgreements    positions where both argmaxes agree
 * @param firstDisagreement   the first position where they differ, or -1
 * @param referenceTokens     llama.cpp's greedy continuation (the engine is fed the same tokens,
 *                            so agreeing argmaxes everywhere mean identical greedy continuations)
 * @param queuedAgreements    decode steps whose greedy token, with the engine's steps queued ahead,
 *                            is the one its steps gave one at a time (all of them, or the overlap is wrong)
 * @param stepsQueuedAhead    of those steps, how many were launched before the step before had finished
 */
public record ParityReport(String model, String backend, String device, GgmlType cacheType, boolean flashAttention,
                           int promptTokens, int decodeSteps, double maxAbsDiff, double maxRelDiff,
                           double promptMaxAbsDiff, int positions, int argmaxAgreements, int firstDisagreement, int[] referenceTokens,
                           int[] engineTokens, long enginePrefillNanos, long referencePrefillNanos,
                           long engineDecodeNanos, long referenceDecodeNanos, int queuedAgreements, int stepsQueuedAhead) {

    public boolean argmaxAgreesEverywhere() {
        return argmaxAgreements == positions;
    }

    /** Whether the engine's steps queued ahead picked the tokens its steps one at a time did, every step. */
    public boolean queuedStepsAgree() {
        return queuedAgreements == decodeSteps;
    }

    public boolean passes(double relativeTolerance) {
        return maxRelDiff <= relativeTolerance && argmaxAgreesEverywhere() && queuedStepsAgree();
    }

    /**
     * The criterion for an F16 cache, where the two sides round and sum in different orders:
     * every logit within {@code relativeTolerance} of its position's logit scale. Argmaxes may
     * then differ only at near-ties (two logits the reference puts closer than twice the
     * tolerance), which either side's rounding decides: a random tiny model has some (one on a
     * Xeon's CPU kernels, margin below 0.01). The tolerance, not the argmax, is what catches a
     * wrong computation: a qwen3 graph that was wrong on CUDA agreed on every argmax at rel 0.07.
     */
    public boolean passesRounded(double relativeTolerance) {
        return maxRelDiff <= relativeTolerance && queuedStepsAgree();
    }

    /** Engine decode tokens/s over reference decode tokens/s (above 1: the engine is faster). */
    public double decodeSpeedRatio() {
        return engineDecodeNanos == 0 ? 0 : (double) referenceDecodeNanos / engineDecodeNanos;
    }

    public String summary() {
        return String.format(java.util.Locale.ROOT,
                "%s on %s, cache %s, flash %s: %d prompt + %d steps; max |diff| %.3g (prompt %.3g), max rel %.3g; argmax %d/%d%s;"
                        + " steps queued ahead: %d/%d tokens as one at a time (%d queued);"
                        + " decode %.1f tok/s engine vs %.1f tok/s llama.cpp",
                model, device, cacheType, flashAttention ? "on" : "off", promptTokens, decodeSteps, maxAbsDiff, promptMaxAbsDiff, maxRelDiff,
                argmaxAgreements, positions, firstDisagreement < 0 ? "" : " (first differs at " + firstDisagreement + ")",
                queuedAgreements, decodeSteps, stepsQueuedAhead,
                decodeSteps * 1e9 / Math.max(1, engineDecodeNanos), decodeSteps * 1e9 / Math.max(1, referenceDecodeNanos));
    }
}
