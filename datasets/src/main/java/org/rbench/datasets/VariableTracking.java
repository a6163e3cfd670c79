package org.rbench.datasets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Variable tracking, vt (reference: scripts/data/synthetic/variable_tracking.py): one chain
 * {@code VAR A = 12345}, {@code VAR B = VAR A }, ... of 4 hops hidden among noise lines; the
 * question asks for every variable that holds the value.
 *
 * <p>A one-shot example comes first. As in the reference it is the same task sized to 500
 * tokens (3-letter names, no chat template) and fixed once per seed, with fresh names and
 * value in every sample.
 */
final class VariableTracking implements SizedTask {

    static final int HOPS = 4;
    private static final int EXAMPLE_LENGTH = 500;

    private final int targetLength;
    private final Example example;

    /** The one-shot example's fixed part: how many noise lines, and where the chain goes. */
    record Example(int noiseLines, int[] chainLines) {
    }

    VariableTracking(int targetLength, Example example) {
        this.targetLength = targetLength;
        this.example = example;
    }

    /** Sizes the one-shot example to 500 tokens with the tokenizer (no chat template, nothing to generate). */
    static Example calibrateExample(Tokenizer tokenizer, long seed) {
        SizedTask exampleTask = new SizedTask() {
            @Override
            public Prompt build(int units, int index, long sampleSeed) {
                return exampleAt(units, sampleSeed);
            }

            @Override
            public int minUnits() {
                return HOPS + 1;
            }

            @Override
            public int increment() {
                return 5;
            }

            @Override
            public int minTokensPerIncrement() {
                return 0;
            }

            @Override
            public String unitName() {
                return "noise lines";
            }
        };
        PromptSizer sizer = new PromptSizer(tokenizer, ChatFormatter.IDENTITY, "vt (one-shot example)", EXAMPLE_LENGTH, 0);
        int lines = sizer.calibrate(exampleTask, 0, seed);
        SplittableRandom rng = new SplittableRandom(seed);
        return new Example(lines, chainLines(lines, rng));
    }

    /** The example at a size, for calibration: names and value as the example's text has them. */
    private static Prompt exampleAt(int lines, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        Example example = new Example(lines, chainLines(lines, rng));
        return new Prompt(exampleText(example, List.of("AAA", "BBB", "CCC", "DDD", "EEE"), 12345), "", List.of(), List.of());
    }

    @Override
    public Prompt build(int units, int index, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        SplittableRandom contentRng = rng.split();
        SplittableRandom placementRng = rng.split();

        List<String> names = names(5, contentRng);
        int value = Draws.between(10_000, 99_999, contentRng);
        List<String> exampleNames = names(3, contentRng);
        int exampleValue = Draws.between(10_000, 99_999, contentRng);

        String context = context(units, names, value, chainLines(units, placementRng));
        Map<String, String> fill = Map.of("context", context, "query", Integer.toString(value),
                "num_v", Integer.toString(HOPS + 1));
        Templates.Filled task = Templates.fillMarked(Templates.VARIABLE_TRACKING, fill);
        String prefix = Templates.fill(Templates.VARIABLE_TRACKING_ANSWER_PREFIX, fill);
        // As in the reference, the example (ending with a newline) comes before the task, after a newline.
        String shot = exampleText(example, exampleNames, exampleValue) + "\n";
        int contextStart = shot.length() + task.start("context");
        List<Span> spans = new ArrayList<>(names.size());
        for (Span statement : statements(context, names, value)) {
            spans.add(statement.shift(contextStart));
        }
        return new Prompt(shot + task.text(), prefix, names, spans);
    }

    /**
     * The answer spans of vt: the chain's statements ({@code VAR A = 12345}, {@code VAR B = VAR A},
     * ...; without the trailing space), each the line that assigns one of the answers, in the context.
     */
    static List<Span> statements(String context, List<String> names, int value) {
        List<Span> spans = new ArrayList<>(names.size());
        for (int j = 0; j < names.size(); j++) {
            String statement = "VAR " + names.get(j) + " = " + (j == 0 ? Integer.toString(value) : "VAR " + names.get(j - 1));
            int start;
            if (context.startsWith(statement)) {
                start = 0;
            } else {
                int newline = context.indexOf("\n" + statement);
                if (newline < 0) {
                    throw new IllegalStateException("vt: the statement '" + statement + "' is not in the context");
                }
                start = newline + 1;
            }
            spans.add(new Span(start, start + statement.length()));
        }
        return spans;
    }

    /** The example's text: the task with its answer prefix, a space, and the answer. */
    private static String exampleText(Example example, List<String> names, int value) {
        String context = context(example.noiseLines(), names, value, example.chainLines());
        Map<String, String> fill = Map.of("context", context, "query", Integer.toString(value),
                "num_v", Integer.toString(HOPS + 1));
        return Templates.fill(Templates.VARIABLE_TRACKING, fill)
                + Templates.fill(Templates.VARIABLE_TRACKING_ANSWER_PREFIX, fill)
                + " " + String.join(" ", names) + "\n";
    }

    /** The reference's line positions of the chain's statements: sorted random lines. */
    private static int[] chainLines(int noiseLines, SplittableRandom rng) {
        int[] positions = Draws.sample(noiseLines, HOPS + 1, rng);
        Arrays.sort(positions);
        return positions;
    }

    /**
     * Noise lines with the chain's statements inserted (statement j at position p_j + j),
     * joined by newlines, then ". \n" replaced by ".\n" as in the reference.
     */
    static String context(int noiseLines, List<String> names, int value, int[] positions) {
        List<String> chain = new ArrayList<>(names.size());
        chain.add("VAR " + names.getFirst() + " = " + value);
        for (int j = 1; j < names.size(); j++) {
            chain.add("VAR " + names.get(j) + " = VAR " + names.get(j - 1) + " ");
        }
        List<String> lines = new ArrayList<>(Collections.nCopies(noiseLines, Templates.NOISE_LINE));
        for (int j = 0; j < chain.size(); j++) {
            lines.add(positions[j] + j, chain.get(j));
        }
        return String.join("\n", lines).replace(". \n", ".\n");
    }

    /** HOPS + 1 distinct variable names of {@code letters} upper-case letters. */
    private static List<String> names(int letters, SplittableRandom rng) {
        Set<String> seen = new HashSet<>();
        List<String> names = new ArrayList<>();
        while (names.size() < HOPS + 1) {
            String name = Draws.letters(letters, 'A', rng);
            if (seen.add(name)) {
                names.add(name);
            }
        }
        return names;
    }

    @Override
    public int minUnits() {
        return HOPS + 1;
    }

    @Override
    public int increment() {
        return targetLength < 4096 ? 5 : 10;
    }

    @Override
    public int minTokensPerIncrement() {
        return increment() * 10; // a noise line is at least ten tokens
    }

    @Override
    public String unitName() {
        return "noise lines";
    }
}
