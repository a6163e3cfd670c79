package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Reference p-values come from SciPy 1.17 ({@code scipy.stats.mannwhitneyu}). */
class SignificanceTest {

    @Test
    void mannWhitneyExactMatchesScipy() {
        assertEquals(0.1, MannWhitneyTest.twoSidedP(new double[] {1, 2, 3}, new double[] {4, 5, 6}), 1e-12);
        assertEquals(0.007936507936507936, MannWhitneyTest.twoSidedP(new double[] {1, 2, 3, 4, 5},
                new double[] {6, 7, 8, 9, 10}), 1e-12);
        assertEquals(0.280963480963481, MannWhitneyTest.twoSidedP(new double[] {1.1, 2.5, 3.3, 4.8, 5.2, 6.9, 7.4, 8.0},
                new double[] {2.0, 3.9, 5.9, 6.1, 8.8, 9.5, 10.2}), 1e-12);
    }

    @Test
    void mannWhitneyAsymptoticWithTiesMatchesScipy() {
        double[] a = new double[30];
        double[] b = new double[30];
        for (int i = 0; i < 30; i++) {
            a[i] = i + 1;
            b[i] = i + 11;
        }
        assertEquals(0.00022448380595775603, MannWhitneyTest.twoSidedP(a, b), 1e-8);
        assertEquals(0.016098254978888133, MannWhitneyTest.twoSidedP(new double[] {1, 1, 2, 2, 3, 3, 3, 4},
                new double[] {2, 3, 3, 4, 4, 5, 5, 5, 6}), 1e-7);
    }

    @Test
    void mannWhitneyEdgeCases() {
        assertEquals(1.0, MannWhitneyTest.twoSidedP(new double[] {5, 5}, new double[] {5, 5, 5}));
        assertTrue(Double.isNaN(MannWhitneyTest.twoSidedP(new double[0], new double[] {1})));
        double[] counts = MannWhitneyTest.uCounts(5, 5);
        double total = 0;
        for (double c : counts) {
            total += c;
        }
        assertEquals(252, total); // C(10, 5)
        assertEquals(26, counts.length);
    }

    @Test
    void pairedSignFlipIsExactForFewChanges() {
        double[] differences = new double[200];
        for (int i = 0; i < 10; i++) {
            differences[i * 7] = -100;
        }
        assertEquals(2.0 / 1024, PermutationTest.pairedSignFlip(List.of(differences), 1000, 1), 1e-15);
        assertEquals(1.0, PermutationTest.pairedSignFlip(List.of(new double[50]), 1000, 1));
        // Three down, two up: an odd count of +-1 steps can never sum to zero, so p is 1.
        assertEquals(1.0, PermutationTest.pairedSignFlip(List.of(new double[] {-100, -100, -100, 100, 100}), 1000, 1));
    }

    @Test
    void pairedSignFlipSamplesWhenManyChangesAndIsSeeded() {
        double[] differences = new double[100];
        for (int i = 0; i < 30; i++) {
            differences[i] = i < 20 ? -100 : 100; // net -10 points
        }
        double p = PermutationTest.pairedSignFlip(List.of(differences), 20000, 4);
        assertEquals(p, PermutationTest.pairedSignFlip(List.of(differences), 20000, 4));
        // Exact two-sided binomial p for 20 of 30 is 0.0987.
        assertEquals(0.0987, p, 0.01);
    }

    @Test
    void unpairedTestSeparatesShiftFromNoise() {
        double[] base = new double[80];
        double[] same = new double[80];
        double[] worse = new double[80];
        for (int i = 0; i < 80; i++) {
            base[i] = i < 64 ? 100 : 0; // 80%
            same[i] = i % 40 < 31 ? 100 : 0; // 77.5%
            worse[i] = i % 2 == 0 ? 100 : 0; // 50%
        }
        double noise = PermutationTest.stratifiedUnpaired(List.of(base), List.of(same), 4000, 1);
        double shift = PermutationTest.stratifiedUnpaired(List.of(base), List.of(worse), 4000, 1);
        assertTrue(noise > 0.05, "noise p " + noise);
        assertTrue(shift < 0.01, "shift p " + shift);
        assertEquals(shift, PermutationTest.stratifiedUnpaired(List.of(base), List.of(worse), 4000, 1));
    }

    @Test
    void verdictNeedsBothThresholdAndSignificance() {
        assertEquals(Verdict.REGRESSION, Verdict.judge(6, 5, 0.01, 0.05));
        assertEquals(Verdict.NOT_SIGNIFICANT, Verdict.judge(6, 5, 0.2, 0.05));
        assertEquals(Verdict.OK, Verdict.judge(4, 5, 0.0001, 0.05));
        assertEquals(Verdict.OK, Verdict.judge(5, 5, 0.0001, 0.05));
        assertEquals(Verdict.IMPROVED, Verdict.judge(-6, 5, 0.01, 0.05));
        assertEquals(Verdict.NOT_SIGNIFICANT, Verdict.judge(-6, 5, 0.5, 0.05));
    }
}
