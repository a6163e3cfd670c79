package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ApproximateTokenizerTest {

    private final ApproximateTokenizer spm = ApproximateTokenizer.spmLike();
    private final ApproximateTokenizer bpe = ApproximateTokenizer.bpeLike();

    @Test
    void spmLikeSplitsEveryDigitAndPunctuationMark() {
        assertEquals(1, spm.count("hello"));
        assertEquals(2, spm.count("hello world"));
        assertEquals(7, spm.count(" 1234567"));
        assertEquals(3, spm.count("is: ."));
        assertEquals(2, spm.count("\n\n"));
        assertEquals(2, spm.count("extraordinary")); // 13 letters
    }

    @Test
    void bpeLikeGroupsDigitsByThree() {
        assertEquals(4, bpe.count(" 1234567")); // " " + 123 + 456 + 7
        assertEquals(1, bpe.count("\n\n"));
        assertEquals(2, bpe.count("hello world"));
        assertEquals(1, bpe.count("...."));
    }

    @Test
    void encodeAgreesWithCountAndIsDeterministic() {
        String text = "VAR ABCDE = 12345\nThe grass is green.  Two  spaces, and a uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca427!";
        for (ApproximateTokenizer t : new ApproximateTokenizer[] {spm, bpe}) {
            assertEquals(t.count(text), t.encode(text).length);
            assertArrayEquals(t.encode(text), t.encode(text));
        }
        assertEquals(spm.encode("word")[0], spm.encode("word word")[0]);
    }

    @Test
    void englishProseTakesAboutOnePointThreeTokensPerWord() {
        String prose = TestData.fixtureSources().longText("sotu");
        int words = prose.split("\\s+").length;
        double spmRatio = (double) spm.count(prose) / words;
        double bpeRatio = (double) bpe.count(prose) / words;
        assertTrue(spmRatio > 1.15 && spmRatio < 1.5, "spm-like: " + spmRatio);
        assertTrue(bpeRatio > 1.05 && bpeRatio < 1.4, "bpe-like: " + bpeRatio);
    }
}
