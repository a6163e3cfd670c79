package org.rbench.harness;

/** Step times for tests, written in milliseconds. */
final class StepNanos {
    private StepNanos() {
    }

    /** Each of {@code ms} milliseconds in nanoseconds, rounded. */
    static long[] ms(double... ms) {
        long[] out = new long[ms.length];
        for (int i = 0; i < ms.length; i++) {
            out[i] = Math.round(ms[i] * 1e6);
        }
        return out;
    }
}
