package org.rbench.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Part-of-speech word lists: adjectives and nouns for {@code adjective-noun} needle keys, all
 * three for cwe's word pool, and a large English list for cwe when the pool runs short.
 *
 * <p>The reference takes them from the Python package wonderwords. Here they come from
 * WordNet 3.0 (Debian {@code wordnet-base}: index.adj, index.noun, index.verb), keeping
 * single lower-case words of 3 to 10 letters that occur at least once in WordNet's
 * sense-tagged corpus ({@code tagsense_cnt >= 1}), which keeps everyday words (about 3.9K
 * adjectives, 8K nouns, 3.5K verbs) and drops rare ones. The English list is Debian's
 * {@code wamerican} (lower-case words of 3 to 12 letters).
 *
 * @param adjectives sorted, distinct
 * @param nouns      sorted, distinct
 * @param verbs      sorted, distinct
 * @param english    sorted, distinct; may be empty
 */
public record WordLists(List<String> adjectives, List<String> nouns, List<String> verbs, List<String> english) {

    private static final Pattern POOL_WORD = Pattern.compile("[a-z]{3,10}");
    private static final Pattern ENGLISH_WORD = Pattern.compile("[a-z]{3,12}");

    public WordLists {
        adjectives = sortedDistinct(adjectives);
        nouns = sortedDistinct(nouns);
        verbs = sortedDistinct(verbs);
        english = sortedDistinct(english);
        if (adjectives.isEmpty() || nouns.isEmpty()) {
            throw new IllegalArgumentException("word lists need at least one adjective and one noun");
        }
    }

    /** Reads index.adj, index.noun and index.verb from a WordNet dictionary folder, and an English word list. */
    public static WordLists read(Path wordNetDir, Path englishWords) {
        return new WordLists(
                readWordNetIndex(wordNetDir.resolve("index.adj")),
                readWordNetIndex(wordNetDir.resolve("index.noun")),
                readWordNetIndex(wordNetDir.resolve("index.verb")),
                Files.exists(englishWords) ? readPlainList(englishWords) : List.of());
    }

    /**
     * The everyday single words of one WordNet index file. A line is
     * {@code lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt offsets...};
     * the licence header's lines start with two spaces.
     */
    public static List<String> readWordNetIndex(Path indexFile) {
        List<String> words = new ArrayList<>();
        for (String line : lines(indexFile)) {
            if (line.startsWith(" ") || line.isBlank()) {
                continue;
            }
            String[] fields = line.trim().split(" +");
            if (fields.length < 6 || !POOL_WORD.matcher(fields[0]).matches()) {
                continue;
            }
            try {
                int pointers = Integer.parseInt(fields[3]);
                int tagSenseCountField = 4 + pointers + 1;
                if (tagSenseCountField < fields.length && Integer.parseInt(fields[tagSenseCountField]) >= 1) {
                    words.add(fields[0]);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a WordNet index line in " + indexFile + ": " + line, e);
            }
        }
        if (words.isEmpty()) {
            throw new IllegalArgumentException("no words found in WordNet index " + indexFile);
        }
        return words;
    }

    /** Lower-case words of 3 to 12 letters from a file with one word per line. */
    public static List<String> readPlainList(Path file) {
        List<String> words = new ArrayList<>();
        for (String line : lines(file)) {
            String word = line.strip();
            if (ENGLISH_WORD.matcher(word).matches()) {
                words.add(word);
            }
        }
        return words;
    }

    /** cwe's pool: nouns, adjectives and verbs, de-duplicated and sorted. */
    public List<String> commonWordPool() {
        TreeSet<String> pool = new TreeSet<>(nouns);
        pool.addAll(adjectives);
        pool.addAll(verbs);
        return List.copyOf(pool);
    }

    /** Read as ISO-8859-1, which accepts any bytes: only ASCII words are kept anyway. */
    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read word list " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<String> sortedDistinct(List<String> words) {
        return List.copyOf(new TreeSet<>(words));
    }
}
