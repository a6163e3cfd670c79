package org.rbench.datasets;

/**
 * Sizes prompts to a target length, counting tokens with the real tokenizer.
 *
 * <p>The rule (the reference's): a sample fits when tokens(prompt) + tokens to generate
 * &lt;= target length. Per task and length, {@link #calibrate} finds the largest haystack
 * size for which sample 0 fits (the reference's binary search). Each sample then starts
 * from that size, shrinks by the increment until it fits (the reference's rule) and, when
 * it still has room for another increment, grows by it; so every sample fits and one more
 * increment would not.
 *
 * <p>Cost model, in full-prompt tokenizer calls ({@link #tokenizerCalls()}): calibration
 * interpolates token counts linearly between probes instead of bisecting blindly, so it
 * needs about 5 to 7 calls (two of them on small prompts; 6.3 on average over the 11
 * offline tasks at 4K, 32K and 128K) where a binary search needs 15 or more; each sample
 * then needs 1 call, plus 1 per increment it shrinks or grows. The
 * grow probe is skipped whenever the room left is below the increment's guaranteed
 * minimum of tokens. A native tokenizer takes 25 ms (llama-bpe) to 190 ms (llama-spm) on a
 * 32K-token prompt, so counts dominate; {@link PieceCountingTokenizer} makes most of them cheap.
 */
final class PromptSizer {

    private final Tokenizer tokenizer;
    private final ChatFormatter chat;
    private final String taskName;
    private final int targetLength;
    private final int tokensToGenerate;
    private long tokenizerCalls;

    /** A built and counted prompt. */
    record Fitted(Prompt prompt, String input, int promptTokens, int units) {

        /** The prompt plus its answer prefix, as the model sees it. */
        String fullPrompt() {
            return input + prompt.answerPrefix();
        }
    }

    PromptSizer(Tokenizer tokenizer, ChatFormatter chat, String taskName, int targetLength, int tokensToGenerate) {
        this.tokenizer = tokenizer;
        this.chat = chat;
        this.taskName = taskName;
        this.targetLength = targetLength;
        this.tokensToGenerate = tokensToGenerate;
        if (targetLength <= tokensToGenerate) {
            throw new IllegalArgumentException("task " + taskName + ": target length " + targetLength
                    + " leaves no room for a prompt: it must exceed the " + tokensToGenerate + " tokens to generate");
        }
    }

    long tokenizerCalls() {
        return tokenizerCalls;
    }

    /** Prompt tokens allowed. */
    int budget() {
        return targetLength - tokensToGenerate;
    }

    /** Builds and counts the sample at this size. */
    Fitted evaluate(SizedTask task, int units, int index, long seed) {
        Prompt prompt = task.build(units, index, seed);
        String input = chat.wrapUserMessage(prompt.userMessage());
        tokenizerCalls++;
        int tokens = tokenizer.count(input + prompt.answerPrefix());
        return new Fitted(prompt, input, tokens, units);
    }

    /**
     * The largest size at which sample (index, seed) fits, to one unit. Token counts grow
     * almost linearly with the size, so each probe aims at the boundary that the counts seen
     * so far predict: first just past it (to bracket it), then by interpolation inside the
     * bracket, checking the neighbouring size when a probe lands within a unit or two of the
     * budget. Bisection takes over when interpolation stops halving the bracket.
     */
    int calibrate(SizedTask task, int index, long seed) {
        int budget = budget();
        int min = task.minUnits();
        int minTokens = evaluate(task, min, index, seed).promptTokens();
        if (minTokens > budget) {
            throw tooShort(task, min, minTokens);
        }
        int lo = min;
        int loTokens = minTokens;
        int hi = -1;
        int hiTokens = 0;
        int neighbour = -1;
        int stalls = 0;
        while (hi < 0 || hi - lo > 1) {
            int candidate;
            if (neighbour > lo && (hi < 0 || neighbour < hi)) {
                candidate = neighbour;
            } else if (hi < 0) {
                if (lo == min) {
                    candidate = lo + Math.max(1, task.increment());
                } else {
                    double predicted = (budget - loTokens) / perUnit(min, minTokens, lo, loTokens);
                    candidate = lo + (int) Math.min(Math.ceil(predicted * 1.01) + 1, 1024.0 * lo + task.increment());
                }
                candidate = Math.max(candidate, lo + 1);
            } else if (stalls >= 2 || hi - lo <= 3) {
                candidate = (lo + hi) >>> 1;
            } else {
                double boundary = lo + (budget - loTokens) / perUnit(lo, loTokens, hi, hiTokens);
                candidate = Math.clamp((long) Math.floor(boundary), lo + 1, hi - 1);
            }
            int width = hi < 0 ? Integer.MAX_VALUE : hi - lo;
            double perUnit = hi < 0 ? perUnit(min, minTokens, Math.max(lo, min + 1), loTokens) : perUnit(lo, loTokens, hi, hiTokens);
            int tokens = evaluate(task, candidate, index, seed).promptTokens();
            neighbour = -1;
            if (tokens <= budget) {
                lo = candidate;
                loTokens = tokens;
                if (budget - tokens < 2 * perUnit) {
                    neighbour = candidate + 1;
                }
            } else {
                hi = candidate;
                hiTokens = tokens;
                if (tokens - budget < 2 * perUnit) {
                    neighbour = candidate - 1;
                }
            }
            stalls = width != Integer.MAX_VALUE && (hi - lo) * 2 > width ? stalls + 1 : 0;
        }
        return lo;
    }

    /** Tokens per unit between two probes, never zero. */
    private static double perUnit(int units1, int tokens1, int units2, int tokens2) {
        return Math.max(1e-3, (double) (tokens2 - tokens1) / Math.max(1, units2 - units1));
    }

    /**
     * Fits sample (index, seed) starting from {@code startUnits}: shrinks by the increment
     * until it fits, or grows by it while another increment fits.
     */
    Fitted fit(SizedTask task, int startUnits, int index, long seed) {
        int budget = budget();
        int units = Math.max(startUnits, task.minUnits());
        Fitted fitted = evaluate(task, units, index, seed);
        if (fitted.promptTokens() > budget) {
            while (fitted.promptTokens() > budget) {
                if (units == task.minUnits()) {
                    throw tooShort(task, units, fitted.promptTokens());
                }
                units = Math.max(task.minUnits(), units - task.increment());
                fitted = evaluate(task, units, index, seed);
            }
            return fitted;
        }
        while (budget - fitted.promptTokens() >= task.minTokensPerIncrement()) {
            Fitted larger = evaluate(task, units + task.increment(), index, seed);
            if (larger.promptTokens() > budget) {
                break;
            }
            units += task.increment();
            fitted = larger;
        }
        return fitted;
    }

    private IllegalArgumentException tooShort(SizedTask task, int units, int tokens) {
        return new IllegalArgumentException("task " + taskName + ": target length " + targetLength
                + " is too short for the template: with the smallest haystack (" + units + " " + task.unitName()
                + ") the prompt takes " + tokens + " tokens, plus " + tokensToGenerate + " to generate");
    }
}
