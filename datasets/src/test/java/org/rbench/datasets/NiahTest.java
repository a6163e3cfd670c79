package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class NiahTest {

    @Test
    void depthsAreFortyEvenlySpacedPercentages() {
        assertEquals(40, Niah.DEPTHS.length);
        assertEquals(0, Niah.DEPTHS[0]);
        assertEquals(3, Niah.DEPTHS[1]); // 2.56 rounds to 3
        assertEquals(5, Niah.DEPTHS[2]);
        assertEquals(50, Niah.DEPTHS[20] - 1); // 51.28 -> 51
        assertEquals(100, Niah.DEPTHS[39]);
    }

    @Test
    void needlesGoInAtSentenceIndexesOfTheDrawnDepths() {
        // 100 sentences "S0." .. "S99.": a needle at depth d lands before sentence int(100 * d / 100) = d.
        List<String> sentences = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            sentences.add("S" + i + ".");
        }
        String prose = String.join(" ", sentences);
        Set<Integer> allowed = new HashSet<>();
        for (int d : Niah.DEPTHS) {
            allowed.add(d);
        }
        for (long seed = 0; seed < 20; seed++) {
            List<String> needles = List.of("NEEDLE1.", "NEEDLE2.", "NEEDLE3.", "NEEDLE4.");
            Niah.Placed placed = Niah.insertAtDepths(prose, needles, new SplittableRandom(seed));
            String context = placed.text();
            for (int n = 0; n < 4; n++) {
                assertTrue(context.startsWith(needles.get(n), placed.starts()[n]), "where needle " + n + " starts");
            }
            List<String> pieces = Arrays.asList(context.strip().split(" +"));
            Set<Integer> positions = new HashSet<>();
            for (int n = 1; n <= 4; n++) {
                int at = pieces.indexOf("NEEDLE" + n + ".");
                int before = (int) pieces.subList(0, at).stream().filter(p -> p.startsWith("S")).count();
                assertTrue(allowed.contains(before), "needle before sentence " + before);
                positions.add(before);
            }
            assertEquals(104, pieces.size(), "every sentence and needle once");
            assertTrue(context.replaceAll(" ?NEEDLE\\d\\. ?", " ").strip().replaceAll(" +", " ").equals(prose));
        }
    }

    @Test
    void theDepthScalesWithTheNumberOfSentences() {
        // 10 sentences, depth 51 -> index int(10 * 0.51) = 5.
        String prose = "A0. A1. A2. A3. A4. A5. A6. A7. A8. A9.";
        for (long seed = 0; seed < 50; seed++) {
            String context = Niah.insertAtDepths(prose, List.of("N."), new SplittableRandom(seed)).text();
            int before = context.substring(0, context.indexOf("N.")).split("A\\d\\.", -1).length - 1;
            assertTrue(before >= 0 && before <= 10);
            String[] parts = context.split(" ?N\\. ?");
            assertEquals(prose, (parts[0] + " " + (parts.length > 1 ? parts[1] : "")).strip());
        }
    }

    @Test
    void needlesInLinesKeepEveryLineOnce() {
        List<String> lines = Collections.nCopies(50, "noise");
        Niah.Placed placed = Niah.insertAtLines(lines, List.of("n1", "n2", "n3"), new SplittableRandom(1));
        String context = placed.text();
        for (int n = 0; n < 3; n++) {
            assertTrue(context.startsWith("n" + (n + 1) + "\n", placed.starts()[n]), "where needle " + n + " starts");
        }
        List<String> out = List.of(context.split("\n"));
        assertEquals(53, out.size());
        assertEquals(50, out.stream().filter("noise"::equals).count());
        assertTrue(out.containsAll(List.of("n1", "n2", "n3")));
    }

    @Test
    void queriesAreJoinedLikeTheReference() {
        assertEquals("a", Niah.joinQueries(List.of("a")));
        assertEquals("a, and b", Niah.joinQueries(List.of("a", "b")));
        assertEquals("a, b, c, and d", Niah.joinQueries(List.of("a", "b", "c", "d")));
    }

    @Test
    void multikeyTasksHideDistinctKeysAndAskForOne() {
        RulerGenerator generator = TestData.generator(ApproximateTokenizer.bpeLike());
        for (int i = 0; i < 5; i++) {
            Sample sample = generator.generate(RulerTask.NIAH_MULTIKEY_1, 8192, i, 42);
            List<String> keys = needleKeys(sample.input());
            assertEquals(4, keys.size());
            assertEquals(4, new HashSet<>(keys).size());
            String asked = sample.answerPrefix().replace(" The special magic number for ", "")
                    .replace(" mentioned in the provided text is", "");
            assertTrue(keys.contains(asked));
            assertTrue(sample.input().contains("for " + asked + " is: " + sample.outputs().getFirst() + "."));
        }
        Sample needles = generator.generate(RulerTask.NIAH_MULTIKEY_3, 8192, 0, 42);
        List<String> keys = needleKeys(needles.input());
        assertTrue(keys.size() > 50, "distractor needles");
        String asked = needles.answerPrefix().replace(" The special magic uuid for ", "")
                .replace(" mentioned in the provided text is", "");
        assertEquals(1, Collections.frequency(keys, asked), "the asked key appears once");
        assertTrue(asked.matches("[0-9a-f-]{36}"));
    }

    @Test
    void multiqueryAsksForFourKeysAndMultivalueHidesFourValues() {
        RulerGenerator generator = TestData.generator(ApproximateTokenizer.spmLike());
        Sample query = generator.generate(RulerTask.NIAH_MULTIQUERY, 4096, 3, 42);
        assertEquals(4, query.outputs().size());
        assertTrue(query.answerPrefix().matches(" The special magic numbers for [a-z-]+, [a-z-]+, [a-z-]+, and [a-z-]+ "
                + "mentioned in the provided text are"));
        Sample value = generator.generate(RulerTask.NIAH_MULTIVALUE, 4096, 3, 42);
        assertEquals(4, value.outputs().size());
        String key = needleKeys(value.input()).getFirst();
        assertEquals(4, Collections.frequency(needleKeys(value.input()), key));
        for (String v : value.outputs()) {
            assertTrue(v.matches("[1-9]\\d{6}"));
        }
    }

    private static List<String> needleKeys(String input) {
        Matcher m = Pattern.compile("One of the special magic \\w+ for (\\S+) is: ").matcher(input);
        List<String> keys = new ArrayList<>();
        while (m.find()) {
            keys.add(m.group(1));
        }
        return keys;
    }
}
