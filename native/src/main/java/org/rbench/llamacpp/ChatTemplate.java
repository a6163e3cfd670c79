package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Chat templates through llama_chat_apply_template (llama.cpp's built-in templates,
 * recognised by name such as "llama3", "chatml", or by a model's Jinja template text).
 */
public final class ChatTemplate {
    private ChatTemplate() {
    }

    public record Message(String role, String content) {
    }

    /**
     * Formats the conversation with the template; {@code addAssistant} appends the
     * assistant turn opener so the model continues as the assistant.
     */
    public static String apply(String template, List<Message> messages, boolean addAssistant) {
        if (template == null || template.isBlank()) {
            throw new IllegalArgumentException("no chat template given (the model has none built in)");
        }
        LlamaCpp.initialise();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment chat = arena.allocate(16L * messages.size());
            for (int i = 0; i < messages.size(); i++) {
                chat.set(ValueLayout.ADDRESS, 16L * i, arena.allocateFrom(messages.get(i).role()));
                chat.set(ValueLayout.ADDRESS, 16L * i + 8, arena.allocateFrom(messages.get(i).content()));
            }
            int total = messages.stream().mapToInt(m -> m.content().length() + m.role().length()).sum();
            int cap = 2 * total + 512;
            MemorySegment tmpl = arena.allocateFrom(template);
            MemorySegment buf = arena.allocate(cap);
            int n = Llama.llama_chat_apply_template(tmpl, chat, messages.size(), addAssistant, buf, cap);
            if (n < 0) {
                throw new IllegalArgumentException("llama.cpp does not support this chat template: "
                        + (template.length() > 60 ? template.substring(0, 60) + "..." : template));
            }
            if (n > cap) {
                cap = n + 1;
                buf = arena.allocate(cap);
                n = Llama.llama_chat_apply_template(tmpl, chat, messages.size(), addAssistant, buf, cap);
            }
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }
}
