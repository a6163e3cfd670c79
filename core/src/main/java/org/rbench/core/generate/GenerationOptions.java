package org.rbench.core.generate;

import java.util.List;

/**
 * When greedy generation stops.
 *
 * @param maxTokens        the most tokens to generate
 * @param stopAtEndOfGeneration stop at the model's end-of-generation tokens (EOS, EOT, ...)
 * @param stopStrings      stop when the generated text contains one of these (it is cut before it)
 * @param queueAhead       on a GPU, queue each step before the host has read the token it feeds
 *                         (Decoder.generateGreedy; default); off, wait for every token (an A/B)
 */
public record GenerationOptions(int maxTokens, boolean stopAtEndOfGeneration, List<String> stopStrings, boolean queueAhead) {
    public GenerationOptions {
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
        }
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("a stop string must not be empty");
            }
        }
    }

    public static GenerationOptions maxTokens(int n) {
        return new GenerationOptions(n, true, List.of(), true);
    }

    public GenerationOptions withStopStrings(String... stops) {
        return new GenerationOptions(maxTokens, stopAtEndOfGeneration, List.of(stops), queueAhead);
    }

    public GenerationOptions ignoringEndOfGeneration() {
        return new GenerationOptions(maxTokens, false, stopStrings, queueAhead);
    }

    public GenerationOptions withQueueAhead(boolean on) {
        return new GenerationOptions(maxTokens, stopAtEndOfGeneration, stopStrings, on);
    }
}
