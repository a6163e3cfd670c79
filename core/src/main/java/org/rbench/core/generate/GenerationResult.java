package org.rbench.core.generate;

import org.rbench.core.engine.PrefillResult;
import org.rbench.core.engine.StepTimings;

/**
 * A finished generation.
 *
 * @param tokens  generated token ids (an end-of-generation token that stopped it is included)
 * @param text    the generated text, cut before a stop string; empty without a vocabulary
 * @param prefill the prompt's prefill (timing, statistics)
 * @param decode  per-step decode timings
 */
public record GenerationResult(int[] tokens, String text, StopReason stopReason, PrefillResult prefill, StepTimings decode) {
}
