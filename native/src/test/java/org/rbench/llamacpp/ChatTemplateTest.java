package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ChatTemplateTest {
    @Test
    void builtInTemplatesFormatAConversation() {
        List<ChatTemplate.Message> chat = List.of(new ChatTemplate.Message("user", "What is 2+2?"));
        assertEquals("<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.apply("chatml", chat, true));
        assertEquals("<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                ChatTemplate.apply("llama3", chat, true));
    }

    @Test
    void unknownTemplateIsAClearError() {
        assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.apply("no-such-template", List.of(new ChatTemplate.Message("user", "x")), true));
        assertThrows(IllegalArgumentException.class,
                () -> ChatTemplate.apply("", List.of(new ChatTemplate.Message("user", "x")), true));
    }
}
