package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.rbench.core.attention.GqaAggregation;

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

    /**
     * With GQA (8 query heads on 2 KV heads, summed): the engine's probabilities, read in
     * place (two query rows, keys padded past the attended ones), give exactly the kept tokens
     * and scores of the plain reference fed the group sums, head by head, step by step.
     */
    @Test
    void engineProbabilitiesInPlaceMatchTheReferencePerKvHead() {
        int heavy = 5;
        int recent = 4;
        int prompt = 25;
        int heads = 8;
        int kvHeads = 2;
        int pad = 3;
        SplittableRandom r = new SplittableRandom(11);
        HeavyHitterCache cache = new HeavyHitterCache(heavy, recent, GqaAggregation.SUM, kvHeads);
        float[][] sums = new float[heads][prompt];
        for (float[] row : sums) {
            for (int i = 0; i < prompt; i++) {
                row[i] = r.nextInt(4) * 0.25f;
            }
        }
        cache.prefill(sums);
        float[][] perKv = GqaAggregation.SUM.aggregate(sums, kvHeads);
        List<List<int[]>> refPositions = new ArrayList<>();
        List<List<Float>> refScores = new ArrayList<>();
        for (int h = 0; h < kvHeads; h++) {
            refPositions.add(new ArrayList<>());
            refScores.add(new ArrayList<>());
            assertArrayEquals(reference(range(prompt), perKv[h], heavy, recent, refPositions.get(h), refScores.get(h)),
                    cache.positions(h));
        }
        for (int step = 0; step < 120; step++) {
            int position = prompt + step;
            int n = cache.size();
            int keys = n + 1 + pad;
            float[] data = new float[heads * 2 * keys]; // [heads][2 queries][keys]; the last query row counts
            float[][] lastRows = new float[heads][n + 1];
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < keys; i++) {
                    data[(h * 2) * keys + i] = 9f; // the first query row: must be ignored
                    float v = i <= n ? r.nextInt(3) * 0.125f : 7f; // padding: must be ignored
                    data[(h * 2 + 1) * keys + i] = v;
                    if (i <= n) {
                        lastRows[h][i] = v;
                    }
                }
            }
            cache.afterStep(position, new org.rbench.core.attention.AttentionProbabilities(heads, 2, keys, position - 1, data));
            float[][] stepKv = GqaAggregation.SUM.aggregate(lastRows, kvHeads);
            for (int h = 0; h < kvHeads; h++) {
                int[] positions = new int[n + 1];
                float[] scores = new float[n + 1];
                for (int i = 0; i < n; i++) {
                    positions[i] = refPositions.get(h).get(i)[0];
                    scores[i] = refScores.get(h).get(i) + stepKv[h][i];
                }
                positions[n] = position;
                scores[n] = 0f + stepKv[h][n];
                int[] kept = reference(positions, scores, heavy, recent, refPositions.get(h), refScores.get(h));
                assertArrayEquals(kept, cache.positions(h), "KV head " + h + ", step " + step);
                float[] expected = new float[refScores.get(h).size()];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = refScores.get(h).get(i);
                }
                assertArrayEquals(expected, cache.scores(h), "scores of KV head " + h + " at step " + step);
                int[] rows = new int[n + 5];
                cache.copyRowsForStep(h, position + 1, rows, 2);
                assertArrayEquals(cache.rowsForStep(h, position + 1), Arrays.copyOfRange(rows, 2, 2 + cache.size() + 1));
            }
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
