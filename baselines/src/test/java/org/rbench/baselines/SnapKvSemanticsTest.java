package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategies;
import org.rbench.core.attention.Strategy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SnapKV's votes, pooling and selection, and PyramidKV's layer budgets, on hand-made inputs. */
class SnapKvSemanticsTest {

    @Test
    void votesSumTheWindowQueriesWeightsOnTheKeysBeforeTheWindow() {
        // 2 heads, 3 collected query rows (positions 3, 4, 5 of a 6-token prompt), window 2:
        // only the rows of positions 4 and 5 vote, and only on keys 0..3.
        float[] data = {
                // head 0
                .1f, .2f, .3f, .4f, 0f, 0f,   // position 3: outside the window
                .1f, .2f, .1f, .1f, .5f, 0f,  // position 4
                .3f, 0f, .1f, .2f, .1f, .3f,  // position 5
                // head 1
                1f, 0f, 0f, 0f, 0f, 0f,
                0f, 0f, 0f, .5f, .5f, 0f,
                0f, .25f, 0f, .25f, .25f, .25f};
        AttentionProbabilities rows = new AttentionProbabilities(2, 3, 6, 3, data);
        float[][] votes = SnapKvSelection.votes(rows, 2, 4);
        assertArrayEquals(new float[] {.4f, .2f, .2f, .3f}, votes[0], 1e-6f);
        assertArrayEquals(new float[] {0f, .25f, 0f, .75f}, votes[1], 1e-6f);
        assertThrows(IllegalArgumentException.class, () -> SnapKvSelection.votes(rows, 4, 2), "more window rows than collected");
    }

    @Test
    void poolingSpreadsAMaximumOverTheKernelAndTiesGoToTheLowerPosition() {
        float[] scores = {0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 5, 0};
        // kernel 3: 9 covers 2..4, 5 covers 9..11; the four best are the 9s and the lowest 5
        assertArrayEquals(new int[] {2, 3, 4, 9}, SnapKvSelection.topVoted(scores, 4, 3));
        // kernel 7: 9 covers 0..6, so its run alone fills the budget, lowest positions first
        assertArrayEquals(new int[] {0, 1, 2, 3}, SnapKvSelection.topVoted(scores, 4, 7));
        // kernel 1: no pooling
        assertArrayEquals(new int[] {3, 10}, SnapKvSelection.topVoted(scores, 2, 1));
        assertArrayEquals(new int[] {1}, SnapKvSelection.topVoted(new float[] {1, 2, 2, 1}, 1, 1), "tie: lower position");
        assertArrayEquals(new int[] {0, 1, 2, 3}, SnapKvSelection.topVoted(new float[] {1, 2, 2, 1}, 9, 1), "budget over all");
    }

