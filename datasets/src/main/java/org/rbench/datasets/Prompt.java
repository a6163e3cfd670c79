package org.rbench.datasets;

import java.util.List;

/**
 * What a task generator builds for one sample at one haystack size, before chat wrapping.
 *
 * @param userMessage  the filled task template (with any few-shot example before it)
 * @param answerPrefix the filled answer prefix
 * @param outputs      the reference answers
 */
record Prompt(String userMessage, String answerPrefix, List<String> outputs) {

    Prompt {
        outputs = List.copyOf(outputs);
    }
}
