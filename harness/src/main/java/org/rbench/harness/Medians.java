package org.rbench.harness;

import java.util.Arrays;

/** The median the bench tables quote (the mean of the middle two for an even count). */
final class Medians {
    private Medians() {
    }

    static double of(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("the median of no values");
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
