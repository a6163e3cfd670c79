package org.rbench.datasets;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.rbench.datasets.NiahConfig.Haystack;
import org.rbench.datasets.NiahConfig.NeedleType;

/**
 * Needle in a haystack: the eight niah tasks (reference: scripts/data/synthetic/niah.py).
 *
 * <p>Needles {@code One of the special magic {type} for {key} is: {value}.} hide in essay
 * prose (at sentence boundaries, at depths drawn from 40 evenly spaced percentages), in
 * noise lines or among distractor needles (at random lines); the question asks for the
 * values of one or more keys. Deliberate difference from the reference: keys are distinct,
 * and distractor needles never reuse a real key, so each question has exactly the answers
 * listed in {@code outputs}.
 */
final class Niah implements SizedTask {

    /** round(linspace(0, 100, 40)): the depths (in percent) needles are placed at in prose. */
    static final int[] DEPTHS = depths();

    private final NiahConfig config;
    private final int targetLength;
    private final WordLists words;
    private final EssayHaystack essay;

    /**
     * @param words needed when keys or values are words
     * @param essay needed for the essay haystack
     */
    Niah(NiahConfig config, int targetLength, WordLists words, EssayHaystack essay) {
        this.config = config;
        this.targetLength = targetLength;
        this.words = words;
        this.essay = essay;
        if (config.needsWordLists() && words == null) {
            throw new IllegalArgumentException("niah with word keys or values needs the word lists");
        }
        if (config.haystack() == Haystack.ESSAY && essay == null) {
            throw new IllegalArgumentException("the essay haystack needs essay prose");
        }
        if (config.needles() > DEPTHS.length) {
            throw new IllegalArgumentException("at most " + DEPTHS.length + " needles");
        }
    }

    /** A needle sentence, where its value starts in it, and whether the question asks for its key. */
    private record Needle(String text, int valueStart, int valueLength, boolean asked) {
    }

    @Override
    public Prompt build(int units, int index, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        SplittableRandom contentRng = rng.split();
        SplittableRandom haystackRng = rng.split();
        SplittableRandom placementRng = rng.split();

        // The sample's content first, from its own stream, so it is the same at every size.
        String type = config.valueType().plural();
        List<String> keys = new ArrayList<>();
        List<List<String>> values = new ArrayList<>();
        List<Needle> needles = new ArrayList<>();
        Set<String> usedKeys = new HashSet<>();
        for (int k = 0; k < config.keys(); k++) {
            String key;
            do {
                key = draw(config.keyType(), contentRng);
            } while (!usedKeys.add(key));
            keys.add(key);
            List<String> keyValues = new ArrayList<>();
            for (int v = 0; v < config.values(); v++) {
                String value = draw(config.valueType(), contentRng);
                keyValues.add(value);
                Templates.Filled needle = Templates.fillMarked(Templates.NIAH_NEEDLE,
                        Map.of("type_needle_v", type, "key", key, "value", value));
                needles.add(new Needle(needle.text(), needle.start("value"), value.length(), false));
            }
            values.add(keyValues);
        }
        Draws.shuffle(needles, contentRng);
        int[] asked = Draws.sample(config.keys(), config.queries(), contentRng);
        List<String> queries = new ArrayList<>();
        List<String> answers = new ArrayList<>();
        Set<String> askedNeedles = new HashSet<>();
        for (int i : asked) {
            queries.add(keys.get(i));
            answers.addAll(values.get(i));
            for (String value : values.get(i)) {
                askedNeedles.add(needle(type, keys.get(i), value));
            }
        }
        needles.replaceAll(n -> new Needle(n.text(), n.valueStart(), n.valueLength(), askedNeedles.contains(n.text())));
        List<String> needleTexts = needles.stream().map(Needle::text).toList();

        Placed context = switch (config.haystack()) {
            case ESSAY -> insertAtDepths(essay.firstWords(units), needleTexts, placementRng);
            case NOISE -> insertAtLines(Collections.nCopies(units, Templates.NOISE_LINE), needleTexts, placementRng);
            case NEEDLE -> insertAtLines(distractors(units, usedKeys, haystackRng), needleTexts, placementRng);
        };

        String template = TaskFamily.NIAH.template();
        String prefix = TaskFamily.NIAH.answerPrefix();
        String typeName = type;
        if (config.singular()) {
            template = Templates.singular(template);
            prefix = Templates.singular(prefix);
            typeName = config.valueType().singular();
        }
        String query = joinQueries(queries);
        Map<String, String> fill = Map.of("type_needle_v", typeName, "context", context.text(), "query", query);
        Templates.Filled message = Templates.fillMarked(template, fill);
        // The answer spans: the values of the asked keys' needles, in text order.
        List<Span> spans = new ArrayList<>();
        for (int i = 0; i < needles.size(); i++) {
            Needle n = needles.get(i);
            if (n.asked()) {
                int start = message.start("context") + context.starts()[i] + n.valueStart();
                spans.add(new Span(start, start + n.valueLength()));
            }
        }
        spans.sort(java.util.Comparator.comparingInt(Span::start));
        return new Prompt(message.text(), Templates.fill(prefix, fill), answers, spans);
    }

    /** A haystack with needles in it: its text and where needle i starts. */
    record Placed(String text, int[] starts) {
    }

