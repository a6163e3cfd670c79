package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Checks against the real installed sources; skipped when they are not installed. */
class InstalledSourcesTest {

    private static Sources sources;

    @BeforeAll
    static void locate() {
        sources = Sources.locate(null);
        Assumptions.assumeTrue(sources.hasEssay() && sources.hasWordLists(),
                "sources not installed in " + sources.root() + " (datasets/scripts/install-sources.sh)");
    }

    @Test
    void wordListsHaveEverydayWordsInTheThousands() {
        WordLists words = sources.wordLists();
        assertTrue(words.adjectives().size() > 3000, "adjectives " + words.adjectives().size());
        assertTrue(words.nouns().size() > 7000, "nouns " + words.nouns().size());
        assertTrue(words.verbs().size() > 3000, "verbs " + words.verbs().size());
        assertTrue(words.commonWordPool().size() > 10000);
        assertTrue(words.english().size() > 50000);
        assertTrue(words.adjectives().contains("green") && words.nouns().contains("house") && words.verbs().contains("run"));
    }

    @Test
    void theEssayProseIsLong() {
        assertTrue(sources.essay().words() > 1_500_000, "words " + sources.essay().words());
        assertTrue(sources.longText("moby-dick").length() > 1_000_000);
    }

    @Test
    void realSourcesFitAt32K() {
        for (Tokenizer tokenizer : new Tokenizer[] {ApproximateTokenizer.spmLike(), ApproximateTokenizer.bpeLike()}) {
            RulerGenerator generator = RulerGenerator.builder(tokenizer).sources(sources).build();
            for (RulerTask task : TestData.offlineTasks()) {
                Sample sample = generator.generate(task, 32768, 0, 42);
                assertTrue(sample.length() <= 32768 && sample.length() > 30000, task + ": " + sample.length());
                SizingTest.assertAnswersInPrompt(sample);
            }
            assertEquals(0, generator.skipReason(RulerTask.VT).stream().count());
        }
    }
}
