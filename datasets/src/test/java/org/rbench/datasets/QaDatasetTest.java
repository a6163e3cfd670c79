package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QaDatasetTest {

    @Test
    void squadKeepsAnswerableQuestionsWithTheirParagraphs() {
        QaDataset squad = QaDataset.readSquad(TestData.resource("/qa/squad-dev-mini.json"));
        assertEquals(4, squad.documents().size());
        assertEquals(squad.documents().stream().sorted().toList(), squad.documents());
        assertEquals(4, squad.questions().size(), "the impossible question is dropped");
        QaDataset.Question first = squad.questions().getFirst();
        assertEquals("When was the lighthouse on Gull Point built?", first.query());
        assertEquals(List.of("1871", "in 1871"), first.answers());
        assertTrue(squad.documents().get(first.gold()[0]).contains("Gull Point"));
        assertEquals(1, first.related().length);
        assertTrue(squad.documents().get(first.related()[0]).startsWith("Keepers"));
    }

    @Test
    void hotpotQaTurnsParagraphsIntoTitledDocuments() {
        QaDataset hotpot = QaDataset.readHotpotQa(TestData.resource("/qa/hotpot-dev-mini.json"));
        assertEquals(4, hotpot.documents().size(), "shared paragraphs are one document");
        assertTrue(hotpot.documents().contains("Marlow Bridge\nMarlow Bridge is a stone arch bridge opened in 1832. It crosses the river Teme."));
        QaDataset.Question first = hotpot.questions().getFirst();
        assertEquals(List.of("Marlow Bridge"), first.answers());
        assertEquals(3, first.gold().length);
        assertArrayEquals(new int[0], first.related());
    }

    @Test
    void missingOrMalformedFilesAreClearErrors(@TempDir Path dir) throws IOException {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> QaDataset.readSquad(dir.resolve("dev-v2.0.json")));
        assertTrue(missing.getMessage().contains("SQuAD file not found"));
        Path wrong = Files.writeString(dir.resolve("wrong.json"), "{\"data\": 3}");
        assertThrows(IllegalArgumentException.class, () -> QaDataset.readSquad(wrong));
        assertThrows(IllegalArgumentException.class, () -> QaDataset.readHotpotQa(wrong));
    }
}