    private String draw(NeedleType type, SplittableRandom rng) {
        return switch (type) {
            case NUMBERS -> Integer.toString(Draws.between(1_000_000, 9_999_999, rng));
            case UUIDS -> Draws.uuid4(rng);
            case WORDS -> words.adjectives().get(rng.nextInt(words.adjectives().size())) + "-"
                    + words.nouns().get(rng.nextInt(words.nouns().size()));
        };
    }

    private static String needle(String type, String key, String value) {
        return Templates.fill(Templates.NIAH_NEEDLE, Map.of("type_needle_v", type, "key", key, "value", value));
    }

    /** Distractor needles with fresh keys (never a real one) and values of the task's types. */
    private List<String> distractors(int count, Set<String> realKeys, SplittableRandom rng) {
        String type = config.valueType().plural();
        List<String> lines = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String key;
            do {
                key = draw(config.keyType(), rng);
            } while (realKeys.contains(key));
            lines.add(needle(type, key, draw(config.valueType(), rng)));
        }
        return lines;
    }

    /**
     * The essay haystack: split the prose into sentences, insert the needles at sentence
     * index int(n_sentences * depth / 100) for depths drawn without replacement, join with
     * spaces (as the reference does, including its empty segments).
     */
    static Placed insertAtDepths(String prose, List<String> needles, SplittableRandom rng) {
        int[] ends = EssayHaystack.sentenceEnds(prose);
        int sentences = ends.length;
        int[] drawn = Draws.sample(DEPTHS.length, needles.size(), rng);
        int[] positions = new int[needles.size() + 2];
        for (int i = 0; i < drawn.length; i++) {
            positions[i + 1] = (int) (sentences * (DEPTHS[drawn[i]] / 100.0));
        }
        java.util.Arrays.sort(positions, 1, positions.length - 1);
        positions[positions.length - 1] = sentences;
        // the needles in drawn order go to the sorted depths: needle i is the i-th inserted
        StringBuilder text = new StringBuilder(prose.length() + needles.stream().mapToInt(String::length).sum()
                + 2 * needles.size());
        int[] starts = new int[needles.size()];
        for (int i = 1; i < positions.length; i++) {
            if (i > 1) {
                text.append(' ');
            }
            text.append(sentenceRange(prose, ends, positions[i - 1], positions[i]));
            if (i - 1 < needles.size()) {
                text.append(' ');
                starts[i - 1] = text.length();
                text.append(needles.get(i - 1));
            }
        }
        return new Placed(text.toString(), starts);
    }

    /** Sentences [from, to) of the prose, joined by single spaces (as they are in the prose). */
    private static String sentenceRange(String prose, int[] ends, int from, int to) {
        if (to <= from) {
            return "";
        }
        int start = from == 0 ? 0 : ends[from - 1] + 1;
        return prose.substring(start, ends[to - 1]);
    }

    /** Noise and needle haystacks: needles go in at random line indices; lines joined by newlines. */
    static Placed insertAtLines(List<String> lines, List<String> needles, SplittableRandom rng) {
        List<String> all = new ArrayList<>(lines.size() + needles.size());
        all.addAll(lines);
        // which needle each line is (-1: a haystack line), to find the needles after the insertions
        List<Integer> needleOf = new ArrayList<>(java.util.Collections.nCopies(lines.size(), -1));
        int[] indexes = Draws.sample(lines.size(), needles.size(), rng);
        Integer[] descending = java.util.Arrays.stream(indexes).boxed().sorted(Collections.reverseOrder())
                .toArray(Integer[]::new);
        for (int i = 0; i < descending.length; i++) {
            all.add(descending[i], needles.get(i));
            needleOf.add(descending[i], i);
        }
        StringBuilder text = new StringBuilder();
        int[] starts = new int[needles.size()];
        for (int line = 0; line < all.size(); line++) {
            if (line > 0) {
                text.append('\n');
            }
            if (needleOf.get(line) >= 0) {
                starts[needleOf.get(line)] = text.length();
            }
            text.append(all.get(line));
        }
        return new Placed(text.toString(), starts);
    }

    /** "a", "a, and b", "a, b, and c": the reference's way of asking for several keys. */
    static String joinQueries(List<String> queries) {
        if (queries.size() == 1) {
            return queries.getFirst();
        }
        return String.join(", ", queries.subList(0, queries.size() - 1)) + ", and " + queries.getLast();
    }

    private static int[] depths() {
        int[] depths = new int[40];
        for (int i = 0; i < depths.length; i++) {
            depths[i] = (int) Math.round(i * 100.0 / 39);
        }
        return depths;
    }

    @Override
    public int minUnits() {
        return config.haystack() == Haystack.ESSAY ? 1 : config.needles();
    }

    @Override
    public int increment() {
        if (config.haystack() == Haystack.ESSAY) {
            return 500;
        }
        return targetLength < 4096 ? 5 : 25;
    }

    @Override
    public int minTokensPerIncrement() {
        // A word is at least one token; a noise line or a needle is at least ten.
        return config.haystack() == Haystack.ESSAY ? increment() / 2 : increment() * 10;
    }

    @Override
    public String unitName() {
        return switch (config.haystack()) {
            case ESSAY -> "words of prose";
            case NOISE -> "noise lines";
            case NEEDLE -> "distractor needles";
        };
    }
}
