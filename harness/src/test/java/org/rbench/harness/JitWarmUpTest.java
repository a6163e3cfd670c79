package org.rbench.harness;

import org.junit.jupiter.api.Test;

import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JitWarmUpTest {
    /** Rounds of 100 ms each; the compiler's accumulated ms read at every round's start and end. */
    private static int roundsRun(int least, List<Long> compiledAtEachRead) {
        Iterator<Long> compiled = compiledAtEachRead.iterator();
        long[] now = {0};
        JitWarmUp w = new JitWarmUp(least, () -> compiled.hasNext() ? compiled.next() : -1, () -> now[0]);
        if (!w.wanted()) {
            return 0;
        }
        do {
            w.startRound();
            now[0] += 100_000_000L;
        } while (w.another());
        return w.rounds();
    }

    @Test
    void warmsUpUntilTheCompilerIsQuiet() {
        // 40, 30, 10 ms of compiling in 100 ms rounds, then 2: quiet (under 5%) in the fourth
        assertEquals(4, roundsRun(1, List.of(0L, 40L, 40L, 70L, 70L, 80L, 80L, 82L)));
    }

    @Test
    void runsAtLeastTheRoundsAskedForEvenWhenQuiet() {
        assertEquals(3, roundsRun(3, List.of(5L, 5L, 5L, 5L, 5L, 5L)));
        assertEquals(1, roundsRun(1, List.of(5L, 6L)));
    }

    /** Compiler threads' times add up: two compiling through a whole round count twice its wall time. */
    @Test
    void theShareSumsTheCompilerThreads() {
        long[] now = {0};
        long[] compiled = {0};
        JitWarmUp w = new JitWarmUp(1, () -> compiled[0], () -> now[0]);
        w.startRound();
        now[0] += 100_000_000L;
        compiled[0] += 200;
        assertTrue(w.another(), "a busy compiler wants another round");
        assertEquals(2.0, w.lastShare(), 1e-9);
    }

    @Test
    void noRoundsMeansAColdStart() {
        assertEquals(0, roundsRun(0, List.of()));
    }

    @Test
    void aCompilerThatNeverSettlesStopsAtTheCap() {
        Long[] busy = new Long[2 * JitWarmUp.MOST_ROUNDS + 2];
        for (int i = 0; i < busy.length; i++) {
            busy[i] = (long) (i / 2) * 50 + (i % 2) * 50; // 50 ms compiled in every 100 ms round
        }
        assertEquals(JitWarmUp.MOST_ROUNDS, roundsRun(1, List.of(busy)));
    }

    @Test
    void longRoundsStopAtTheTimeCapWhileTheCompilerIsBusy() {
        long[] now = {0};
        long[] compiled = {0};
        JitWarmUp w = new JitWarmUp(1, () -> compiled[0], () -> now[0]);
        int rounds = 0;
        boolean again;
        do {
            w.startRound();
            now[0] += 12_000_000_000L; // 12 s a round, half of it compiling
            compiled[0] += 6_000;
            rounds++;
            again = w.another();
        } while (again);
        assertEquals(3, rounds, "the third round ends past 30 s");
    }

    @Test
    void aJvmThatDoesNotTellRunsTheRoundsAskedFor() {
        long[] now = {0};
        JitWarmUp w = new JitWarmUp(2, () -> -1, () -> now[0]);
        w.startRound();
        now[0] += 1_000_000;
        assertTrue(w.another());
        w.startRound();
        assertFalse(w.another());
        assertTrue(Double.isNaN(w.lastShare()));
        assertThrows(IllegalArgumentException.class, () -> new JitWarmUp(-1, () -> 0, () -> 0));
    }
}
