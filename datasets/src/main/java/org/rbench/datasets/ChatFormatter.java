package org.rbench.datasets;

import java.util.Objects;

/**
 * Wraps a task's template (the user message) in a model's chat template.
 *
 * <p>As in the reference, chat models get the template wrapped and the answer prefix
 * appended after the wrapper, so the model continues right after the prefix:
 * {@code prompt = wrapUserMessage(template) + answerPrefix}. Base models use {@link #IDENTITY}.
 */
@FunctionalInterface
public interface ChatFormatter {

    /** Base models: the template as is. */
    ChatFormatter IDENTITY = message -> message;

    /** The text the model sees for one user turn followed by the start of the assistant turn. */
    String wrapUserMessage(String message);

    /**
     * A formatter from a pattern with one {@code {message}} placeholder, e.g.
     * {@code "<|user|>\n{message}<|end|>\n<|assistant|>\n"}.
     */
    static ChatFormatter fromPattern(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        int at = pattern.indexOf("{message}");
        if (at < 0 || pattern.indexOf("{message}", at + 1) >= 0) {
            throw new IllegalArgumentException("a chat pattern needs exactly one {message} placeholder: " + pattern);
        }
        String before = pattern.substring(0, at);
        String after = pattern.substring(at + "{message}".length());
        return message -> before + message + after;
    }
}
