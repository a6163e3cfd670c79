package org.rbench.core.engine;

/** Greedy sampling: the index of the largest logit (the lowest index on ties, as llama.cpp's greedy sampler). */
public final class Greedy {
    private Greedy() {
    }

    public static int argmax(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("no logits");
        }
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
