package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.rbench.core.select.GqaAggregation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The per-step eviction (one token in, one out, by a linear scan) keeps exactly what the
 * reference's sort keeps: the recent window plus the heavy highest-scored older tokens,
 * ties to the lower index. Scores are coarse so that ties are frequent.
 */
class HeavyHitterEvictionTest {
    @Test
    void stepEvictionMatchesTheSortingReference() {
        int heavy = 6;
        int recent = 5;
        int prompt = 30;
        SplittableRandom r = new SplittableRandom(7);
        HeavyHitterCache cache = new HeavyHitterCache(heavy, recent, GqaAggregation.SUM, 1);
        float[][] sums = {new float[prompt]};
        for (int i = 0; i < prompt; i++) {
            sums[0][i] = r.nextInt(4) * 0.25f;
        }
        cache.prefill(sums);
        List<int[]> ref = new ArrayList<>(); // {position, score bits}
        List<Float> refScores = new ArrayList<>();
        int[] kept = reference(range(prompt), sums[0], heavy, recent, ref, refScores);
        assertArrayEquals(kept, cache.positions(0));
        for (int step = 0; step < 200; step++) {
            int position = prompt + step;
            int n = cache.positions(0).length;
            float[] p = new float[n + 1];
            for (int i = 0; i <= n; i++) {
                p[i] = r.nextInt(3) * 0.125f;
            }
            cache.afterStep(position, new float[][] {p});
            // reference: add, then sort-based eviction
            int[] positions = new int[n + 1];
            float[] scores = new float[n + 1];
            for (int i = 0; i < n; i++) {
                positions[i] = ref.get(i)[0];
                scores[i] = refScores.get(i) + p[i];
            }
            positions[n] = position;
            scores[n] = p[n];
            kept = reference(positions, scores, heavy, recent, ref, refScores);
            assertArrayEquals(kept, cache.positions(0), "step " + step);
            float[] expectedScores = new float[refScores.size()];
            for (int i = 0; i < expectedScores.length; i++) {
                expectedScores[i] = refScores.get(i);
            }
            assertArrayEquals(expectedScores, cache.scores(0), "scores at step " + step);
        }
    }

    private static int[] range(int n) {
        int[] a = new int[n];
        Arrays.setAll(a, i -> i);
        return a;
    }

    /** H2O's eviction written plainly: sort the older entries by (score desc, index asc), keep heavy + the recent window. */
    private static int[] reference(int[] positions, float[] scores, int heavy, int recent, List<int[]> outPositions,
                                   List<Float> outScores) {
        int n = positions.length;
        List<Integer> keep = new ArrayList<>();
        if (n <= heavy + recent) {
            for (int i = 0; i < n; i++) {
                keep.add(i);
            }
        } else {
            int older = n - recent;
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < older; i++) {
                order.add(i);
            }
            order.sort(Comparator.<Integer>comparingDouble(i -> -scores[i]).thenComparingInt(i -> i));
            keep.addAll(order.subList(0, heavy));
            for (int i = older; i < n; i++) {
                keep.add(i);
            }
            keep.sort(Integer::compare);
        }
        outPositions.clear();
        outScores.clear();
        int[] kept = new int[keep.size()];
        for (int j = 0; j < keep.size(); j++) {
            kept[j] = positions[keep.get(j)];
            outPositions.add(new int[] {positions[keep.get(j)]});
            outScores.add(scores[keep.get(j)]);
        }
        return kept;
    }
}
