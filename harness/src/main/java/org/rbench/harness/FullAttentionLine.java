package org.rbench.harness;

import java.util.List;

/**
 * Full attention's decode time as a line in the rows it attends, t = a + b x rows, fitted
 * (least squares) over the lengths of one benchmark run. It gives a second bound beside the
 * bytes-moved one: the speedup a method attending r rows would have if it cost what full
 * attention costs over r rows, t_full(L) / (a + b x r). The bytes-moved bound assumes that
 * weights and KV rows stream at one rate; where a weight format's kernels are slower per
 * byte than attention (Q8_0 on CUDA: 1.94 against 2.6 TB/s on an H200), no method reaches
 * it, and this line says how close a method comes to its own floor instead.
 */
record FullAttentionLine(double interceptMs, double msPerRow, int points) {
    /** The line through (attended rows, ms/token) points, or null with fewer than two distinct row counts. */
    static FullAttentionLine fit(List<double[]> rowsAndMs) {
        int n = rowsAndMs.size();
        if (n < 2) {
            return null;
        }
        double mx = 0;
        double my = 0;
        for (double[] p : rowsAndMs) {
            mx += p[0];
            my += p[1];
        }
        mx /= n;
        my /= n;
        double sxx = 0;
        double sxy = 0;
        for (double[] p : rowsAndMs) {
            sxx += (p[0] - mx) * (p[0] - mx);
            sxy += (p[0] - mx) * (p[1] - my);
        }
        if (sxx <= 0) {
            return null;
        }
        double b = sxy / sxx;
        return new FullAttentionLine(my - b * mx, b, n);
    }

    /** Full attention's time over {@code rows} rows by the line, ms. */
    double msAt(double rows) {
        return interceptMs + msPerRow * rows;
    }

    /** {@code fullMs / msAt(rows)}, or NaN where the line gives no positive time there. */
    double boundFor(double fullMs, double rows) {
        double t = msAt(rows);
        return t > 0 ? fullMs / t : Double.NaN;
    }
}
