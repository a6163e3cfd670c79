package org.rbench.core.testing;

import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.engine.StepTimings;
import org.rbench.core.model.HyperParameters;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** One method's decode on an engine from a fresh cache, as a test compares two of them. */
public final class Decoding {
    /** Every step's logits, the step graphs the decoder built, and its step timings. */
    public record Decoded(List<float[]> logits, int graphsBuilt, StepTimings timings) {
    }

    private Decoding() {
    }

    /**
     * Resets {@code engine}, prefills {@code tokens[0, prompt)} as {@code method}'s policy asks, and
     * decodes {@code steps} more of {@code tokens}, one at a time.
     */
    public static Decoded decode(Engine engine, HyperParameters hp, String method, int[] tokens, int prompt, int steps) {
        engine.reset();
        AttentionPolicy policy = Strategies.create(method, hp, prompt);
        PrefillResult p = engine.prefill(Arrays.copyOf(tokens, prompt), policy.prefillRequest(), false);
        List<float[]> out = new ArrayList<>();
        try (Decoder d = engine.decoder(policy, p.statistics())) {
            for (int s = 0; s < steps; s++) {
                out.add(d.step(tokens[prompt + s]));
            }
            return new Decoded(out, d.graphsBuilt(), d.timings());
        }
    }
}
