package org.rbench.core.reference;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** llama.cpp's prompt truncation and context shift on hand-made token sequences. */
class ContextShiftTest {
    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    private static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }

    @Test
    void aPromptShorterThanTheContextIsKept() {
        ContextShift s = new ContextShift(16, 4);
        assertArrayEquals(range(0, 15), s.truncatePrompt(range(0, 15)));
        assertEquals(0, s.erasedTokens(15));
    }

    /** n_keep = 4, n_left = 12, block = 6: whole blocks of 6 go, as many as leave fewer than 16 tokens. */
    @Test
    void aLongPromptLosesWholeBlocksAfterTheKeptTokens() {
        ContextShift s = new ContextShift(16, 4);
        // 16 tokens: (16 - 4 - 6) / 6 = 1 block
        assertArrayEquals(concat(range(0, 4), range(10, 16)), s.truncatePrompt(range(0, 16)));
        // 20 tokens: (20 - 4 - 6) / 6 = 1 block
        assertArrayEquals(concat(range(0, 4), range(10, 20)), s.truncatePrompt(range(0, 20)));
        // 22 tokens: (22 - 4 - 6) / 6 = 2 blocks
        assertArrayEquals(concat(range(0, 4), range(16, 22)), s.truncatePrompt(range(0, 22)));
        // 40 tokens: (40 - 4 - 6) / 6 = 5 blocks
        assertArrayEquals(concat(range(0, 4), range(34, 40)), s.truncatePrompt(range(0, 40)));
        for (int n = 16; n < 200; n++) {
            int length = s.truncatePrompt(range(0, n)).length;
            assertTrue(length < 16 && length >= 4 + 6, n + " tokens truncated to " + length);
        }
    }

    @Test
    void keptTokensAreClampedToTheContextLessFour() {
        ContextShift s = new ContextShift(8, 10);
        assertEquals(4, s.kept());
        // n_left = 4, block = 2, (11 - 4 - 2) / 2 = 2 blocks
        assertArrayEquals(concat(range(0, 4), range(8, 11)), s.truncatePrompt(range(0, 11)));
        ContextShift none = new ContextShift(10, 0);
        // n_left = 10, block = 5, (25 - 0 - 5) / 5 = 4 blocks: the last 5 tokens are left
        assertArrayEquals(range(20, 25), none.truncatePrompt(range(0, 25)));
    }

    @Test
    void theContextShiftsWhenTheNextTokenWouldFillIt() {
        ContextShift s = new ContextShift(16, 4);
        assertFalse(s.needsShift(14));
        assertTrue(s.needsShift(15));
        assertEquals(5, s.discard(15)); // (15 - 4) / 2
        assertArrayEquals(concat(range(0, 4), range(9, 15)), s.shifted(range(0, 15)));
        assertEquals(0, s.discard(5), "one token after the kept ones: nothing is discarded (n_left - 1 = 0)");
        assertEquals(1, s.discard(6));
        assertEquals(0, s.discard(2), "fewer tokens than kept");
    }

    /** The server's token list through a whole generation: never more than n_ctx - 1 tokens, the kept prefix intact. */
    @Test
    void aLongGenerationKeepsItsPrefixAndItsNewestTokens() {
        ContextShift s = new ContextShift(16, 4);
        int[] prompt = range(100, 130);
        List<Integer> held = new ArrayList<>();
        for (int t : s.truncatePrompt(prompt)) {
            held.add(t);
        }
        int shifts = 0;
        for (int g = 0; g < 40; g++) {
            if (s.needsShift(held.size())) {
                int[] now = held.stream().mapToInt(Integer::intValue).toArray();
                held.clear();
                for (int t : s.shifted(now)) {
                    held.add(t);
                }
                shifts++;
            }
            held.add(200 + g);
            assertTrue(held.size() <= 15, "at most n_ctx - 1 tokens: " + held.size());
        }
        assertTrue(shifts >= 5, "shifts: " + shifts);
        assertEquals(List.of(100, 101, 102, 103), held.subList(0, 4));
        assertEquals(239, held.getLast());
        assertEquals(238, held.get(held.size() - 2));
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ContextShift(4, 0));
        assertThrows(IllegalArgumentException.class, () -> new ContextShift(16, -1));
    }
}
