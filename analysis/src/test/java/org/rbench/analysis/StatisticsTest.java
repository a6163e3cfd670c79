package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatisticsTest {

    @Test
    void seededRandomIsSplitMix64() {
        // Reference outputs of SplitMix64 for seed 0. If these change, every golden file changes.
        SeededRandom random = new SeededRandom(0);
        assertEquals(0xE220A8397B1DCDAFL, random.nextLong());
        assertEquals(0x6E789E6AA1B965F4L, random.nextLong());
        assertEquals(0x06C45D188009454FL, random.nextLong());
    }

    @Test
    void nextIntStaysInBoundsAndCoversIt() {
        SeededRandom random = new SeededRandom(42);
        int[] counts = new int[7];
        for (int i = 0; i < 7000; i++) {
            counts[random.nextInt(7)]++;
        }
        for (int count : counts) {
            assertTrue(count > 800 && count < 1200, "roughly uniform: " + count);
        }
    }

    @Test
    void derivedSeedsDependOnTheLabel() {
        assertEquals(SeededRandom.derive(1, "a"), SeededRandom.derive(1, "a"));
        assertTrue(SeededRandom.derive(1, "a") != SeededRandom.derive(1, "b"));
        assertTrue(SeededRandom.derive(1, "a") != SeededRandom.derive(2, "a"));
    }

    @Test
    void quantilesInterpolateLinearly() {
        double[] sorted = {1, 2, 3, 4};
        assertEquals(1, Statistics.quantileOfSorted(sorted, 0));
        assertEquals(2.5, Statistics.quantileOfSorted(sorted, 0.5));
        assertEquals(4, Statistics.quantileOfSorted(sorted, 1));
        assertEquals(1.075, Statistics.quantileOfSorted(sorted, 0.025), 1e-12);
        assertEquals(3, Statistics.median(new double[] {5, 1, 3}));
    }

    @Test
    void macroMeanWeighsTasksEqually() {
        double macro = Statistics.macroMean(List.of(new double[] {100, 0}, new double[] {100, 100, 100, 0},
                new double[0]));
        assertEquals(62.5, macro, 1e-12);
        assertTrue(Double.isNaN(Statistics.macroMean(List.of())));
    }

    @Test
    void bootstrapIsDeterministicAndBracketsTheMean() {
        List<double[]> strata = List.of(new double[] {100, 0, 100, 100, 0, 100, 100, 100},
                new double[] {50, 100, 0, 100});
        Interval first = Bootstrap.macroMeanInterval(strata, 2000, 99);
        Interval again = Bootstrap.macroMeanInterval(strata, 2000, 99);
        assertEquals(first, again);
        double mean = Statistics.macroMean(strata);
        assertTrue(first.low() < mean && mean < first.high(), first + " around " + mean);
        assertTrue(first.low() >= 0 && first.high() <= 100);
        double[] continuous = new double[50];
        for (int i = 0; i < continuous.length; i++) {
            continuous[i] = i * i % 97;
        }
        assertTrue(!Bootstrap.macroMeanInterval(List.of(continuous), 500, 1)
                .equals(Bootstrap.macroMeanInterval(List.of(continuous), 500, 2)), "seed matters");
    }

    @Test
    void bootstrapOfConstantScoresIsAPoint() {
        Interval ci = Bootstrap.macroMeanInterval(List.of(new double[] {100, 100, 100}), 500, 1);
        assertEquals(new Interval(100, 100), ci);
    }

    @Test
    void bootstrapCanBeTurnedOff() {
        assertEquals(Interval.NONE, Bootstrap.macroMeanInterval(List.of(new double[] {1, 2}), 0, 1));
        assertEquals(Interval.NONE, Bootstrap.macroMeanInterval(List.of(), 100, 1));
    }

    @Test
    void bootstrapIntervalCoversTheTrueMeanAtRoughlyTheNominalRate() {
        // Coverage of the percentile bootstrap for Bernoulli(0.7) samples of size 60: it should be
        // near 95%; a broken resampler (e.g. always the same index) would be far off.
        SeededRandom data = new SeededRandom(5);
        int covered = 0;
        int trials = 200;
        for (int t = 0; t < trials; t++) {
            double[] scores = new double[60];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = data.nextDouble() < 0.7 ? 100 : 0;
            }
            Interval ci = Bootstrap.macroMeanInterval(List.of(scores), 400, t);
            covered += ci.low() <= 70 && 70 <= ci.high() ? 1 : 0;
        }
        assertTrue(covered >= 175 && covered <= 200, "coverage " + covered + "/" + trials);
    }
}
