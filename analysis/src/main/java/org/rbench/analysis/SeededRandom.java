package org.rbench.analysis;

/**
 * SplitMix64 pseudo-random generator.
 *
 * <p>The suite owns its generator instead of using {@link java.util.Random} or
 * {@link java.util.SplittableRandom} so that bootstrap intervals and p-values, which appear in
 * golden files and nightly reports, stay bit-identical across JDK versions.
 */
final class SeededRandom {
    private long state;

    SeededRandom(long seed) {
        this.state = seed;
    }

    /**
     * Derives an independent seed for one named group. Seeding each group from its own name keeps
     * a group's interval unchanged when other groups are added to or removed from a report.
     */
    static long derive(long seed, String label) {
        // String.hashCode is specified by the Java API, so it is stable across releases.
        return mix(mix(seed) ^ label.hashCode());
    }

    long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return mix(state);
    }

    /** Uniform in [0, bound), without modulo bias (Lemire's multiply-and-reject). */
    int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive: " + bound);
        }
        long product = (nextLong() >>> 32) * bound;
        long low = product & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x100000000L - bound) % bound;
            while (low < threshold) {
                product = (nextLong() >>> 32) * bound;
                low = product & 0xFFFFFFFFL;
            }
        }
        return (int) (product >>> 32);
    }

    boolean nextBoolean() {
        return nextLong() < 0;
    }

    /** Uniform in [0, 1). */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
