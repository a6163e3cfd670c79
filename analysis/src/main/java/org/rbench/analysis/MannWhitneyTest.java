package org.rbench.analysis;

import java.util.Arrays;

/**
 * Two-sided Mann-Whitney U (Wilcoxon rank-sum) test: do two samples of decode times come from
 * the same distribution? Rank-based, so one slow outlier step cannot fake a regression.
 *
 * <p>Small samples without ties (a nightly latency sweep has a handful of repetitions) get the
 * exact null distribution; otherwise the normal approximation with tie and continuity
 * corrections is used, as in SciPy's {@code mannwhitneyu(method="auto")}.
 */
final class MannWhitneyTest {
    /** Largest combined sample size for the exact distribution (counts stay exact in doubles). */
    static final int EXACT_LIMIT = 50;

    private MannWhitneyTest() {
    }

    /** @return the two-sided p-value, NaN when a sample is empty */
    static double twoSidedP(double[] first, double[] second) {
        int n1 = first.length;
        int n2 = second.length;
        if (n1 == 0 || n2 == 0) {
            return Double.NaN;
        }
        int n = n1 + n2;
        double[][] labelled = new double[n][];
        for (int i = 0; i < n1; i++) {
            labelled[i] = new double[] {first[i], 0};
        }
        for (int i = 0; i < n2; i++) {
            labelled[n1 + i] = new double[] {second[i], 1};
        }
        Arrays.sort(labelled, (a, b) -> Double.compare(a[0], b[0]));
        double rankSumFirst = 0;
        double tieTerm = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && labelled[j + 1][0] == labelled[i][0]) {
                j++;
            }
            double midRank = (i + j) / 2.0 + 1;
            int tied = j - i + 1;
            tieTerm += (double) tied * tied * tied - tied;
            for (int k = i; k <= j; k++) {
                if (labelled[k][1] == 0) {
                    rankSumFirst += midRank;
                }
            }
            i = j + 1;
        }
        double u = rankSumFirst - n1 * (n1 + 1) / 2.0;
        if (tieTerm == 0 && n <= EXACT_LIMIT) {
            return exactTwoSided((int) Math.round(u), n1, n2);
        }
        double mean = n1 * (double) n2 / 2;
        double variance = n1 * (double) n2 / 12 * ((n + 1) - tieTerm / (n * (double) (n - 1)));
        if (variance <= 0) {
            return 1.0; // every value tied: no evidence of a difference
        }
        double z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
        return Math.min(1.0, erfc(z / Math.sqrt(2)));
    }

    /** Exact p from the distribution of U, whose counts are the Gaussian binomial coefficients. */
    private static double exactTwoSided(int u, int n1, int n2) {
        double[] counts = uCounts(n1, n2);
        double total = 0;
        for (double c : counts) {
            total += c;
        }
        double lower = 0;
        for (int k = 0; k <= u; k++) {
            lower += counts[k];
        }
        double upper = 0;
        for (int k = u; k < counts.length; k++) {
            upper += counts[k];
        }
        return Math.min(1.0, 2 * Math.min(lower, upper) / total);
    }

    /**
     * Number of rank arrangements giving U = 0..n1*n2: the coefficients of
     * prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i).
     */
    static double[] uCounts(int n1, int n2) {
        double[] c = {1};
        for (int i = 1; i <= n1; i++) {
            int shift = n2 + i;
            double[] times = new double[c.length + shift];
            for (int k = 0; k < times.length; k++) {
                times[k] = (k < c.length ? c[k] : 0) - (k >= shift && k - shift < c.length ? c[k - shift] : 0);
            }
            // Dividing by (1 - q^i) is exact here: e[k] = d[k] + e[k - i].
            double[] divided = new double[i * n2 + 1];
            for (int k = 0; k < divided.length; k++) {
                divided[k] = times[k] + (k >= i ? divided[k - i] : 0);
            }
            c = divided;
        }
        return c;
    }

    /** Complementary error function, fractional error below 1.2e-7 (Numerical Recipes' erfcc). */
    static double erfc(double x) {
        double z = Math.abs(x);
        double t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
