package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class PieceCountingTokenizerTest {

    /** Counts like the approximate tokenizer, with a SentencePiece-like extra token for a leading space. */
    static final class DummyPrefixTokenizer implements Tokenizer {
        final Tokenizer base = ApproximateTokenizer.spmLike();
        long calls;

        @Override
        public int[] encode(String text) {
            calls++;
            int[] ids = base.encode(text);
            return text.startsWith(" ") ? prepend(ids) : ids;
        }

        private static int[] prepend(int[] ids) {
            int[] out = new int[ids.length + 1];
            System.arraycopy(ids, 0, out, 1, ids.length);
            return out;
        }

        @Override
        public String name() {
            return "dummy-prefix";
        }
    }

    private static String longPrompt(int index) {
        RulerGenerator generator = TestData.generator(ApproximateTokenizer.spmLike());
        return generator.generate(RulerTask.NIAH_SINGLE_2, 16384, index, 42).prompt();
    }

    @Test
    void piecewiseCountsEqualFullCountsAndRepeatedTextIsNotTokenizedAgain() {
        Tokenizer base = ApproximateTokenizer.bpeLike();
        PieceCountingTokenizer pieces = new PieceCountingTokenizer(base);
        for (int i = 0; i < 6; i++) {
            String prompt = longPrompt(i);
            assertEquals(base.count(prompt), pieces.count(prompt));
        }
        assertTrue(pieces.active());
        long before = pieces.pieceCounts();
        pieces.count(longPrompt(2));
        assertEquals(before, pieces.pieceCounts(), "all pieces cached");
    }

    @Test
    void detectsThatTheSpaceIsReAddedBySentencePieceLikeTokenizers() {
        DummyPrefixTokenizer base = new DummyPrefixTokenizer();
        PieceCountingTokenizer pieces = new PieceCountingTokenizer(base);
        for (int i = 0; i < 40; i++) {
            String prompt = longPrompt(i % 5);
            assertEquals(base.count(prompt), pieces.count(prompt));
        }
        assertTrue(pieces.active());
        assertEquals(0, pieces.mismatches());
    }

    @Test
    void staysOffForATokenizerThatIsNotAdditiveAtSpaces() {
        Tokenizer thirds = new Tokenizer() {
            @Override
            public int[] encode(String text) {
                return new int[(text.length() + 2) / 3];
            }

            @Override
            public String name() {
                return "thirds";
            }
        };
        PieceCountingTokenizer pieces = new PieceCountingTokenizer(thirds);
        String prompt = longPrompt(0);
        assertEquals(thirds.count(prompt), pieces.count(prompt));
        assertFalse(pieces.active());
        assertEquals(thirds.count(prompt + "x"), pieces.count(prompt + "x"));
    }

    @Test
    void aMismatchFoundByACheckMakesGenerateAllStartOverWithFullCounts() {
        // Additive until flipped; then pieces (short texts) count one token too many.
        final boolean[] flipped = {false};
        Tokenizer drifting = new Tokenizer() {
            final Tokenizer base = ApproximateTokenizer.spmLike();

            @Override
            public int[] encode(String text) {
                return base.encode(text);
            }

            @Override
            public int count(String text) {
                return base.count(text) + (flipped[0] && text.length() < PieceCountingTokenizer.MIN_TEXT ? 1 : 0);
            }

            @Override
            public String name() {
                return "drifting";
            }
        };
        RulerGenerator generator = RulerGenerator.builder(drifting).pieceCounting(true)
                .essay(TestData.fixtureSources().essay()).wordLists(TestData.syntheticWordLists()).build();
        generator.generateAll(RulerTask.NIAH_SINGLE_1, 16384, 3, 42);
        assertTrue(generator.pieceCounter().orElseThrow().active());
        flipped[0] = true;
        List<Sample> samples = generator.generateAll(RulerTask.NIAH_SINGLE_2, 16384, 40, 42);
        PieceCountingTokenizer counter = generator.pieceCounter().orElseThrow();
        assertFalse(counter.active());
        assertEquals(1, counter.mismatches());
        for (Sample sample : samples) {
            assertEquals(drifting.count(sample.prompt()) + sample.tokensToGenerate(), sample.length());
            assertTrue(sample.length() <= 16384);
        }
    }

    @Test
    void cutsDependOnContentSoAnInsertionOnlyChangesNearbyPieces() {
        String text = TestData.fixtureSources().essay().firstWords(6000);
        int middle = text.indexOf(' ', text.length() / 2);
        String inserted = text.substring(0, middle) + " One of the special magic numbers for x is: 1234567." + text.substring(middle);
        List<String> a = pieces(text);
        List<String> b = pieces(inserted);
        List<String> common = new ArrayList<>(a);
        common.retainAll(b);
        assertTrue(a.size() > 10);
        assertTrue(common.size() >= a.size() - 2, common.size() + " of " + a.size() + " pieces unchanged");
        assertTrue(Arrays.stream(PieceCountingTokenizer.cuts(text)).allMatch(c -> text.charAt(c) == ' '));
    }

    private static List<String> pieces(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int cut : PieceCountingTokenizer.cuts(text)) {
            out.add(text.substring(start, cut));
            start = cut;
        }
        out.add(text.substring(start));
        return out;
    }

    @Test
    void generationWithPieceCountsGivesTheSameSamplesAsWithFullCounts() {
        RulerGenerator full = TestData.generator(ApproximateTokenizer.bpeLike());
        RulerGenerator pieces = RulerGenerator.builder(ApproximateTokenizer.bpeLike()).pieceCounting(true)
                .essay(TestData.fixtureSources().essay()).wordLists(TestData.syntheticWordLists()).build();
        for (RulerTask task : TestData.offlineTasks()) {
            assertEquals(full.generateAll(task, 16384, 3, 5), pieces.generateAll(task, 16384, 3, 5), task.id());
        }
        assertTrue(pieces.pieceCounter().orElseThrow().active());
    }
}
