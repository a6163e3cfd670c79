package org.rbench.datasets;

import java.util.List;

/**
 * What a task generator builds for one sample at one haystack size, before chat wrapping.
 *
 * @param userMessage  the filled task template (with any few-shot example before it)
 * @param answerPrefix the filled answer prefix
 * @param outputs      the reference answers
 * @param answerSpans  where the answers are held in the user message (characters; see {@link Sample#answerSpans()})
 */
record Prompt(String userMessage, String answerPrefix, List<String> outputs, List<Span> answerSpans) {

    Prompt {
        outputs = List.copyOf(outputs);
        answerSpans = List.copyOf(answerSpans);
    }
}
