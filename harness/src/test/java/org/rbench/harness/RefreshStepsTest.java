package org.rbench.harness;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.rbench.harness.StepNanos.ms;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RefreshStepsTest {
    @Test
    void refreshStepsAreToldFromSparseStepsAndSetAgainstFullAttentionsStep() {
        RefreshSteps steps = new RefreshSteps("full");
        steps.add(8192, "full", ms(3, 2, 2, 4), new int[] {4, 4, 4, 4});
        steps.add(8192, "recycled:k=256,s=4", ms(1, 1, 1, 5, 1, 1, 1, 7), new int[] {0, 0, 0, 4, 0, 0, 0, 4});
        steps.add(8192, "recycled:k=256,s=4", ms(1, 1, 2, 6), new int[] {0, 0, 0, 2});
        steps.add(8192, "streamingllm:k=256", ms(1, 1), new int[] {0, 0}); // never refreshes: no line
        List<RefreshSteps.Line> lines = steps.lines();
        assertEquals(1, lines.size());
        RefreshSteps.Line l = lines.getFirst();
        assertEquals("recycled:k=256,s=4", l.method());
        assertEquals(3, l.refreshSteps());
        assertEquals(6.0, l.refreshMs(), 1e-9);   // median of 5, 7, 6
        assertEquals(1.0, l.sparseMs(), 1e-9);    // median of nine steps, eight of them 1 ms
        assertEquals(2.5, l.fullMs(), 1e-9);      // median of full's 3, 2, 2, 4
        assertEquals(2.4, l.refreshOverFull(), 1e-9);

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        steps.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("recycled:k=256,s=4") && text.contains("2.40x"), text);
    }

    /** The note beside the refresh table names as many sorts as the backend's promises leave: 3, 2 or 1. */
    @Test
    void theTiesNoteCountsTheSortsTheBackendsPromisesLeave() {
        java.util.OptionalInt none = java.util.OptionalInt.empty();
        String three = RefreshSteps.tiesNote(none, none);
        String two = RefreshSteps.tiesNote(java.util.OptionalInt.of(1025), none);
        String one = RefreshSteps.tiesNote(java.util.OptionalInt.of(1025), java.util.OptionalInt.of(2049));
        assertTrue(three.contains("by three sorts"), three);
        assertTrue(two.contains("by two sorts where a row's candidates (K and the pooling window's) reach 1,025")
                && two.contains("by three below"), two);
        assertTrue(one.contains("by one stable sort where K reaches 1,025 and the context 2,049 rows"), one);
        // a top_k in column order alone does not make the argsort stable: still three
        assertEquals(three, RefreshSteps.tiesNote(none, java.util.OptionalInt.of(1025)));
    }

    /** A method spec longer than the column widens it: the columns after it stay under their headers. */
    @Test
    void aLongMethodSpecKeepsTheColumnsInLine() {
        RefreshSteps steps = new RefreshSteps("full");
        steps.add(8192, "full", ms(3, 3), new int[] {4, 4});
        String longSpec = "recycled:k=4096,s=50,start=device,writes=direct";
        steps.add(8192, longSpec, ms(1, 5), new int[] {0, 4});
        steps.add(8192, "recycled:k=256,s=4", ms(1, 5), new int[] {0, 4});
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        steps.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> rows = text(bytes).lines().filter(line -> line.startsWith("8192") || line.startsWith("context")).toList();
        assertEquals(3, rows.size(), rows.toString());
        int column = rows.getFirst().indexOf("refresh/full") + "refresh/full".length();
        for (String row : rows) {
            assertEquals(column, row.length(), "the last column ends under its header: " + rows);
        }
    }

    private static String text(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withoutFullAttentionTheRatioIsUnknown() {
        RefreshSteps steps = new RefreshSteps("full");
        steps.add(2048, "recycled:k=256,s=2", ms(1, 5), new int[] {0, 4});
        RefreshSteps.Line l = steps.lines().getFirst();
        assertTrue(Double.isNaN(l.fullMs()) && Double.isNaN(l.refreshOverFull()));
    }
}
