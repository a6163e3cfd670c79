package org.rbench.datasets;

import org.rbench.llamacpp.ChatTemplate;
import org.rbench.llamacpp.LlamaModel;
import org.rbench.llamacpp.Vocabulary;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A llama.cpp vocabulary (any GGUF with tokenizer metadata, loaded vocabulary-only) as a
 * {@link Tokenizer}: special tokens are parsed, BOS is not added (the engine adds it), and
 * the model's own chat template, if it has one, becomes the {@link ChatFormatter}.
 */
public final class LlamaTokenizer implements Tokenizer, AutoCloseable {
    private final LlamaModel model;
    private final Vocabulary vocabulary;
    private final String name;

    private LlamaTokenizer(LlamaModel model, String name) {
        this.model = model;
        this.vocabulary = model.vocabulary();
        this.name = name;
    }

    /** Loads the vocabulary of a GGUF file; clear errors for a missing or corrupt file. */
    public static LlamaTokenizer open(Path gguf) {
        LlamaModel m = LlamaModel.load(gguf, LlamaModel.Options.vocabularyOnly());
        if (m.vocabulary().type() == Vocabulary.Type.NONE) {
            m.close();
            throw new IllegalArgumentException(gguf + " has no vocabulary (tokenizer.ggml.model = no_vocab)");
        }
        return new LlamaTokenizer(m, gguf.getFileName().toString());
    }

    @Override
    public int[] encode(String text) {
        return vocabulary.tokenize(text, false, true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Optional<ChatFormatter> chatFormatter() {
        String template = model.chatTemplate();
        if (template == null || template.isBlank()) {
            return Optional.empty();
        }
        return Optional.of(message -> ChatTemplate.apply(template, List.of(new ChatTemplate.Message("user", message)), true));
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    @Override
    public void close() {
        model.close();
    }
}
