package org.rbench.datasets;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Common words extraction, cwe (reference: scripts/data/synthetic/common_words_extraction.py):
 * a numbered list of words where 10 words appear 30 times and the others 3 times (6 and 1
 * below 4096 tokens); the question asks for the 10 common words. A few-shot example (40
 * words, 10x and 3x; 20 words, 3x and 1x below 4096) with its answer comes first.
 *
 * <p>Words are drawn from the part-of-speech pool (nouns, adjectives, verbs; de-duplicated,
 * sorted and shuffled with the seed); when a list needs more words than the pool has they
 * come from the larger English list, as the reference falls back to its English words.
 */
final class CommonWords implements SizedTask {

    static final int COMMON_WORDS = 10;

    private final int targetLength;
    private final List<String> pool;
    private final List<String> english;

    /**
     * @param pool    the part-of-speech pool, already shuffled with the seed
     * @param english the larger fallback list (may be empty)
     */
    CommonWords(int targetLength, List<String> pool, List<String> english) {
        this.targetLength = targetLength;
        this.pool = List.copyOf(pool);
        this.english = List.copyOf(english);
    }

    private boolean shortTarget() {
        return targetLength < 4096;
    }

    @Override
    public Prompt build(int units, int index, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        SplittableRandom exampleRng = rng.split();
        SplittableRandom wordsRng = rng.split();
        SplittableRandom orderRng = rng.split();

        Example shot = shortTarget() ? example(20, 3, 1, exampleRng, exampleRng) : example(40, 10, 3, exampleRng, exampleRng);
        Example task = shortTarget() ? example(units, 6, 1, wordsRng, orderRng) : example(units, 30, 3, wordsRng, orderRng);

        String prefix = Templates.COMMON_WORDS_ANSWER_PREFIX;
        String fewShot = Templates.fill(Templates.COMMON_WORDS, Map.of("context", shot.context())) + prefix
                + " " + numbered(shot.common());
        Templates.Filled question = Templates.fillMarked(Templates.COMMON_WORDS, Map.of("context", task.context()));
        int contextStart = fewShot.length() + 1 + question.start("context");
        // The answer spans: every occurrence of a common word in the task's list (not the example's).
        List<Span> spans = task.commonSpans().stream().map(span -> span.shift(contextStart)).toList();
        return new Prompt(fewShot + "\n" + question.text(), prefix, task.common(), spans);
    }

    /** A numbered list, its common words, and where they occur in it. */
    private record Example(String context, List<String> common, List<Span> commonSpans) {
    }

    /**
     * {@code words} distinct words, the first 10 repeated {@code commonRepeats} times and the
     * rest {@code otherRepeats} times, shuffled and numbered. The words are a prefix of a
     * random permutation, so a larger list keeps the smaller one's words.
     */
    private Example example(int words, int commonRepeats, int otherRepeats, SplittableRandom wordsRng,
                            SplittableRandom orderRng) {
        List<String> source = words <= pool.size() ? pool : english;
        if (words > source.size()) {
            throw new IllegalArgumentException("cwe needs " + words + " distinct words at target length "
                    + targetLength + " but the word lists have " + Math.max(pool.size(), english.size()));
        }
        int[] picked = Draws.sample(source.size(), words, wordsRng);
        List<String> common = new ArrayList<>(COMMON_WORDS);
        List<String> list = new ArrayList<>(words * otherRepeats + COMMON_WORDS * commonRepeats);
        for (int i = 0; i < picked.length; i++) {
            String word = source.get(picked[i]);
            boolean isCommon = i < COMMON_WORDS;
            if (isCommon) {
                common.add(word);
            }
            for (int r = 0; r < (isCommon ? commonRepeats : otherRepeats); r++) {
                list.add(word);
            }
        }
        Draws.shuffle(list, orderRng);
        List<Span> spans = new ArrayList<>(COMMON_WORDS * commonRepeats);
        String text = numbered(list, new java.util.HashSet<>(common), spans);
        return new Example(text, common, spans);
    }

    /** "1. w 2. w ...". */
    static String numbered(List<String> words) {
        return numbered(words, java.util.Set.of(), new ArrayList<>());
    }

    /** "1. w 2. w ...", adding the spans of the words in {@code marked} to {@code spans}. */
    private static String numbered(List<String> words, java.util.Set<String> marked, List<Span> spans) {
        StringBuilder out = new StringBuilder(words.size() * 12);
        for (int i = 0; i < words.size(); i++) {
            if (i > 0) {
                out.append(' ');
            }
            out.append(i + 1).append(". ");
            if (marked.contains(words.get(i))) {
                spans.add(new Span(out.length(), out.length() + words.get(i).length()));
            }
            out.append(words.get(i));
        }
        return out.toString();
    }

    @Override
    public int minUnits() {
        return COMMON_WORDS;
    }

    @Override
    public int increment() {
        return 10;
    }

    @Override
    public int minTokensPerIncrement() {
        // Each word added appears at least once more, as "n. word": at least two tokens.
        return increment() * (shortTarget() ? 1 : 3) * 2;
    }

    @Override
    public String unitName() {
        return "distinct words";
    }
}
