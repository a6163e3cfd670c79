package org.rbench.datasets;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Random draws with the semantics of the reference's Python calls (random.sample,
 * random.shuffle, ...), on {@link SplittableRandom} so that a sample depends only on its seed.
 */
final class Draws {

    private Draws() {
    }

    /**
     * Derives an independent seed from a seed and some coordinates (task, length, index, ...),
     * so that each sample can be generated alone, in any order, with the same result.
     */
    static long mix(long seed, long... coordinates) {
        long h = splitMix(seed ^ 0x6A09E667F3BCC909L);
        for (long c : coordinates) {
            h = splitMix(h ^ splitMix(c + 0x3C6EF372FE94F82BL));
        }
        return h;
    }

    /** A stable number for a name (String.hashCode is specified, so it is stable across JVMs). */
    static long nameCode(String name) {
        return name.hashCode();
    }

    private static long splitMix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Like random.sample(range(populationSize), k): k distinct indices, in random order.
     * A partial Fisher-Yates shuffle (kept sparse, so it costs O(k)); drawing more items
     * with the same generator state extends the same sequence, which keeps a sample's
     * content stable when its haystack grows.
     */
    static int[] sample(int populationSize, int k, SplittableRandom rng) {
        if (k < 0 || k > populationSize) {
            throw new IllegalArgumentException("cannot draw " + k + " distinct items from " + populationSize);
        }
        int[] out = new int[k];
        Map<Integer, Integer> swapped = new HashMap<>(Math.min(2 * k, populationSize) + 1);
        for (int i = 0; i < k; i++) {
            int j = i + rng.nextInt(populationSize - i);
            int atJ = swapped.getOrDefault(j, j);
            int atI = swapped.getOrDefault(i, i);
            swapped.put(j, atI);
            out[i] = atJ;
        }
        return out;
    }

    /** Like random.shuffle: Fisher-Yates in place. */
    static <T> void shuffle(List<T> list, SplittableRandom rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }

    /** Like random.shuffle on an array. */
    static void shuffle(int[] values, SplittableRandom rng) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
    }

    /** A uniform integer in [low, high], both included. */
    static int between(int low, int high, SplittableRandom rng) {
        return rng.nextInt(low, high + 1);
    }

    /** {@code length} random letters from {@code first} to {@code first + 25} (e.g. 'a' or 'A'). */
    static String letters(int length, char first, SplittableRandom rng) {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = (char) (first + rng.nextInt(26));
        }
        return new String(chars);
    }

    /** Like uuid.UUID(int=random.getrandbits(128), version=4): random bits with version and variant set. */
    static String uuid4(SplittableRandom rng) {
        long most = (rng.nextLong() & ~0xF000L) | 0x4000L;
        long least = (rng.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(most, least).toString();
    }
}