    @Test
    void theWindowIsAlwaysKeptAfterTheVotedKeysInPositionOrder() {
        float[][] votes = {{.1f, .9f, .2f, .8f, 0f, .3f}}; // 6 keys before a window of 3 (prompt of 9)
        assertArrayEquals(new int[] {6, 7, 8}, SnapKvSelection.keep(votes, 0, 3, 1, GqaChoice.MAX, 1)[0],
                "no voted keys: the window alone");
        assertArrayEquals(new int[] {1, 3, 6, 7, 8}, SnapKvSelection.keep(votes, 2, 3, 1, GqaChoice.MAX, 1)[0]);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8}, SnapKvSelection.keep(votes, 6, 3, 1, GqaChoice.MAX, 1)[0]);
    }

    @Test
    void gqaModesAggregateTheGroupOrLetEachQueryHeadChoose() {
        // 4 query heads, 2 KV heads (group 2); no pooling, one voted key, window 1 after 4 keys
        float[][] votes = {
                {.9f, .5f, 0f, 0f}, {0f, .5f, 0f, 0f},   // KV head 0: max picks 0, mean (.45 vs .5) picks 1
                {0f, 0f, .2f, .3f}, {0f, 0f, .4f, .1f}}; // KV head 1: max picks 2 (.4 vs .3), mean too (.3 vs .2)
        assertArrayEquals(new int[][] {{0, 4}, {2, 4}}, SnapKvSelection.keep(votes, 1, 1, 1, GqaChoice.MAX, 2));
        assertArrayEquals(new int[][] {{1, 4}, {2, 4}}, SnapKvSelection.keep(votes, 1, 1, 1, GqaChoice.MEAN, 2));
        assertArrayEquals(new int[][] {{0, 4}, {1, 4}, {3, 4}, {2, 4}}, SnapKvSelection.keep(votes, 1, 1, 1, GqaChoice.QUERY, 2));
    }

    @Test
    void pyramidBudgetsFollowPyramidKvCluster() {
        // No clamp: B = 2016, min = 100, max = 3932, step = 3832 // 31 = 123
        int[] b = PyramidKv.votedBudgets(2048, 32, 8000, 32, 20);
        assertEquals(3932, b[0]);
        assertEquals(3932 - 123, b[1]);
        assertEquals(3932 - 31 * 123, b[31]);
        // Clamped: B = 480, min = 24, max = 936 >= n - w = 932 -> max 932, min 28, step 904 // 3 = 301
        assertArrayEquals(new int[] {932, 631, 330, 29}, PyramidKv.votedBudgets(512, 32, 964, 4, 20));
        // n = 2B exactly: pyramid, clamped (max 936 >= 928 -> max 928, min 32, step 298)
        assertArrayEquals(new int[] {928, 630, 332, 34}, PyramidKv.votedBudgets(512, 32, 960, 4, 20));
        // c < n < 2B: SnapKV's uniform B
        assertArrayEquals(new int[] {480, 480, 480, 480}, PyramidKv.votedBudgets(512, 32, 959, 4, 20));
        assertArrayEquals(new int[] {480, 480, 480, 480}, PyramidKv.votedBudgets(512, 32, 513, 4, 20));
        // n <= c: every key before the window
        assertArrayEquals(new int[] {268, 268}, PyramidKv.votedBudgets(512, 32, 300, 2, 20));
        assertArrayEquals(new int[] {480, 480}, PyramidKv.votedBudgets(512, 32, 512, 2, 20));
        // the engine test's case: k = 64, window 32, 200 tokens, 2 layers: B = 32, min 1, max 63, step 62
        assertArrayEquals(new int[] {63, 1}, PyramidKv.votedBudgets(64, 32, 200, 2, 20));
        // beta changes min: beta 4 -> min 8, max 56, step 48
        assertArrayEquals(new int[] {56, 8}, PyramidKv.votedBudgets(64, 32, 200, 2, 4));
        // one layer: SnapKV's B (the reference divides by zero)
        assertArrayEquals(new int[] {32}, PyramidKv.votedBudgets(64, 32, 200, 1, 20));
        // the total stays about L x B (the step rounds down)
        int sum = 0;
        for (int x : b) {
            sum += x;
        }
        assertTrue(Math.abs(sum - 32 * 2016) <= 32 * 31 / 2, "total " + sum);
    }

    @Test
    void specsAreRegisteredWithDefaultsAndCheckedBeforeAModelIsLoaded() {
        assertTrue(Strategies.all().containsKey("snapkv"));
        assertTrue(Strategies.all().containsKey("pyramidkv"));
        Strategy snap = Strategies.forSpec(MethodSpec.parse("snapkv"));
        assertTrue(snap.description().contains("k=2048") && snap.description().contains("window=32")
                && snap.description().contains("pool=7") && snap.description().contains("gqa=max"), snap.description());
        assertTrue(Strategies.all().get("pyramidkv").description().contains("beta=20"));
        Strategies.forSpec(MethodSpec.parse("snapkv:k=64,window=8,pool=1,gqa=query"));
        Strategies.forSpec(MethodSpec.parse("pyramidkv:k=64,beta=4,gqa=mean"));
        for (String bad : new String[] {"snapkv:k=32", "snapkv:k=16,window=16", "snapkv:pool=4", "snapkv:pool=0",
                "snapkv:gqa=sum", "snapkv:window=0", "snapkv:beta=3", "pyramidkv:beta=0", "pyramidkv:k=x"}) {
            assertThrows(IllegalArgumentException.class, () -> Strategies.forSpec(MethodSpec.parse(bad)), bad);
        }
    }
}
