package org.rbench.core.attention;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ScoreSelectionTest {
    @Test
    void orderTiesPutsEqualScoresInPositionOrderAndCutsToK() {
        int[] positions = {9, 4, 7, 2, 8, 1};
        float[] scores = {0.5f, 0.3f, 0.3f, 0.3f, 0.1f, 0.1f};
        assertArrayEquals(new int[] {9, 2, 4, 7, 1}, ScoreSelection.orderTies(positions, scores, 5));
        assertArrayEquals(new int[] {9, 2}, ScoreSelection.orderTies(positions, scores, 2));
    }

    @Test
    void orderTiesSortsInputThatIsNotDescending() {
        int[] positions = {3, 5, 1};
        float[] scores = {0.1f, 0.9f, 0.1f};
        assertArrayEquals(new int[] {5, 1, 3}, ScoreSelection.orderTies(positions, scores, 3));
    }

    @Test
    void orderTiesOfAShuffledDeviceOrderEqualsTheHostTopK() {
        // A max-pooled row has tie runs; shuffle each run as an unstable device sort might.
        SplittableRandom r = new SplittableRandom(3);
        float[] raw = new float[200];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (float) r.nextDouble();
        }
        float[] pooled = ScoreSelection.maxPool(raw, 7);
        int[] host = ScoreSelection.topKByScore(pooled, pooled.length);
        int[] device = host.clone();
        float[] deviceScores = new float[device.length];
        for (int i = 0; i < device.length; ) {
            int j = i + 1;
            while (j < device.length && pooled[device[j]] == pooled[device[i]]) {
                j++;
            }
            for (int a = j - 1; a > i; a--) { // reverse each run
                int b = i + (j - 1 - a);
                if (b < a) {
                    int t = device[a];
                    device[a] = device[b];
                    device[b] = t;
                }
            }
            i = j;
        }
        for (int i = 0; i < device.length; i++) {
            deviceScores[i] = pooled[device[i]];
        }
        int k = 37;
        int[] expected = java.util.Arrays.copyOf(host, k);
        int candidates = k + 7;
        assertArrayEquals(expected, ScoreSelection.orderTies(java.util.Arrays.copyOf(device, candidates),
                java.util.Arrays.copyOf(deviceScores, candidates), k));
    }

    @Test
    void orderTiesOfARangeEqualsOrderTiesOfItsCopy() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        int heads = 5;
        int m = 40;
        int[] positions = new int[heads * m];
        float[] scores = new float[heads * m];
        for (int h = 0; h < heads; h++) {
            float v = 1f;
            for (int i = 0; i < m; i++) {
                if (random.nextInt(4) == 0) {
                    v *= 0.9f; // runs of equal scores, as max pooling makes them
                }
                scores[h * m + i] = v;
                positions[h * m + i] = random.nextInt(1000);
            }
        }
        for (int h = 0; h < heads; h++) {
            for (int k : new int[] {1, 7, 33, 40}) {
                int[] copy = ScoreSelection.orderTies(java.util.Arrays.copyOfRange(positions, h * m, (h + 1) * m),
                        java.util.Arrays.copyOfRange(scores, h * m, (h + 1) * m), k);
                assertArrayEquals(copy, ScoreSelection.orderTies(positions, scores, h * m, m, k), "head " + h + ", k " + k);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ScoreSelection.orderTies(positions, scores, heads * m - 5, 10, 3));
    }

    @Test
    void tieRunsOfConsecutiveAndOfScatteredPositionsBothComeOutAscending() {
        int[] positions = {12, 10, 11, 5, 40, 3, 7, 7, 8};
        float[] scores = {0.5f, 0.5f, 0.5f, 0.4f, 0.4f, 0.4f, 0.3f, 0.3f, 0.3f};
        assertArrayEquals(new int[] {10, 11, 12, 3, 5, 40, 7, 7, 8}, ScoreSelection.orderTies(positions, scores, 9));
    }

    @Test
    void orderTiesRejectsMismatchedLengths() {
        assertThrows(IllegalArgumentException.class, () -> ScoreSelection.orderTies(new int[2], new float[3], 1));
    }
}
