package org.rbench.core.recycled;

import org.rbench.core.attention.ScoreSelection;
import org.rbench.core.attention.GqaAggregation;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recycled Attention's selection semantics on hand-made scores (METHOD.md). */
class SelectionSemanticsTest {
    // 4 query heads over 2 KV heads (groups {0,1} and {2,3}), 6 positions.
    private static final float[][] PROBS = {
            {0.50f, 0.10f, 0.05f, 0.05f, 0.20f, 0.10f},
            {0.05f, 0.05f, 0.60f, 0.10f, 0.10f, 0.10f},
            {0.10f, 0.40f, 0.10f, 0.10f, 0.10f, 0.20f},
            {0.10f, 0.10f, 0.10f, 0.30f, 0.10f, 0.30f},
    };

    @Test
    void gqaAggregationFirstMeanMaxSum() {
        assertArrayEquals(PROBS[0], GqaAggregation.FIRST.aggregate(PROBS, 2)[0]);
        assertArrayEquals(new float[] {0.5f, 0.1f, 0.6f, 0.1f, 0.2f, 0.1f}, GqaAggregation.MAX.aggregate(PROBS, 2)[0]);
        assertArrayEquals(new float[] {0.1f, 0.4f, 0.1f, 0.3f, 0.1f, 0.3f}, GqaAggregation.MAX.aggregate(PROBS, 2)[1]);
        assertArrayEquals(new float[] {0.275f, 0.075f, 0.325f, 0.075f, 0.15f, 0.1f}, GqaAggregation.MEAN.aggregate(PROBS, 2)[0], 1e-6f);
        assertArrayEquals(new float[] {0.2f, 0.5f, 0.2f, 0.4f, 0.2f, 0.5f}, GqaAggregation.SUM.aggregate(PROBS, 2)[1], 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> GqaAggregation.MAX.aggregate(PROBS, 3));
    }

