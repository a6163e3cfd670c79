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
 * needs about 4 to 6 calls (two of them on small prompts) where a binary search needs 15
 * or more; each sample then needs 1 call, plus 1 per increment it shrinks or grows. The
 * grow probe is skipped whenever the room left is below the increment's guaranteed
 * minimum of tokens. With a native tokenizer at a few ms per 32K-token call, 100 samples
 * of a task cost well under a second of tokenizing.
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

    /** The largest size at which sample (index, seed) fits, to one unit. */
    int calibrate(SizedTask task, int index, long seed) {
        int budget = budget();
        int lo = task.minUnits();
        int loTokens = evaluate(task, lo, index, seed).promptTokens();
        if (loTokens > budget) {
            throw tooShort(task, lo, loTokens);
        }
        int minTokens = loTokens;
        int hi = -1;
        int hiTokens = 0;
        int step = 0;
        while (hi < 0 || hi - lo > 1) {
            int candidate;
            if (hi < 0) {
                if (lo == task.minUnits()) {
                    candidate = lo + Math.max(1, task.increment());
                } else {
                    double perUnit = Math.max(1e-3, (double) (loTokens - minTokens) / (lo - task.minUnits()));
                    candidate = lo + (int) Math.floor((budget - loTokens) / perUnit);
                    candidate = Math.min(candidate, lo * 4 + task.increment()); // a bad estimate cannot run away
                }
                candidate = Math.max(candidate, lo + 1);
            } else if (step % 3 == 2) {
                candidate = (lo + hi) >>> 1; // a bisection now and then bounds the worst case
            } else {
                double fraction = (double) (budget - loTokens) / Math.max(1, hiTokens - loTokens);
                candidate = lo + (int) Math.floor(fraction * (hi - lo));
                candidate = Math.clamp(candidate, lo + 1, hi - 1);
            }
            int tokens = evaluate(task, candidate, index, seed).promptTokens();
            if (tokens <= budget) {
                lo = candidate;
                loTokens = tokens;
            } else {
                hi = candidate;
                hiTokens = tokens;
            }
            step++;
        }
        return lo;
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
