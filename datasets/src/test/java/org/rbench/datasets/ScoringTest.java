package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class ScoringTest {

    @Test
    void postprocessStripsAndTurnsControlCharactersIntoNewlines() {
        assertEquals("a\nb\nc", Scoring.postprocess("  a\tb\u0000c \n"));
        assertEquals("x", Scoring.postprocess("\u0001x\u0002"));
    }

    @Test
    void stringMatchAllAveragesTheFractionFoundPerSample() {
        List<String> predictions = List.of("The numbers are 123 and 456.", "only 789", "NOTHING");
        List<List<String>> references = List.of(List.of("123", "456"), List.of("789", "000"), List.of("x1"));
        // (1 + 0.5 + 0) / 3 * 100 = 50
        assertEquals(50.0, Scoring.stringMatchAll(predictions, references));
        assertEquals(0.5, Scoring.sampleMatchAll("only 789", List.of("789", "000")));
    }

    @Test
    void stringMatchPartCountsASampleWhenAnyReferenceIsFound() {
        List<String> predictions = List.of("It was in 1871.", "no idea", "ADA BRENNER");
        List<List<String>> references = List.of(List.of("1871", "in 1871"), List.of("1952"), List.of("Ada Brenner"));
        assertEquals(66.67, Scoring.stringMatchPart(predictions, references));
    }

    @Test
    void matchingIgnoresCase() {
        assertEquals(1.0, Scoring.sampleMatchAll("Answer: FORTUNATE-BANSHEE", List.of("fortunate-banshee")));
        assertEquals(1.0, Scoring.sampleMatchPart("yes", List.of("Yes")));
    }

    @Test
    void roundsLikePython() {
        // 1/3 * 100 = 33.333... -> 33.33; 2/3 * 100 -> 66.67
        assertEquals(33.33, Scoring.stringMatchAll(List.of("a", "b", "c"), List.of(List.of("a"), List.of("x"), List.of("y"))));
    }

    @Test
    void metricDispatchesToTheScoringFunction() {
        assertEquals(50.0, Metric.STRING_MATCH_ALL.score(List.of("a"), List.of(List.of("a", "b"))));
        assertEquals(100.0, Metric.STRING_MATCH_PART.score(List.of("a"), List.of(List.of("a", "b"))));
        Sample sample = new Sample(0, "in", " Answer:", List.of("a", "b"), 10, RulerTask.CWE, 1, 120, Metric.STRING_MATCH_ALL, 4096,
                List.of());
        assertEquals(0.5, sample.score("A"));
    }

    @Test
    void badInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Scoring.stringMatchAll(List.of(), List.of()));
        assertThrows(IllegalArgumentException.class, () -> Scoring.stringMatchAll(List.of("a"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> Scoring.sampleMatchPart("a", List.of()));
    }
}