    @Test
    void aggregatingRowsOfAFlatArrayIsBitForBitTheSame() {
        // rows at stride 9 from offset 2 (padding around them), 5 of the 6 positions
        float[] flat = new float[2 + 4 * 9];
        java.util.Arrays.fill(flat, 123f);
        float[][] rows = new float[4][5];
        for (int h = 0; h < 4; h++) {
            for (int i = 0; i < 5; i++) {
                flat[2 + h * 9 + i] = PROBS[h][i] * (1 + 0.37f * i);
                rows[h][i] = flat[2 + h * 9 + i];
            }
        }
        for (GqaAggregation a : GqaAggregation.values()) {
            float[][] out = new float[2][7];
            for (float[] o : out) {
                java.util.Arrays.fill(o, -5f); // stale values of an earlier call must not leak in
            }
            a.aggregateRows(flat, 2, 9, 5, 4, 2, out);
            float[][] expected = a.aggregate(rows, 2);
            for (int kv = 0; kv < 2; kv++) {
                assertArrayEquals(expected[kv], java.util.Arrays.copyOf(out[kv], 5), a + " KV head " + kv);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> GqaAggregation.SUM.aggregateRows(flat, 0, 9, 5, 4, 3, new float[3][5]));
    }

    @Test
    void topKPerKvHeadUnderEachAggregation() {
        RecycledCache first = new RecycledCache(2, 1, GqaAggregation.FIRST, RecycledCache.Update.EVICT, 2);
        first.refresh(PROBS);
        assertArrayEquals(new int[] {0, 4}, first.rows(0));
        assertArrayEquals(new int[] {1, 5}, first.rows(1));
        RecycledCache max = new RecycledCache(2, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 2);
        max.refresh(PROBS);
        assertArrayEquals(new int[] {0, 2}, max.rows(0));
        assertArrayEquals(new int[] {1, 3}, max.rows(1), "ties (0.3 at 3 and 5) go to the earlier position");
        RecycledCache mean = new RecycledCache(3, 1, GqaAggregation.MEAN, RecycledCache.Update.EVICT, 2);
        mean.refresh(PROBS);
        assertArrayEquals(new int[] {0, 2, 4}, mean.rows(0));
    }

    @Test
    void maxPoolingWithKernelSevenSpreadsPeaks() {
        float[] s = {0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0};
        float[] pooled = ScoreSelection.maxPool(s, 7);
        assertArrayEquals(new float[] {0, 0, 9, 9, 9, 9, 9, 9, 9, 0, 0, 0}, pooled);
        assertArrayEquals(s, ScoreSelection.maxPool(s, 1));
        assertThrows(IllegalArgumentException.class, () -> ScoreSelection.maxPool(s, 4));
        // With pooling, neighbours of a peak outrank an isolated smaller score.
        float[][] one = {{0.05f, 0.05f, 0.05f, 0.6f, 0.05f, 0.05f, 0.05f, 0.1f}};
        RecycledCache pooledCache = new RecycledCache(3, 3, GqaAggregation.MAX, RecycledCache.Update.EVICT, 1);
        pooledCache.refresh(one);
        assertArrayEquals(new int[] {2, 3, 4}, pooledCache.rows(0));
        RecycledCache plain = new RecycledCache(3, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 1);
        plain.refresh(one);
        assertArrayEquals(new int[] {0, 3, 7}, plain.rows(0));
    }

    /**
     * reach=R: a peak's window is [p - pool/2, p + R], so Cp holds the R tokens after the peak
     * (where a moving pointer looks next) at the same K. Scores: a peak at 10, a smaller one at 25.
     */
    @Test
    void aForwardReachingWindowKeepsTheTokensAfterThePeakAtTheSameK() {
        float[] one = new float[30];
        java.util.Arrays.fill(one, 0.01f);
        one[10] = 0.6f;
        one[25] = 0.1f;
        float[][] probs = {one};
        assertArrayEquals(new int[] {7, 8, 9, 10, 11, 12, 13, 22, 23, 24},
                refreshed(new TopRows(10, GqaAggregation.MAX, 7), probs), "symmetric kernel 7: [p - 3, p + 3]");
        assertArrayEquals(new int[] {7, 8, 9, 10, 11, 12, 13, 14, 15, 22},
                refreshed(new TopRows(10, GqaAggregation.MAX, 7, 5), probs), "pool=7, reach=5: [p - 3, p + 5]");
        assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15, 16, 17, 18, 25},
                refreshed(new TopRows(10, GqaAggregation.MAX, 1, 8), probs), "pool=1, reach=8: [p, p + 8]");
        assertEquals(7 / 2 + 16 + 1, new TopRows(10, GqaAggregation.MAX, 7, 16).window());
        assertEquals(10 + 20, new TopRows(10, GqaAggregation.MAX, 7, 16).candidates(1000), "a tie run is at most a window long");
        assertEquals(7, new TopRows(10, GqaAggregation.MAX, 7).window(), "reach defaults to pool / 2");
        assertThrows(IllegalArgumentException.class, () -> new TopRows(10, GqaAggregation.MAX, 7, -1));
    }

    private static int[] refreshed(TopRows selection, float[][] probs) {
        RecycledCache cp = new RecycledCache(selection, selection.k(), RecycledCache.Update.EVICT, 1);
        cp.refresh(probs);
        return cp.rows(0);
    }

    @Test
    void fixedScheduleIsFullAtMultiplesOfS() {
        Schedule s = Schedule.fixed(5);
        boolean[] full = new boolean[12];
        for (int step = 0; step < 12; step++) {
            full[step] = s.isFullStep(step, 0, null);
        }
        assertArrayEquals(new boolean[] {true, false, false, false, false, true, false, false, false, false, true, false}, full);
        assertThrows(IllegalArgumentException.class, () -> Schedule.fixed(0));
    }

    @Test
    void v2EvictsTheLowestScoredEntryAndKeepsGeneratedTokens() {
        float[][] probs = {{0.4f, 0.1f, 0.3f, 0.2f}};
        RecycledCache cp = new RecycledCache(3, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 1);
        cp.refresh(probs);
        assertArrayEquals(new int[] {0, 2, 3}, cp.rows(0));
        cp.append(4);
        assertArrayEquals(new int[] {0, 2, 4}, cp.rows(0), "position 3 (0.2) evicted for token 4");
        cp.append(5);
        assertArrayEquals(new int[] {0, 4, 5}, cp.rows(0), "then position 2 (0.3)");
        assertEquals(3, cp.size());
    }

    @Test
    void slotsHoldRefreshedEntriesByScoreThenTheGeneratedRun() {
        RecycledCache cp = new RecycledCache(3, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 1);
        int[] rows = cp.refresh(new float[][] {{0.4f, 0.1f, 0.3f, 0.2f}});
        assertArrayEquals(new int[] {0, 2, 3}, rows, "slot order: descending score");
        assertArrayEquals(new int[] {2}, cp.append(4), "the lowest-scored slot is reused");
        assertArrayEquals(new int[] {1}, cp.append(5));
        assertArrayEquals(new int[] {0}, cp.append(6));
        assertNull(cp.append(7), "every refreshed entry evicted: time for a full step");
        RecycledCache grow = new RecycledCache(2, 3, 1, GqaAggregation.MAX, RecycledCache.Update.GROW, 1);
        grow.refresh(new float[][] {{0.4f, 0.1f, 0.3f, 0.2f}});
        assertArrayEquals(new int[] {2}, grow.append(4));
        assertNull(grow.append(5), "GROW past its capacity");
    }

    /**
     * A refresh that selects every position lays Cp out in position order (attending it is
     * then full attention exactly); when such a Cp has to evict, each KV head drops its own
     * lowest-scored entry, so the new token's slot differs between heads. A selection of fewer
     * rows than the context holds stays in score order, even of the first positions.
     */
    @Test
    void aCoveringRefreshIsInPositionOrderAndEvictsPerHead() {
        // KV head 0 ranks positions 3 > 0 > 2 > 1, head 1 ranks 1 > 2 > 0 > 3
        RecycledCache cp = new RecycledCache(4, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 2);
        int[] rows = cp.refresh(new float[][] {{0.3f, 0.1f, 0.2f, 0.4f}, {0.2f, 0.4f, 0.3f, 0.1f}});
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 3}, rows, "slot = position in both heads");
        assertArrayEquals(new int[] {1, 3}, cp.append(4), "each head's lowest-scored slot: position 1 / position 3");
        assertArrayEquals(new int[] {0, 2, 3, 4}, cp.rows(0));
        assertArrayEquals(new int[] {0, 1, 2, 4}, cp.rows(1));
        assertArrayEquals(new int[] {2, 0}, cp.append(5), "then position 2 / position 0");
        assertEquals(4, cp.size());
        RecycledCache partial = new RecycledCache(3, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 2);
        assertArrayEquals(new int[] {3, 0, 2, 1, 2, 0}, partial.refresh(new float[][] {{0.3f, 0.1f, 0.2f, 0.4f},
                {0.2f, 0.4f, 0.3f, 0.1f}}), "three of four rows: score order in both heads, though head 1's are the first three");
        assertArrayEquals(new int[] {2, 2}, partial.append(4), "both evict their last live slot");
    }

    /**
     * A selection of as many rows as the context holds that is not every position (a padding row chosen over a score
     * the device cannot order, such as NaN) stays in score order, as the device's order flags have it.
     */
    @Test
    void aCoveringCountThatIsNotEveryPositionStaysInScoreOrder() {
        RecycledCache cp = new RecycledCache(3, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 2);
        assertArrayEquals(new int[] {2, 0, 4, 0, 1, 2}, cp.refreshSelected(new int[][] {{2, 0, 4}, {2, 0, 1}}, 3),
                "head 0 by score; head 1, every position, in position order");
        assertArrayEquals(new int[] {2, 1}, cp.append(5), "head 0: its last live slot; head 1: position 1's slot");
    }

    /**
     * A refresh on the device: a head in score order evicts its last live slot (its positions
     * read from the device only when asked), a head in position order its own lowest-scored
     * entry; a later refresh that changes a head's layout evicts by the new one.
     */
    @Test
    void aDeviceRefreshEvictsByEachHeadsLayout() {
        RecycledCache cp = new RecycledCache(3, 1, GqaAggregation.MAX, RecycledCache.Update.EVICT, 2);
        int[] devicePositions = {9, 5, 7, 0, 0, 1, 2, 0}; // head-major, stride 4: head 0 by score, head 1 unread
        int[] reads = {0};
        cp.refreshedOnDevice(3, new int[][] {null, {2, 0, 1}}, () -> {
            reads[0]++;
            return devicePositions;
        }, 4);
        assertArrayEquals(new int[] {2, 1}, cp.append(10), "head 0: slot of rank 2 (position 7); head 1: position 1's slot");
        assertEquals(0, reads[0], "appending needs no device read");
        assertArrayEquals(new int[] {5, 9, 10}, cp.rows(0));
        assertArrayEquals(new int[] {0, 2, 10}, cp.rows(1));
        assertEquals(1, reads[0]);
        assertArrayEquals(new int[] {1, 0}, cp.append(11), "then rank 1 / position 0");
        // the heads swap layouts
        cp.refreshedOnDevice(3, new int[][] {{1, 2, 0}, null}, () -> devicePositions, 4);
        assertArrayEquals(new int[] {0, 2}, cp.append(12), "head 0: position 0's slot; head 1: slot of rank 2");
        assertArrayEquals(new int[] {1, 2, 12}, cp.rows(0));
        assertArrayEquals(new int[] {0, 1, 12}, cp.rows(1), "head 1's slots 0 and 1 from the device (stride 4)");
    }

    @Test
    void v1GrowsByTheGeneratedTokensUntilTheNextRefresh() {
        float[][] probs = {{0.4f, 0.1f, 0.3f, 0.2f}};
        RecycledCache cp = new RecycledCache(2, 1, GqaAggregation.MAX, RecycledCache.Update.GROW, 1);
        cp.refresh(probs);
        cp.append(4);
        cp.append(5);
        assertArrayEquals(new int[] {0, 2, 4, 5}, cp.rows(0));
        cp.refresh(new float[][] {{0.1f, 0.1f, 0.1f, 0.1f, 0.5f, 0.1f, 0.3f}});
        assertArrayEquals(new int[] {4, 6}, cp.rows(0), "a refresh starts over from the new scores");
    }

    @Test
    void budgetAtLeastTheContextKeepsEverything() {
        float[][] probs = {{0.4f, 0.1f, 0.3f, 0.2f}};
        RecycledCache cp = new RecycledCache(100, 7, GqaAggregation.MAX, RecycledCache.Update.EVICT, 1);
        cp.refresh(probs);
        for (int p = 4; p < 20; p++) {
            cp.append(p);
        }
        int[] all = new int[20];
        java.util.Arrays.setAll(all, i -> i);
        assertArrayEquals(all, cp.rows(0));
    }

    @Test
    void dynamicScheduleSwitchesAtTheThreshold() {
        QuerySimilaritySchedule s = new QuerySimilaritySchedule(5, 0.8, 2);
        float[] q0 = {1, 0};
        s.onFullStep(0, q0);
        s.onFullStep(1, q0);
        float[] similar = {1, 0.7f};    // cos = 0.819 > 0.8
        float[] different = {1, 0.8f};  // cos = 0.781 <= 0.8
        assertTrue(s.isFullStep(0, 0, q0), "step 0 is the prefill's full step");
        assertFalse(s.isFullStep(3, 0, different), "not a check step: recycle whatever the query");
        assertFalse(s.isFullStep(5, 0, similar));
        assertTrue(s.isFullStep(5, 1, different), "layers decide independently");
        assertEquals(0.8192, QuerySimilaritySchedule.cosine(q0, similar), 1e-4);
    }

    @Test
    void massRecallIsTheShareOfProbabilityOnTheKeptRows() {
        float[] p = {0.5f, 0.1f, 0.3f, 0.1f};
        assertEquals(0.8, ScoreSelection.massRecall(p, new int[] {0, 2}), 1e-6);
    }

    @Test
    void topKOrdersByScoreThenPositionIncludingNegativesAndTies() {
        float[] s = {0.5f, -1f, 2f, 0.5f, -0.25f, 2f, 0f, -0f};
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[] {2, 5, 0, 3, 6}, ScoreSelection.topKByScore(s, 5));
        java.util.Random r = new java.util.Random(3);
        float[] big = new float[5000];
        for (int i = 0; i < big.length; i++) {
            big[i] = r.nextInt(50) - 25 + r.nextFloat();
        }
        Integer[] order = new Integer[big.length];
        java.util.Arrays.setAll(order, i -> i);
        java.util.Arrays.sort(order, (a, b) -> {
            int c = Float.compare(big[b], big[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] want = java.util.Arrays.stream(order).limit(300).mapToInt(Integer::intValue).toArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(want, ScoreSelection.topKByScore(big, 300));
    }
}
