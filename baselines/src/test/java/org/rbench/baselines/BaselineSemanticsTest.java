package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.rbench.core.attention.GqaAggregation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BaselineSemanticsTest {
    @Test
    void streamingKeepsExactlySinksPlusWindow() {
        StreamingWindow w = new StreamingWindow(2, 3);
        assertArrayEquals(new int[] {0, 1, 2, 3}, w.kept(3), "everything while it fits");
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, w.kept(4));
        assertArrayEquals(new int[] {0, 1, 7, 8, 9}, w.kept(9));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, w.ropePositions(w.kept(9), StreamingWindow.Positions.CACHE));
        assertArrayEquals(new int[] {0, 1, 7, 8, 9}, w.ropePositions(w.kept(9), StreamingWindow.Positions.ORIGINAL));
        assertThrows(IllegalArgumentException.class, () -> new StreamingWindow(4, 0));
    }

    @Test
    void h2oKeepsRecentPlusHeavyByAccumulatedScoreAndCompactsScores() {
        // One query head, one KV head; prefill column sums over 6 positions.
        HeavyHitterCache c = new HeavyHitterCache(2, 2, GqaAggregation.SUM, 1);
        c.prefill(new float[][] {{3f, 0.5f, 2f, 0.1f, 0.2f, 0.3f}});
        assertArrayEquals(new int[] {0, 2, 4, 5}, c.positions(0), "heavy {0, 2} + recent {4, 5}");
        assertArrayEquals(new float[] {3f, 2f, 0.2f, 0.3f}, c.scores(0));
        // Decode step for position 6: attends the 4 kept rows plus itself.
        assertArrayEquals(new int[] {0, 2, 4, 5, 6}, c.rowsForStep(0, 6));
        c.afterStep(6, new float[][] {{0.1f, 0.1f, 0.5f, 0.2f, 0.1f}});
        // scores: 0:3.1 2:2.1 4:0.7 5:0.5 6:0.1 -> recent {5, 6}; heavy among {0, 2, 4}: 0 and 2
        assertArrayEquals(new int[] {0, 2, 5, 6}, c.positions(0));
        assertArrayEquals(new float[] {3.1f, 2.1f, 0.5f, 0.1f}, c.scores(0), 1e-6f);
        c.afterStep(7, new float[][] {{0.1f, 0.1f, 0.1f, 2.5f, 0.2f}});
        // 0:3.2 2:2.2 5:0.6 6:2.6 7:0.2 -> recent {6, 7}; heavy among {0, 2, 5}: 0, 2
        assertArrayEquals(new int[] {0, 2, 6, 7}, c.positions(0));
        assertThrows(IllegalArgumentException.class, () -> c.afterStep(8, new float[][] {{1f, 1f}}));
    }

    @Test
    void h2oAggregatesQueryHeadsPerKvHead() {
        HeavyHitterCache c = new HeavyHitterCache(1, 1, GqaAggregation.SUM, 1);
        c.prefill(new float[][] {{0.9f, 0.1f, 0f, 0f}, {0f, 0.1f, 0.9f, 0f}});
        // sums: 0.9, 0.2, 0.9, 0 -> recent {3}; heavy among {0,1,2}: 0 (tie with 2 goes to the earlier)
        assertArrayEquals(new int[] {0, 3}, c.positions(0));
    }

    @Test
    void budgetAtLeastTheContextEvictsNothing() {
        HeavyHitterCache c = new HeavyHitterCache(50, 50, GqaAggregation.SUM, 1);
        c.prefill(new float[][] {{1f, 2f, 3f}});
        c.afterStep(3, new float[][] {{0.25f, 0.25f, 0.25f, 0.25f}});
        assertArrayEquals(new int[] {0, 1, 2, 3}, c.positions(0));
        StreamingWindow w = new StreamingWindow(4, 96);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, w.kept(5));
    }
}
