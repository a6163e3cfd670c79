package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourcesTest {

    @Test
    void theFolderComesFromTheOptionThenTheEnvironmentThenTheRepository(@TempDir Path dir) throws IOException {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.writeString(repo.resolve("mvnw"), "#!/bin/sh\n");
        Path module = Files.createDirectories(repo.resolve("datasets/target"));
        Path given = dir.resolve("given");
        Path fromEnv = dir.resolve("env");

        assertEquals(given.toAbsolutePath(), Sources.locate(given, Map.of("RBENCH_DATA", fromEnv.toString()), module).root());
        assertEquals(fromEnv.toAbsolutePath(), Sources.locate(null, Map.of("RBENCH_DATA", fromEnv.toString()), module).root());
        assertEquals(repo.resolve(".cache/datasets").toAbsolutePath(), Sources.locate(null, Map.of(), module).root());
    }

    @Test
    void missingSourcesNameTheInstallScript(@TempDir Path dir) {
        Sources empty = Sources.at(dir);
        assertFalse(empty.hasEssay());
        assertFalse(empty.hasWordLists());
        Sources.SourcesMissingException e = assertThrows(Sources.SourcesMissingException.class, empty::essay);
        assertTrue(e.getMessage().contains("datasets/scripts/install-sources.sh"), e.getMessage());
        assertTrue(e.getMessage().contains("RBENCH_DATA"));
        assertThrows(Sources.SourcesMissingException.class, empty::wordLists);
        assertThrows(Sources.SourcesMissingException.class, () -> empty.longText("moby-dick"));
    }

    @Test
    void theFixturesAreLaidOutLikeAnInstall() {
        Sources fixtures = TestData.fixtureSources();
        assertTrue(fixtures.hasEssay());
        assertTrue(fixtures.hasWordLists());
        String sotu = fixtures.longText("sotu");
        assertTrue(sotu.startsWith("Fellow-Citizens of the Senate and House of Representatives"));
        assertTrue(sotu.indexOf("\n\n") > 0, "addresses are separated by blank lines");
        assertTrue(fixtures.longText("moby-dick").contains("Call me Ishmael."));
        assertTrue(fixtures.essay().words() > 3000);
    }

    @Test
    void aGeneratorWithoutSourcesFailsOnlyForTasksThatNeedThem(@TempDir Path dir) {
        RulerGenerator generator = RulerGenerator.builder(ApproximateTokenizer.spmLike()).sources(Sources.at(dir)).build();
        assertThrows(Sources.SourcesMissingException.class, () -> generator.generate(RulerTask.NIAH_SINGLE_1, 4096, 0, 1));
        assertTrue(generator.generate(RulerTask.NIAH_MULTIKEY_3, 4096, 0, 1).length() <= 4096);
        assertTrue(generator.generate(RulerTask.FWE, 4096, 0, 1).length() <= 4096);
        assertTrue(generator.generate(RulerTask.VT, 4096, 0, 1).length() <= 4096);
        RulerGenerator.TaskSkippedException skipped = assertThrows(RulerGenerator.TaskSkippedException.class,
                () -> generator.generate(RulerTask.QA_2, 4096, 0, 1));
        assertEquals(RulerTask.QA_2, skipped.task());
        assertTrue(generator.skipReason(RulerTask.QA_1).orElseThrow().contains("--squad FILE"));
        assertTrue(generator.skipReason(RulerTask.CWE).isEmpty());
    }

    @Test
    void taskNamesParse() {
        assertEquals(13, RulerTask.parseList("all").size());
        assertEquals(java.util.List.of(RulerTask.VT, RulerTask.CWE), RulerTask.parseList("vt, CWE,vt"));
        assertThrows(IllegalArgumentException.class, () -> RulerTask.parseList(""));
        assertThrows(IllegalArgumentException.class, () -> RulerTask.byId("niah"));
    }
}
