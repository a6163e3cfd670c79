package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class DrawsTest {

    @Test
    void sampleDrawsDistinctIndexesAndExtendsTheSameSequence() {
        int[] ten = Draws.sample(1000, 10, new SplittableRandom(5));
        int[] twenty = Draws.sample(1000, 20, new SplittableRandom(5));
        assertEquals(10, Arrays.stream(ten).distinct().count());
        assertEquals(20, Arrays.stream(twenty).distinct().count());
        assertArrayEquals(ten, Arrays.copyOf(twenty, 10), "a larger draw starts with the smaller one");
        assertTrue(Arrays.stream(twenty).allMatch(i -> i >= 0 && i < 1000));
        int[] all = Draws.sample(7, 7, new SplittableRandom(1));
        Arrays.sort(all);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, all);
        assertThrows(IllegalArgumentException.class, () -> Draws.sample(3, 4, new SplittableRandom(1)));
    }

    @Test
    void uuidsAreVersionFour() {
        String uuid = Draws.uuid4(new SplittableRandom(3));
        assertTrue(uuid.matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"), uuid);
    }

    @Test
    void mixedSeedsDependOnEveryCoordinate() {
        long a = Draws.mix(42, 1, 4096, 0);
        assertEquals(a, Draws.mix(42, 1, 4096, 0));
        assertNotEquals(a, Draws.mix(43, 1, 4096, 0));
        assertNotEquals(a, Draws.mix(42, 2, 4096, 0));
        assertNotEquals(a, Draws.mix(42, 1, 8192, 0));
        assertNotEquals(a, Draws.mix(42, 1, 4096, 1));
    }

    @Test
    void betweenIncludesBothEnds() {
        SplittableRandom rng = new SplittableRandom(9);
        boolean low = false;
        boolean high = false;
        for (int i = 0; i < 1000; i++) {
            int v = Draws.between(1, 3, rng);
            assertTrue(v >= 1 && v <= 3);
            low |= v == 1;
            high |= v == 3;
        }
        assertTrue(low && high);
    }
}
