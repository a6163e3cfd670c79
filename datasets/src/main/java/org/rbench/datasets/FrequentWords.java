package org.rbench.datasets;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Frequent words extraction, fwe (reference: scripts/data/synthetic/freq_words_extraction.py):
 * a text of random six-letter "coded" words whose frequencies follow a Zipf law with alpha 2;
 * the most frequent word is replaced by '...' (noise) and the question asks for the next three.
 *
 * <p>The vocabulary has (target - tokens to generate) / 50 words; the word of rank k appears
 * int(N * k^-alpha / zeta(alpha)) times for N words of text (the haystack size). The words
 * are random letters drawn from the sample's seed: no installed source is needed.
 */
final class FrequentWords implements SizedTask {

    static final int WORD_LENGTH = 6;
    static final double ALPHA = 2.0;
    /** zeta(2) = pi^2 / 6. */
    private static final double ZETA_ALPHA = Math.PI * Math.PI / 6;

    private final int vocabularySize;
    private final int increment;

    FrequentWords(int targetLength, int tokensToGenerate) {
        int budget = targetLength - tokensToGenerate;
        this.vocabularySize = budget / 50;
        // The reference's step: 1/32 of the prompt budget, in words.
        this.increment = Math.max(1, budget / 32);
        if (vocabularySize < 4) {
            throw new IllegalArgumentException("fwe: target length " + targetLength + " is too short for the template: "
                    + "it needs a vocabulary of at least 4 coded words, i.e. a target of at least "
                    + (tokensToGenerate + 200) + " tokens");
        }
    }

    /** How often the word of rank k (1-based) appears in a text of {@code words} words. */
    static int occurrences(int words, int rank) {
        return (int) (words * Math.pow(rank, -ALPHA) / ZETA_ALPHA);
    }

    @Override
    public Prompt build(int units, int index, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        SplittableRandom vocabularyRng = rng.split();
        SplittableRandom orderRng = rng.split();

        List<String> vocabulary = vocabulary(vocabularyRng);
        List<String> text = new ArrayList<>(units);
        for (int rank = 1; rank <= vocabulary.size(); rank++) {
            int count = occurrences(units, rank);
            if (count == 0) {
                break; // counts only fall with the rank
            }
            for (int c = 0; c < count; c++) {
                text.add(vocabulary.get(rank - 1));
            }
        }
        Draws.shuffle(text, orderRng);
        List<String> answers = vocabulary.subList(1, 4);
        // The answer spans: every occurrence of the three answer words in the coded text.
        Set<String> answerWords = new HashSet<>(answers);
        StringBuilder context = new StringBuilder(text.size() * (WORD_LENGTH + 1));
        List<Span> spans = new ArrayList<>();
        for (String word : text) {
            if (!context.isEmpty()) {
                context.append(' ');
            }
            if (answerWords.contains(word)) {
                spans.add(new Span(context.length(), context.length() + word.length()));
            }
            context.append(word);
        }
        Templates.Filled message = Templates.fillMarked(Templates.FREQUENT_WORDS, Map.of("context", context.toString()));
        int contextStart = message.start("context");
        return new Prompt(message.text(), Templates.FREQUENT_WORDS_ANSWER_PREFIX, answers,
                spans.stream().map(span -> span.shift(contextStart)).toList());
    }

    /** Distinct random six-letter words, sorted then shuffled (as the reference does), the first replaced by '...'. */
    private List<String> vocabulary(SplittableRandom rng) {
        Set<String> distinct = new HashSet<>();
        while (distinct.size() < vocabularySize) {
            distinct.add(Draws.letters(WORD_LENGTH, 'a', rng));
        }
        List<String> vocabulary = new ArrayList<>(new TreeSet<>(distinct));
        Draws.shuffle(vocabulary, rng);
        vocabulary.set(0, "...");
        return vocabulary;
    }

    @Override
    public int minUnits() {
        // The smallest text in which the three answers (ranks 2 to 4) all appear.
        int words = 1;
        while (occurrences(words, 4) < 1) {
            words++;
        }
        return words;
    }

    @Override
    public int increment() {
        return increment;
    }

    @Override
    public int minTokensPerIncrement() {
        // floor(a + b) - floor(a) >= floor(b): each rank gains at least floor(increment * p_k) words of >= 1 token.
        int words = 0;
        for (int rank = 1; rank <= vocabularySize; rank++) {
            words += occurrences(increment, rank);
        }
        return words;
    }

    @Override
    public String unitName() {
        return "words of coded text";
    }
}
