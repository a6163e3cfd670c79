package org.rbench.core.recycled;

import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A refresh orders Cp's ties with the fewest sorts the backend's guarantees allow for the step's lengths: its sort's
 * stability for the rows it sorts, its top_k's column order for the rows it selects from.
 */
class TieOrderChoiceTest {
    private static final OptionalInt NONE = OptionalInt.empty();
    private static final OptionalInt FROM_1025 = OptionalInt.of(1025);

    private static TopRowsSelection.TieOrder choice(OptionalInt stable, OptionalInt columnOrder, long rows, int candidates,
                                                    int onDevice) {
        return RefreshPlan.Selection.tieOrder(stable, columnOrder, rows, candidates, onDevice);
    }

    @Test
    void withoutGuaranteesThreeSorts() {
        assertEquals(TopRowsSelection.TieOrder.THREE_SORTS, choice(NONE, NONE, 131_072, 4103, 4096));
        assertEquals(TopRowsSelection.TieOrder.THREE_SORTS, choice(NONE, FROM_1025, 131_072, 4103, 4096),
                "top_k in column order needs a stable sort to keep it");
    }

    @Test
    void aStableSortOfTheCandidatesTwo() {
        assertEquals(TopRowsSelection.TieOrder.TWO_STABLE_SORTS, choice(FROM_1025, NONE, 131_072, 4103, 4096));
        assertEquals(TopRowsSelection.TieOrder.THREE_SORTS, choice(FROM_1025, NONE, 131_072, 71, 64),
                "rows of 71 candidates are sorted by a sort that is not stable");
    }

    @Test
    void topKInColumnOrderAndAStableSortOfCpsRowsOne() {
        assertEquals(TopRowsSelection.TieOrder.ONE_STABLE_SORT, choice(FROM_1025, FROM_1025, 131_072, 4103, 4096));
        assertEquals(TopRowsSelection.TieOrder.TWO_STABLE_SORTS, choice(FROM_1025, FROM_1025, 131_072, 1031, 1024),
                "Cp's 1,024 rows alone are sorted by the sort that is not stable; its 1,031 candidates by the stable one");
        assertEquals(TopRowsSelection.TieOrder.TWO_STABLE_SORTS, choice(FROM_1025, OptionalInt.of(200_000), 131_072, 4103, 4096),
                "rows shorter than top_k's column order covers");
    }
}
