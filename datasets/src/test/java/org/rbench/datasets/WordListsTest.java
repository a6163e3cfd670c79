package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordListsTest {

    @Test
    void keepsEverydaySingleWordsOfWordNet(@TempDir Path dir) throws IOException {
        Path index = dir.resolve("index.adj");
        Files.writeString(index, String.join("\n",
                "  1 This software and database is being provided to you, the LICENSEE, by  ",
                "awake a 2 3 ! & ^ 2 1 00186616 00190653  ",
                "biased a 1 1 & 1 0 01723092  ",
                "cross-shaped a 1 1 & 1 0 02146558  ",
                "dry a 16 5 ! & ^ = + 16 2 02551381 01266092  ",
                "abo n 1 2 @ ; 1 0 09646208  ",
                "big_deal n 1 1 @ 1 3 0000  ",
                "Aachen n 1 1 @ 1 1 0000  ",
                "extraordinarily r 1 0 1 2 0000  ",
                ""));
        assertEquals(List.of("awake", "dry"), WordLists.readWordNetIndex(index));
    }

    @Test
    void readsTheFixtureSources() {
        WordLists words = TestData.fixtureSources().wordLists();
        assertFalse(words.adjectives().isEmpty());
        assertFalse(words.nouns().isEmpty());
        assertFalse(words.verbs().isEmpty());
        assertTrue(words.english().size() > 100);
        assertTrue(words.english().stream().allMatch(w -> w.matches("[a-z]{3,12}")));
        assertTrue(words.adjectives().stream().allMatch(w -> w.matches("[a-z]{3,10}")));
        List<String> pool = words.commonWordPool();
        assertEquals(pool.stream().distinct().sorted().toList(), pool);
        assertTrue(pool.containsAll(words.verbs()));
    }

    @Test
    void aFileWithoutWordsIsAnError(@TempDir Path dir) throws IOException {
        Path index = dir.resolve("index.noun");
        Files.writeString(index, "  licence only\n");
        assertThrows(IllegalArgumentException.class, () -> WordLists.readWordNetIndex(index));
        assertThrows(IllegalArgumentException.class, () -> new WordLists(List.of(), List.of("a"), List.of(), List.of()));
    }
}
