package org.rbench.datasets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Long public-domain texts cut into documents of a given number of tokens, for perplexity.
 *
 * <p>A text is tokenized once (no BOS) and cut into consecutive, non-overlapping documents
 * of exactly {@code tokensPerDocument} token ids; the incomplete tail is dropped. Only as
 * much of the text as the documents need is tokenized (cut at a line break, with a margin
 * so the cut cannot change the tokens kept). Texts: {@link Sources#LONG_TEXTS}
 * ("moby-dick": Moby-Dick, 1851; "sotu": State of the Union addresses 1790-2021).
 */
public final class PerplexityTexts {

    /** Tokens tokenized beyond the last document, so that cutting the text there cannot change them. */
    private static final int MARGIN_TOKENS = 64;

    private final Sources sources;
    private final Tokenizer tokenizer;

    /** One document: {@code tokens.length == tokensPerDocument}. */
    public record Document(String source, int index, int[] tokens) {

        @Override
        public boolean equals(Object o) {
            return o instanceof Document d && d.source.equals(source) && d.index == index && Arrays.equals(d.tokens, tokens);
        }

        @Override
        public int hashCode() {
            return Objects.hash(source, index, Arrays.hashCode(tokens));
        }

        @Override
        public String toString() {
            return "Document[" + source + " #" + index + ", " + tokens.length + " tokens]";
        }
    }

    public PerplexityTexts(Sources sources, Tokenizer tokenizer) {
        this.sources = Objects.requireNonNull(sources, "sources");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /**
     * Up to {@code maxDocuments} documents (all that the text holds if {@code maxDocuments <= 0})
     * of an installed long text.
     */
    public List<Document> documents(String textName, int tokensPerDocument, int maxDocuments) {
        return cut(textName, sources.longText(textName), tokenizer, tokensPerDocument, maxDocuments);
    }

    /** Cuts any text into documents of {@code tokensPerDocument} tokens. */
    public static List<Document> cut(String name, String text, Tokenizer tokenizer, int tokensPerDocument, int maxDocuments) {
        if (tokensPerDocument < 1) {
            throw new IllegalArgumentException("a document needs at least one token, not " + tokensPerDocument);
        }
        int[] tokens = tokenizePrefix(text, tokenizer, maxDocuments <= 0 ? Long.MAX_VALUE
                : (long) tokensPerDocument * maxDocuments + MARGIN_TOKENS);
        int available = tokens.length / tokensPerDocument;
        if (available == 0) {
            throw new IllegalArgumentException("text '" + name + "' has " + tokens.length
                    + " tokens, fewer than one document of " + tokensPerDocument);
        }
        int count = maxDocuments <= 0 ? available : Math.min(available, maxDocuments);
        List<Document> documents = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            documents.add(new Document(name, i, Arrays.copyOfRange(tokens, i * tokensPerDocument, (i + 1) * tokensPerDocument)));
        }
        return documents;
    }

    /** Tokens of the shortest prefix of the text (cut after a line break) that has {@code wanted} tokens, or of all of it. */
    private static int[] tokenizePrefix(String text, Tokenizer tokenizer, long wanted) {
        if (wanted == Long.MAX_VALUE) {
            return tokenizer.encode(text);
        }
        long chars = Math.min(text.length(), wanted * 6 + 1024); // English prose: about 4 to 5 characters per token
        while (true) {
            int end = cutAtLineBreak(text, (int) chars);
            int[] tokens = tokenizer.encode(text.substring(0, end));
            if (tokens.length >= wanted || end == text.length()) {
                return tokens;
            }
            chars = Math.min(text.length(), (long) (end * (double) wanted / Math.max(1, tokens.length) * 1.2) + 1024);
        }
    }

    private static int cutAtLineBreak(String text, int chars) {
        if (chars >= text.length()) {
            return text.length();
        }
        int at = text.indexOf('\n', chars);
        return at < 0 ? text.length() : at + 1;
    }
}
