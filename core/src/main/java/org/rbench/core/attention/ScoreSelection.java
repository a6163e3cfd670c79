package org.rbench.core.attention;

import java.util.Arrays;

/** Selecting positions from per-position scores: SnapKV-style max pooling and top-K. */
public final class ScoreSelection {
    private ScoreSelection() {
    }

    /**
     * Max pooling along positions with an odd kernel, stride 1 and "same" padding (as
     * SnapKV's F.max_pool1d(kernel, padding=kernel//2, stride=1)): position i gets the
     * maximum over [i - kernel/2, i + kernel/2] clipped to the sequence. Kernel 1 (or 0)
     * returns a copy.
     */
    public static float[] maxPool(float[] scores, int kernel) {
        if (kernel <= 1) {
            return scores.clone();
        }
        if (kernel % 2 == 0) {
            throw new IllegalArgumentException("pooling kernel must be odd, got " + kernel);
        }
        return maxPool(scores, kernel / 2, kernel / 2);
    }

    /**
     * Max pooling over an asymmetric window: each score spreads to the {@code back} positions
     * before it and the {@code forward} positions after it, so a peak at p raises
     * [p - back, p + forward] (clipped to the sequence); position i gets the maximum over
     * [i - forward, i + back]. back = forward = kernel/2 is {@link #maxPool(float[], int)}.
     * A window reaching forward suits a head that reads the tokens after the one it peaked on,
     * one further per decoded token.
     */
    public static float[] maxPool(float[] scores, int back, int forward) {
        if (back < 0 || forward < 0) {
            throw new IllegalArgumentException("a pooling window reaches back and forward by >= 0 positions, got back " + back
                    + ", forward " + forward);
        }
        int n = scores.length;
        float[] out = new float[n];
        // A monotonic deque gives O(n) sliding maxima.
        int[] dq = new int[n];
        int head = 0, tail = 0;
        int next = 0;
        for (int i = 0; i < n; i++) {
            int hi = (int) Math.min(n - 1L, (long) i + back);
            while (next <= hi) {
                while (tail > head && scores[dq[tail - 1]] <= scores[next]) {
                    tail--;
                }
                dq[tail++] = next++;
            }
            while (dq[head] < (long) i - forward) {
                head++;
            }
            out[i] = scores[dq[head]];
        }
        return out;
    }

    /**
     * The positions of the k highest scores, in ascending position order. Ties go to the
     * earlier position, so the result is deterministic. k >= length returns every position.
     */
    public static int[] topK(float[] scores, int k) {
        int n = scores.length;
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0: " + k);
        }
        if (k >= n) {
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int[] out = topKByScore(scores, k);
        Arrays.sort(out);
        return out;
    }

