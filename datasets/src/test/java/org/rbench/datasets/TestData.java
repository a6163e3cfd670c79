package org.rbench.datasets;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** Fixtures shared by the tests: the small committed sources and synthetic word lists. */
final class TestData {

    private static WordLists syntheticWordLists;

    private TestData() {
    }

    /** The committed fixture sources (src/test/resources/sources), laid out as the install script does. */
    static Sources fixtureSources() {
        return Sources.at(resource("/sources"));
    }

    static Path resource(String name) {
        try {
            return Path.of(TestData.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Word lists large enough for cwe at 32K (which needs a few thousand distinct words) without
     * committing large files: pronounceable made-up words of three syllables.
     */
    static synchronized WordLists syntheticWordLists() {
        if (syntheticWordLists == null) {
            String consonants = "bcdfghjklmnprstvz";
            String vowels = "aeiou";
            Random random = new Random(7);
            Set<String> words = new LinkedHashSet<>();
            while (words.size() < 6000) {
                StringBuilder w = new StringBuilder();
                for (int s = 0; s < 3; s++) {
                    w.append(consonants.charAt(random.nextInt(consonants.length())))
                            .append(vowels.charAt(random.nextInt(vowels.length())));
                }
                words.add(w.toString());
            }
            List<String> all = new ArrayList<>(words);
            syntheticWordLists = new WordLists(all.subList(0, 1500), all.subList(1500, 4500), all.subList(4500, 6000),
                    List.of());
        }
        return syntheticWordLists;
    }

    /** A generator on the fixture prose and the synthetic word lists, with QA miniatures. */
    static RulerGenerator generator(Tokenizer tokenizer) {
        return generator(tokenizer, ChatFormatter.IDENTITY);
    }

    static RulerGenerator generator(Tokenizer tokenizer, ChatFormatter chat) {
        return RulerGenerator.builder(tokenizer)
                .chat(chat)
                .essay(fixtureSources().essay())
                .wordLists(syntheticWordLists())
                .squad(resource("/qa/squad-dev-mini.json"))
                .hotpotQa(resource("/qa/hotpot-dev-mini.json"))
                .build();
    }

    /** The 11 tasks that run without downloaded QA datasets. */
    static List<RulerTask> offlineTasks() {
        return java.util.Arrays.stream(RulerTask.values()).filter(t -> !t.needsQaDataset()).toList();
    }
}
