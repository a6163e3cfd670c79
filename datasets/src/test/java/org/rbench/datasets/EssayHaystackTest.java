package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class EssayHaystackTest {

    @Test
    void normalizesWhitespaceAndTakesTheFirstWords() {
        EssayHaystack essay = new EssayHaystack("  One two.\n\nThree\tfour  five. ");
        assertEquals(5, essay.words());
        assertEquals("One two. Three", essay.firstWords(3));
        assertEquals("One two. Three four five.", essay.firstWords(5));
        assertEquals("", essay.firstWords(0));
    }

    @Test
    void repeatsTheProseWhenItIsShort() {
        EssayHaystack essay = new EssayHaystack("a b c");
        assertEquals("a b c a b c a", essay.firstWords(7));
        assertEquals("a b c a b c", essay.firstWords(6));
    }

    @Test
    void splitsSentencesLikePunkt() {
        String text = "Mr. Smith went to Washington. He met Gen. Knox at 3 p.m. on Jan. 5. \"Why?\" he asked! "
                + "The U.S. Congress sat. (It was late.) Then J. Q. Adams spoke";
        assertEquals(List.of("Mr. Smith went to Washington.", "He met Gen. Knox at 3 p.m. on Jan. 5.", "\"Why?\" he asked!",
                "The U.S. Congress sat.", "(It was late.)", "Then J. Q. Adams spoke"), sentences(text));
    }

    @Test
    void aSentenceRangeIsTheProseBetweenBoundaries() {
        String text = "First one. Second one. Third one.";
        assertArrayEquals(new int[] {10, 22, 33}, EssayHaystack.sentenceEnds(text));
    }

    @Test
    void theFixtureProseSplitsIntoManySentences() {
        String prose = new EssayHaystack(TestData.fixtureSources().longText("sotu")).firstWords(2000);
        int[] ends = EssayHaystack.sentenceEnds(prose);
        assertTrue(ends.length > 40 && ends.length < 200, "sentences: " + ends.length);
    }

    static List<String> sentences(String text) {
        int[] ends = EssayHaystack.sentenceEnds(text);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int end : ends) {
            out.add(text.substring(start, end));
            start = end + 1;
        }
        return out;
    }
}