    /**
     * The positions of the k highest scores, highest first (ties: earlier position first).
     * Runs at every host refresh of Recycled's Cp (the host start, from the prefill's last row: every
     * layer and KV head over the whole context), so it orders primitive keys (score order in the
     * high half, position in the low half: all distinct) rather than boxed indices with a
     * comparator, and sorts only the k it keeps once a selection has put them first: linear in
     * the context, where sorting all of a 131K-row context took 1.7 s for an 8B model's 256 rows.
     */
    public static int[] topKByScore(float[] scores, int k) {
        int n = scores.length;
        int m = Math.min(k, n);
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToIntBits(scores[i]);
            int ordered = bits ^ ((bits >> 31) & 0x7fffffff); // monotonic in the float's value
            keys[i] = ((long) ~ordered << 32) | i;            // ~ reverses: highest score first
        }
        if (m < n) {
            selectSmallest(keys, m);
        }
        java.util.Arrays.sort(keys, 0, m);
        int[] out = new int[m];
        for (int i = 0; i < m; i++) {
            out[i] = (int) keys[i];
        }
        return out;
    }

    /**
     * Reorders {@code keys} (distinct) so that its {@code m} smallest come first, in no particular
     * order (0 < m < length): a quickselect with median-of-three pivots, falling back to a full
     * sort where it stops converging, so linear on average and never worse than a sort.
     */
    static void selectSmallest(long[] keys, int m) {
        int lo = 0;
        int hi = keys.length - 1;
        int budget = 2 * (64 - Long.numberOfLeadingZeros(keys.length));
        while (hi > lo) {
            if (budget-- == 0) {
                java.util.Arrays.sort(keys, lo, hi + 1);
                return;
            }
            int mid = lo + (hi - lo) / 2;
            long a = keys[lo];
            long b = keys[mid];
            long c = keys[hi];
            long pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
            int i = lo;
            int j = hi;
            while (i <= j) {
                while (keys[i] < pivot) {
                    i++;
                }
                while (keys[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = keys[i];
                    keys[i] = keys[j];
                    keys[j] = t;
                    i++;
                    j--;
                }
            }
            // [lo, j] <= pivot <= [i, hi]; between them, the pivot itself
            if (m - 1 <= j) {
                hi = j;
            } else if (m - 1 >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    /**
     * The first {@code k} of candidates that arrive in descending score order with ties in
     * any order (a device sort), in {@link #topKByScore}'s order: score descending, then
     * position ascending. Equal with it on the whole input as long as the tie run at rank k
     * is complete among the candidates (TopRows fetches a kernel's worth beyond k for that).
     *
     * @param positions candidate positions
     * @param scores    their scores, non-increasing
     */
    public static int[] orderTies(int[] positions, float[] scores, int k) {
        if (positions.length != scores.length) {
            throw new IllegalArgumentException(positions.length + " positions but " + scores.length + " scores");
        }
        return orderTies(positions, scores, 0, positions.length, k);
    }

    /**
     * {@link #orderTies(int[], float[], int, int)} of the candidates at {@code [from, from +
     * count)} of the two arrays, which it does not change: the device's candidates of every
     * KV head of every layer arrive in one array, and only the runs up to rank k are looked at.
     */
    public static int[] orderTies(int[] positions, float[] scores, int from, int count, int k) {
        if (from < 0 || count < 0 || from + count > positions.length || from + count > scores.length) {
            throw new IllegalArgumentException("candidates [" + from + ", " + (from + count) + ") outside arrays of "
                    + positions.length + " and " + scores.length);
        }
        for (int i = from + 1; i < from + count; i++) {
            if (scores[i] > scores[i - 1]) {
                // Not sorted after all: sort everything by score on the host, then order the ties.
                float[] some = java.util.Arrays.copyOfRange(scores, from, from + count);
                int[] byScore = topKByScore(some, count);
                int[] sorted = new int[count];
                for (int j = 0; j < count; j++) {
                    sorted[j] = positions[from + byScore[j]];
                }
                return orderTies(sorted, reorder(some, byScore), 0, count, k);
            }
        }
        int keep = Math.min(k, count);
        if (keep == 0) {
            return new int[0];
        }
        // the candidates up to the end of the tie run at rank k, each tie run in position order
        int end = keep;
        while (end < count && Float.compare(scores[from + end], scores[from + keep - 1]) == 0) {
            end++;
        }
        int[] out = java.util.Arrays.copyOfRange(positions, from, from + end);
        for (int i = 0; i < end; ) {
            int j = i + 1;
            while (j < end && Float.compare(scores[from + j], scores[from + i]) == 0) {
                j++;
            }
            if (j - i > 1) {
                sortRun(out, i, j);
            }
            i = j;
        }
        return end == keep ? out : java.util.Arrays.copyOf(out, keep);
    }

    private static float[] reorder(float[] v, int[] order) {
        float[] out = new float[v.length];
        for (int i = 0; i < order.length; i++) {
            out[i] = v[order[i]];
        }
        return out;
    }

    /**
     * Sorts positions[from, to) ascending. Tie runs of max-pooled scores are a pooling kernel
     * long (7) or so, hundreds of them per KV head, and almost always the consecutive
     * positions one maximum spread over: those are written out in order without comparing
     * (a comparison sort's cost per run made a 32-layer full step's ordering take 10-15 ms).
     */
    private static void sortRun(int[] positions, int from, int to) {
        int n = to - from;
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        for (int i = from; i < to; i++) {
            min = Math.min(min, positions[i]);
            max = Math.max(max, positions[i]);
        }
        if (max - min + 1 == n && distinct(positions, from, to, min)) {
            for (int i = 0; i < n; i++) {
                positions[from + i] = min + i;
            }
        } else if (n > 32) {
            java.util.Arrays.sort(positions, from, to);
        } else {
            for (int i = from + 1; i < to; i++) {
                int v = positions[i];
                int j = i - 1;
                while (j >= from && positions[j] > v) {
                    positions[j + 1] = positions[j];
                    j--;
                }
                positions[j + 1] = v;
            }
        }
    }

    /** Whether positions[from, to), all within [min, min + (to - from)), are distinct (a bit set over that span). */
    private static boolean distinct(int[] positions, int from, int to, int min) {
        int n = to - from;
        if (n <= 64) {
            long seen = 0;
            for (int i = from; i < to; i++) {
                long bit = 1L << (positions[i] - min);
                if ((seen & bit) != 0) {
                    return false;
                }
                seen |= bit;
            }
            return true;
        }
        java.util.BitSet seen = new java.util.BitSet(n);
        for (int i = from; i < to; i++) {
            int b = positions[i] - min;
            if (seen.get(b)) {
                return false;
            }
            seen.set(b);
        }
        return true;
    }

    /** The share of the total score mass that falls on the given positions (attention mass recall). */
    public static double massRecall(float[] probabilities, int[] positions) {
        double total = 0, kept = 0;
        for (float p : probabilities) {
            total += p;
        }
        for (int i : positions) {
            kept += probabilities[i];
        }
        return total == 0 ? 0 : kept / total;
    }
}
