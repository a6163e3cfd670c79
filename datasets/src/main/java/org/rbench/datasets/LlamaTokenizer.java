package org.rbench.datasets;

import org.rbench.llamacpp.ChatTemplate;
import org.rbench.llamacpp.LlamaModel;
import org.rbench.llamacpp.Vocabulary;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
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
    /** Each token's bytes, filled as tokens are met (llama_token_to_piece is a native call per token). */
    private final byte[][] pieces;

    private LlamaTokenizer(LlamaModel model, String name) {
        this.model = model;
        this.vocabulary = model.vocabulary();
        this.name = name;
        this.pieces = new byte[vocabulary.size()][];
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

    /**
     * Places each token's bytes ({@code llama_token_to_piece}, special tokens rendered) along
     * the text's UTF-8 bytes. A piece may start with a space the text does not have at that
     * point (SentencePiece's dummy prefix): the token then covers the rest of its piece.
     */
    @Override
    public TokenizedText encodeWithOffsets(String text) {
        int[] ids = encode(text);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] byteStarts = new int[ids.length];
        int[] byteEnds = new int[ids.length];
        int at = 0;
        for (int i = 0; i < ids.length; i++) {
            byte[] piece = piece(ids[i]);
            int skip = 0;
            if (!matches(bytes, at, piece, 0)) {
                if (piece.length > 0 && piece[0] == ' ' && matches(bytes, at, piece, 1)) {
                    skip = 1;
                } else {
                    throw new IllegalStateException(name + ": cannot place token " + i + " (id " + ids[i] + ", '"
                            + new String(piece, StandardCharsets.UTF_8) + "') at byte " + at + " of the text");
                }
            }
            byteStarts[i] = at;
            at += piece.length - skip;
            byteEnds[i] = at;
        }
        if (at != bytes.length) {
            throw new IllegalStateException(name + ": the tokens' pieces cover " + at + " of the text's " + bytes.length
                    + " bytes");
        }
        return Utf8Offsets.toCharacters(text, bytes.length, ids, byteStarts, byteEnds);
    }

    private byte[] piece(int token) {
        byte[] piece = pieces[token];
        if (piece == null) {
            piece = vocabulary.pieceBytes(token, true);
            pieces[token] = piece;
        }
        return piece;
    }

    private static boolean matches(byte[] text, int at, byte[] piece, int from) {
        int n = piece.length - from;
        return at + n <= text.length && Arrays.equals(text, at, at + n, piece, from, piece.length);
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
