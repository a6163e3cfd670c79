package org.rbench.core.attention;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ScoreSelectionTest {
    /**
     * A window that reaches forward: each score spreads to the {@code back} positions before it
     * and the {@code forward} positions after it, clipped to the sequence; back = forward is the
     * symmetric kernel 2 * back + 1.
     */
    @Test
    void maxPoolOverAnAsymmetricWindowSpreadsEachPeakOverItsWindow() {
        float[] s = new float[26];
        s[5] = 9;
        s[23] = 4;
        float[] pooled = ScoreSelection.maxPool(s, 3, 16);
        for (int i = 0; i < s.length; i++) {
            // the peak at 5 covers [2, 21]; the one at 23 covers [20, 39], clipped to [20, 25]
            float want = i >= 2 && i <= 21 ? 9 : i >= 20 ? 4 : 0;
            org.junit.jupiter.api.Assertions.assertEquals(want, pooled[i], "position " + i);
        }
        float[] backOnly = ScoreSelection.maxPool(s, 3, 0);
        assertArrayEquals(new float[] {0, 0, 9, 9, 9, 9, 0, 0}, java.util.Arrays.copyOf(backOnly, 8), "[p - 3, p]");
        float[] forwardOnly = ScoreSelection.maxPool(s, 0, 2);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 9, 9, 9, 0}, java.util.Arrays.copyOf(forwardOnly, 9), "[p, p + 2]");
        assertArrayEquals(s, ScoreSelection.maxPool(s, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> ScoreSelection.maxPool(s, -1, 3));
        assertThrows(IllegalArgumentException.class, () -> ScoreSelection.maxPool(s, 3, -1));
    }

    @Test
    void asymmetricMaxPoolEqualsABruteForceMaximumAndTheSymmetricKernel() {
        SplittableRandom r = new SplittableRandom(11);
        float[] raw = new float[300];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (float) r.nextDouble();
        }
        for (int[] w : new int[][] {{3, 3}, {3, 16}, {0, 5}, {7, 1}, {0, 0}, {2, 400}}) {
            float[] want = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                float m = Float.NEGATIVE_INFINITY;
                for (int j = Math.max(0, i - w[1]); j <= Math.min(raw.length - 1, i + w[0]); j++) {
                    m = Math.max(m, raw[j]);
                }
                want[i] = m;
            }
            assertArrayEquals(want, ScoreSelection.maxPool(raw, w[0], w[1]), "back " + w[0] + ", forward " + w[1]);
        }
        assertArrayEquals(ScoreSelection.maxPool(raw, 7), ScoreSelection.maxPool(raw, 3, 3));
    }

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
    /**
     * topKByScore selects before it sorts: on random scores with long runs of ties, -inf and
     * both signs, it gives what sorting every row gives (score descending, then position).
     */
    @Test
    void theSelectionBeforeTheSortKeepsTheSortsOrder() {
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 300; trial++) {
            int n = 1 + random.nextInt(trial < 200 ? 300 : 20000);
            int distinct = 1 + random.nextInt(Math.max(1, n / (1 + random.nextInt(8))));
            float[] scores = new float[n];
            for (int i = 0; i < n; i++) {
                int v = random.nextInt(distinct);
                scores[i] = v == 0 && random.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY : (v - distinct / 2) * 0.25f;
            }
            int k = 1 + random.nextInt(n + 2);
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> scores[a] != scores[b] ? Float.compare(scores[b], scores[a]) : Integer.compare(a, b));
            int[] expected = new int[Math.min(k, n)];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = order[i];
            }
            assertArrayEquals(expected, ScoreSelection.topKByScore(scores, k), "n=" + n + " k=" + k + " distinct=" + distinct);
        }
    }
}
