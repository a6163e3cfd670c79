package org.rbench.datasets;

import java.util.List;
import java.util.Objects;

/**
 * One generated RULER sample, in the reference's field layout.
 *
 * <p>The model's prompt is {@code input + answerPrefix}: {@code input} is the task template
 * (wrapped in the chat template for chat models) and the model continues after the answer
 * prefix. {@code length} counts the prompt's tokens (without BOS) plus
 * {@code tokensToGenerate}, and never exceeds {@code targetLength}.
 *
 * @param index            sample index within (task, target length)
 * @param input            the prompt up to the answer prefix
 * @param answerPrefix     the text the model's answer continues
 * @param outputs          the reference answers
 * @param length           prompt tokens + tokens to generate
 * @param task             the task
 * @param seed             the seed the sample was generated with
 * @param tokensToGenerate generation budget of the task
 * @param metric           how predictions are scored
 * @param targetLength     the target length the sample was sized for
 * @param answerSpans      the characters of {@code input} that hold the answers, in text order
 *                         (per task: datasets/README.md, "Answer spans"); {@link PromptTokens}
 *                         places them among the prompt's tokens
 */
public record Sample(int index, String input, String answerPrefix, List<String> outputs, int length, RulerTask task,
                     long seed, int tokensToGenerate, Metric metric, int targetLength, List<Span> answerSpans) {

    public Sample {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(answerPrefix, "answerPrefix");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(metric, "metric");
        outputs = List.copyOf(outputs);
        answerSpans = List.copyOf(answerSpans);
        for (Span span : answerSpans) {
            if (span.end() > input.length()) {
                throw new IllegalArgumentException("answer span [" + span.start() + ", " + span.end()
                        + ") lies past the input's " + input.length() + " characters");
            }
        }
    }

    /** The text of each answer span. */
    public List<String> answerSpanTexts() {
        return answerSpans.stream().map(span -> input.substring(span.start(), span.end())).toList();
    }

    /** The full text the model is given: input followed by the answer prefix. */
    public String prompt() {
        return input + answerPrefix;
    }

    /**
     * A continuation that answers the sample, for training on token ids: the outputs joined
     * by ", ", after a space unless the answer prefix ends with one.
     */
    public String referenceCompletion() {
        String answers = String.join(", ", outputs);
        return answerPrefix.endsWith(" ") ? answers : " " + answers;
    }

    /** This sample's score for a model's prediction, in [0, 1]. */
    public double score(String prediction) {
        return metric.scoreSample(prediction, outputs);
    }
}
