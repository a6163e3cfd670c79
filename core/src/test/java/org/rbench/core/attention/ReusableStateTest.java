package org.rbench.core.attention;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A state closed into its pool comes back for an equal key, told so; the pool frees what is idle when it closes. */
class ReusableStateTest {
    private static final class Counted extends ReusableState {
        int freed;
        int reused;

        @Override
        protected void free() {
            freed++;
        }

        @Override
        protected void reuse() {
            reused++;
        }
    }

    @Test
    void aStateHandedBackIsTakenOverByAnEqualKeyOnly() {
        try (ReusableState.Pool pool = new ReusableState.Pool()) {
            Counted a = pool.take(List.of(Counted.class, 8), Counted.class, Counted::new);
            assertTrue(a.isOpen());
            a.close();
            assertFalse(a.isOpen());
            assertEquals(0, a.freed, "handed back, not freed");
            assertEquals(1, pool.idle());
            Counted again = pool.take(List.of(Counted.class, 8), Counted.class, Counted::new);
            assertSame(a, again);
            assertTrue(again.isOpen());
            assertEquals(1, again.reused);
            assertEquals(0, pool.idle());
            Counted other = pool.take(List.of(Counted.class, 16), Counted.class, Counted::new);
            assertNotSame(a, other, "another key makes its own");
            assertEquals(0, a.freed, "a state out is never freed for another");
            again.close();
            again.close(); // a second close does nothing
            other.close();
            assertEquals(2, pool.idle());
        }
    }

    /**
     * A decode that takes its states in the order the last one did gets the same states, whatever order they were
     * handed back in: PyramidKV hands back each outgrown compact cache mid-decode, and with first in, first out the
     * next decode got other caches, so that it rebuilt every graph naming them.
     */
    @Test
    void takingInTheSameOrderGetsTheSameStatesWhateverOrderTheyCameBackIn() {
        try (ReusableState.Pool pool = new ReusableState.Pool()) {
            Counted a = pool.take("k", Counted.class, Counted::new);
            Counted b = pool.take("k", Counted.class, Counted::new);
            Counted c = pool.take("k", Counted.class, Counted::new);
            b.close();
            c.close();
            a.close();
            assertSame(a, pool.take("k", Counted.class, Counted::new));
            assertSame(b, pool.take("k", Counted.class, Counted::new));
            a.close();
            assertSame(a, pool.take("k", Counted.class, Counted::new), "the oldest idle one, though b came back before it");
            assertSame(c, pool.take("k", Counted.class, Counted::new));
        }
    }

    @Test
    void thePoolFreesIdleStatesWhenItClosesAndLaterClosesFree() {
        Counted idle;
        Counted out;
        try (ReusableState.Pool pool = new ReusableState.Pool()) {
            idle = pool.take("a", Counted.class, Counted::new);
            out = pool.take("a", Counted.class, Counted::new);
            idle.close();
        }
        assertEquals(1, idle.freed);
        assertEquals(0, out.freed);
        out.close();
        assertEquals(1, out.freed, "closed after its pool: freed");
    }

    /** A state holding states of the same pool (H2O's slots hold compact caches). */
    private static final class Holder extends ReusableState {
        final Counted[] held;
        int freed;

        Holder(ReusableState.Pool pool) {
            held = new Counted[] {pool.take("part", Counted.class, Counted::new), pool.take("part", Counted.class, Counted::new)};
        }

        @Override
        protected void free() {
            freed++;
            for (Counted c : held) {
                c.close();
            }
        }
    }

    @Test
    void anIdleStateHoldingPooledStatesFreesThemWhenThePoolCloses() {
        Holder holder;
        ReusableState.Pool pool = new ReusableState.Pool();
        holder = pool.take("holder", Holder.class, () -> new Holder(pool));
        holder.close();
        assertEquals(1, pool.idle(), "the holder keeps its parts while idle");
        assertSame(holder, pool.take("holder", Holder.class, () -> new Holder(pool)));
        holder.close();
        pool.close();
        assertEquals(1, holder.freed);
        for (Counted c : holder.held) {
            assertEquals(1, c.freed, "freed, not handed back to the closed pool");
        }
        assertEquals(0, pool.idle());
    }

    /** A state of which a policy takes several shapes at once, as compact caches. */
    private static final class Many extends ReusableState {
        int freed;

        @Override
        protected void free() {
            freed++;
        }

        @Override
        protected boolean oneShapeIdle() {
            return false;
        }
    }

    @Test
    void makingAStateFreesTheIdleOnesOfItsClassAndAnotherShape() {
        try (ReusableState.Pool pool = new ReusableState.Pool()) {
            Counted page16 = pool.take(List.of(Counted.class, 16), Counted.class, Counted::new);
            Many small = pool.take(List.of(Many.class, 4), Many.class, Many::new);
            page16.close();
            small.close();
            Counted page32 = pool.take(List.of(Counted.class, 32), Counted.class, Counted::new);
            assertEquals(1, page16.freed, "a sweep over shapes keeps one idle state of the class");
            Many large = pool.take(List.of(Many.class, 8), Many.class, Many::new);
            assertEquals(0, small.freed, "a class that asks keeps every shape idle");
            page32.close();
            assertSame(page32, pool.take(List.of(Counted.class, 32), Counted.class, Counted::new), "its own shape is reused");
            assertEquals(0, page32.freed);
            page32.close();
            large.close();
            assertEquals(3, pool.idle());
        }
    }

    @Test
    void aKeyHoldingAnotherClassIsRefusedAndKeepsItsState() {
        try (ReusableState.Pool pool = new ReusableState.Pool()) {
            pool.take("k", Counted.class, Counted::new).close();
            assertThrows(IllegalArgumentException.class, () -> pool.take("k", Holder.class, () -> new Holder(pool)));
            assertEquals(1, pool.idle());
        }
    }

    @Test
    void aStateFromNoPoolIsFreedWhenClosedAndAPoolTakesOnlyFreshOnes() {
        Counted alone = new Counted();
        alone.close();
        assertEquals(1, alone.freed);
        try (ReusableState.Pool pool = new ReusableState.Pool()) {
            Counted taken = pool.take("k", Counted.class, Counted::new);
            assertThrows(IllegalStateException.class, () -> pool.take("j", Counted.class, () -> taken),
                    "a state already in a pool is not made anew");
            taken.close();
        }
        ReusableState.Pool closed = new ReusableState.Pool();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.take("k", Counted.class, Counted::new));
    }
}
