package org.rbench.harness;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepAnatomyTest {
    /** 50 steps of {@code base} ms, a little noise, the first {@code first} ms more and every 16th from 8 {@code every} more. */
    private static long[] steps(double base, double first, double every) {
        long[] out = new long[50];
        for (int i = 0; i < out.length; i++) {
            double ms = base + (i % 3 - 1) * 0.002 + (i == 0 ? first : 0) + (i % 16 == 8 ? every : 0);
            out[i] = Math.round(ms * 1e6);
        }
        return out;
    }

    @Test
    void aMethodsFirstStepsAndPeriodicStepsAreToldFromTheRest() {
        StepAnatomy anatomy = new StepAnatomy();
        for (int r = 0; r < 3; r++) {
            anatomy.add(131000, "full", steps(12.0, 0.1, 0));
            anatomy.add(131000, "quest:k=4096", steps(5.88, 1.4, 0.38));
        }
        List<StepAnatomy.Line> lines = anatomy.lines();
        assertEquals(2, lines.size());
        StepAnatomy.Line full = lines.get(0);
        assertEquals("full", full.method());
        assertEquals(0, full.slowSteps(), "full attention's steps are even");
        assertEquals(147, full.laterSteps());
        StepAnatomy.Line quest = lines.get(1);
        assertEquals(3, quest.repetitions());
        assertEquals(5.88, quest.medianMs(), 0.003);
        assertEquals(1.4, quest.firstExcessMs(), 0.003);
        assertEquals(9, quest.slowSteps(), "steps 8, 24 and 40 of each repetition");
        assertEquals(0.38, quest.slowExcessMs(), 0.003);
        assertEquals(3 * 1.4 / 150, quest.firstShareMs(), 1e-3);
        assertEquals(9 * 0.38 / 150, quest.slowShareMs(), 1e-3);
        assertEquals(0, quest.restShareMs(), 1e-3, "the first and the slow steps are the whole of the mean's excess");
        assertEquals(quest.medianMs() + quest.firstShareMs() + quest.slowShareMs() + quest.restShareMs(), quest.meanMs(), 1e-12);
    }

    /** On a noisy machine steps spread widely: the spread is not read as slow steps. */
    @Test
    void theNoiseOfASharedMachineIsNotASlowStep() {
        StepAnatomy anatomy = new StepAnatomy();
        long[] noisy = new long[40];
        for (int i = 0; i < noisy.length; i++) {
            noisy[i] = Math.round((100 + (i % 5 - 2) * 5) * 1e6); // 90 to 110 ms
        }
        anatomy.add(16384, "full", noisy);
        StepAnatomy.Line l = anatomy.lines().getFirst();
        assertEquals(0, l.slowSteps());
        assertTrue(Double.isNaN(l.slowExcessMs()));
    }

    @Test
    void theTablePrintsEveryMethodUnderItsHeaders() {
        StepAnatomy anatomy = new StepAnatomy();
        anatomy.add(8192, "full", steps(4.8, 0.1, 0));
        String longSpec = "recycled:k=4096,s=50,start=device,writes=direct";
        anatomy.add(8192, longSpec, steps(4.52, 0.2, 10));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        anatomy.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> rows = bytes.toString(StandardCharsets.UTF_8).lines()
                .filter(line -> line.startsWith("8192") || line.startsWith("context")).toList();
        assertEquals(3, rows.size(), rows.toString());
        int end = rows.getFirst().length();
        for (String row : rows) {
            assertEquals(end, row.length(), "the last column ends under its header: " + rows);
        }
        assertTrue(rows.get(2).contains("3 of 49, +10.00"), rows.get(2));
    }

    /** Wide cells (many slow steps, a large excess) widen their columns: the rows stay aligned. */
    @Test
    void wideCellsKeepTheColumnsInLine() {
        StepAnatomy anatomy = new StepAnatomy();
        long[] many = new long[200];
        for (int i = 0; i < many.length; i++) {
            many[i] = Math.round((i % 2 == 0 ? 100 : 1300) * 1e6); // every other step 1.2 s slower
        }
        anatomy.add(131000, "full", steps(12.0, 0.1, 0));
        anatomy.add(131000, "h2o:k=4096", many);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        anatomy.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> rows = bytes.toString(StandardCharsets.UTF_8).lines()
                .filter(line -> line.startsWith("131000") || line.startsWith("context")).toList();
        assertEquals(3, rows.size(), rows.toString());
        for (String row : rows) {
            assertEquals(rows.getFirst().length(), row.length(), "every row as long as the header: " + rows);
        }
    }

    @Test
    void aRepetitionWithoutStepsIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new StepAnatomy().add(8192, "full", new long[0]));
    }
}
