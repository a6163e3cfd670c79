package org.rbench.core.parity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * rbench parity --against-cpu, run here with the CPU on both sides: a method that selects agrees
 * with itself in every row read, pick and logit, and the check notices when the two sides read
 * other rows (a budget the other side does not share).
 */
class BackendCheckTest {
    @TempDir
    static Path dir;

    private static Path model() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        if (!java.nio.file.Files.exists(model)) {
            RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32), model);
        }
        return model;
    }

    @Test
    void aSelectingMethodAgreesWithItselfOnTheCpu() throws Exception {
        BackendCheck.Report r = BackendCheck.run(ParityRequest.exact(model()).withTokens(96, 12), "recycled:k=32,s=4");
        assertEquals(12, r.steps());
        assertEquals(r.selections(), r.selectionAgreements(), r.summary());
        assertTrue(r.selections() > 0, r.summary());
        assertEquals(0, r.unknown(), r.summary());
        assertEquals(12, r.sameRowSteps(), r.summary());
        assertEquals(12, r.sameRowPicks(), r.summary());
        assertEquals(12, r.pickAgreements(), r.summary());
        assertEquals(0, r.maxRelative(), r.summary());
        assertTrue(r.passes(1e-4), r.summary());
        assertEquals(0, r.apart().length, r.summary());
    }

    /** A check that compared nothing, or nothing at the same rows, or missed a pick there, does not pass. */
    @Test
    void passingNeedsSomethingComparedAndEveryPickWhereTheRowsAgree() {
        assertFalse(new BackendCheck.Report("m", "d", "x", 0, 0, 0, 0, 0, 0, 0, 0, new int[0]).passes(1), "nothing selected");
        assertFalse(new BackendCheck.Report("m", "d", "x", 32, 1000, 996, 0, 0, 0, 30, 0, new int[0]).passes(1), "no step read the same rows");
        assertFalse(new BackendCheck.Report("m", "d", "x", 32, 1000, 996, 0, 20, 19, 31, 0, new int[0]).passes(1), "a pick at a same-row step");
        assertFalse(new BackendCheck.Report("m", "d", "x", 32, 1000, 1000, 4, 32, 32, 32, 0, new int[0]).passes(1), "rows not known");
        assertTrue(new BackendCheck.Report("m", "d", "x", 32, 1000, 996, 0, 20, 20, 29, 0, new int[0]).passes(1), "near-ties parted elsewhere");
        assertFalse(new BackendCheck.Report("m", "d", "x", 32, 1000, 980, 0, 20, 20, 29, 0, new int[0]).passes(1), "98% of the selections");
    }

    @Test
    void otherRowsReadAreCountedAndFail() throws Exception {
        BackendCheck.Report r = BackendCheck.run(ParityRequest.exact(model()).withTokens(96, 12), "recycled:k=32,s=4",
                "recycled:k=48,s=4");
        assertTrue(r.selectionAgreements() < r.selections(), r.summary());
        assertTrue(r.sameRowSteps() < 12, r.summary());
        assertFalse(r.passes(1e-4), r.summary());
        // 48 rows against 32: every parted selection by 16 rows or more, and the report says so
        assertEquals(r.selections() - r.selectionAgreements(), r.apart().length, r.summary());
        assertTrue(r.mostRowsApart() >= 16 && r.medianRowsApart() >= 16, r.summary());
        assertTrue(r.summary().contains("by " + r.mostRowsApart() + " rows at most"), r.summary());
    }

    /** Rows one side read and the other did not, the larger count: a near-tie swaps one. */
    @Test
    void rowsApartCountsTheRowsOnlyOneSideRead() {
        assertEquals(0, BackendCheck.rowsApart(new int[] {1, 5, 9}, new int[] {1, 5, 9}));
        assertEquals(1, BackendCheck.rowsApart(new int[] {1, 5, 9}, new int[] {1, 6, 9}));
        assertEquals(3, BackendCheck.rowsApart(new int[] {1, 2, 3}, new int[] {4, 5, 6}));
        assertEquals(2, BackendCheck.rowsApart(new int[] {1, 2}, new int[] {1, 2, 7, 8}));
        BackendCheck.Report r = new BackendCheck.Report("m", "d", "x", 4, 10, 6, 0, 1, 1, 4, 0, new int[] {3, -1, 1, 1});
        assertEquals(1, r.apartByWholeCache());
        assertEquals(3, r.mostRowsApart());
        assertEquals(1, r.medianRowsApart());
        assertTrue(r.summary().endsWith("; the 3 that parted, by 3 rows at most (median 1); 1 read the whole cache on one side only"),
                r.summary());
    }
}
