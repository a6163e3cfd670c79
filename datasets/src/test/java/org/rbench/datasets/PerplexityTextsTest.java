package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class PerplexityTextsTest {

    private final Tokenizer tokenizer = ApproximateTokenizer.spmLike();
    private final PerplexityTexts texts = new PerplexityTexts(TestData.fixtureSources(), tokenizer);

    @Test
    void cutsATextIntoConsecutiveDocumentsOfExactlyNTokens() {
        List<PerplexityTexts.Document> documents = texts.documents("moby-dick", 256, 0);
        int[] all = tokenizer.encode(TestData.fixtureSources().longText("moby-dick"));
        assertEquals(all.length / 256, documents.size());
        for (PerplexityTexts.Document d : documents) {
            assertEquals(256, d.tokens().length);
            assertArrayEquals(Arrays.copyOfRange(all, d.index() * 256, (d.index() + 1) * 256), d.tokens());
            assertEquals("moby-dick", d.source());
        }
    }

    @Test
    void tokenizesOnlyWhatTheDocumentsNeed() {
        List<PerplexityTexts.Document> two = texts.documents("sotu", 500, 2);
        assertEquals(2, two.size());
        int[] all = tokenizer.encode(TestData.fixtureSources().longText("sotu"));
        assertArrayEquals(Arrays.copyOfRange(all, 500, 1000), two.get(1).tokens());
    }

    @Test
    void badRequestsAreClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> texts.documents("moby-dick", 0, 1));
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> texts.documents("moby-dick", 1_000_000, 1));
        assertTrue(tooLong.getMessage().contains("fewer than one document of 1000000"));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> texts.documents("war-and-peace", 100, 1));
        assertTrue(unknown.getMessage().contains("unknown long text 'war-and-peace'"));
    }
}
