package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.harness.results.ResultsFile;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultsFileTest {
    @TempDir
    Path dir;

    private static Map<String, String> row(int i) {
        return Map.of("kind", "ruler", "method", "full", "task", "niah_single_1", "length", "4096",
                "sample_index", Integer.toString(i), "prediction", "line one\nline \"two\", with comma", "score", "100.0");
    }

    @Test
    void resumesAfterATornWriteWithNoRowLostOrRepeated() throws Exception {
        Path f = dir.resolve("r.csv");
        try (ResultsFile r = ResultsFile.open(f)) {
            r.append(row(0));
            r.append(row(1));
        }
        // A run killed mid-write leaves part of a row behind.
        // A run killed mid-write leaves part of a row behind, here cut inside a quoted newline.
        Files.writeString(f, "x,y,\"partial\nline", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        try (ResultsFile r = ResultsFile.open(f)) {
            assertEquals(2, r.completedRows());
            assertTrue(r.isDone(row(1)));
            assertFalse(r.isDone(row(2)));
            r.append(row(2));
        }
        List<String> lines = Files.readAllLines(f);
        assertEquals(1 + 3 * 2, lines.size(), "header + 3 rows of 2 physical lines each");
        assertFalse(Files.readString(f).contains("partial"));
    }

    @Test
    void refusesAFileWithOtherColumns() throws Exception {
        Path f = dir.resolve("other.csv");
        Files.writeString(f, "a,b\n1,2\n");
        assertThrows(java.io.IOException.class, () -> ResultsFile.open(f));
        assertEquals("a,b\n1,2\n", Files.readString(f), "the existing file is left untouched");
    }

    @Test
    void resumesAFileAnOlderVersionWroteWithItsOwnColumns() throws Exception {
        // An older schema is a prefix: columns are only ever added at the end.
        java.util.List<String> older = org.rbench.harness.results.ResultColumns.ALL.subList(0,
                org.rbench.harness.results.ResultColumns.ALL.size() - 1);
        Path f = dir.resolve("old.csv");
        Files.writeString(f, String.join(",", older) + "\n");
        try (ResultsFile r = ResultsFile.open(f)) {
            r.append(Map.of("kind", "latency", "method", "full", "length", "8",
                    org.rbench.harness.results.ResultColumns.ALL.getLast(), "1.0"));
        }
        java.util.List<String> lines = Files.readAllLines(f);
        assertEquals(2, lines.size());
        assertEquals(older.size(), lines.get(1).split(",", -1).length, "the row keeps the file's columns");
        try (ResultsFile r = ResultsFile.open(f)) {
            assertEquals(1, r.completedRows());
        }
    }

    @Test
    void aSecondWriterOfTheSameFileIsRefusedAndChangesNothing() throws Exception {
        Path f = dir.resolve("busy.csv");
        try (ResultsFile first = ResultsFile.open(f)) {
            first.append(row(0));
            String before = Files.readString(f);
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> ResultsFile.open(f));
            assertTrue(e.getMessage().contains("another") && e.getMessage().contains(f.toString()), e.getMessage());
            assertEquals(before, Files.readString(f), "the refused open leaves the file as it was");
            first.append(row(1));
        }
        try (ResultsFile again = ResultsFile.open(f)) {
            assertEquals(2, again.completedRows(), "the lock goes with the first writer's close");
        }
    }

    @Test
    void anAbandonedFileThatThisOpenCreatedWithNoRowIsRemoved() throws Exception {
        Path f = dir.resolve("new.csv");
        ResultsFile r = ResultsFile.open(f);
        r.abandon();
        assertFalse(Files.exists(f), "a failed run leaves no header-only CSV behind");
    }

    @Test
    void anAbandonedFileIsKeptWhenItExistedOrGotRows() throws Exception {
        Path existing = dir.resolve("existing.csv");
        try (ResultsFile r = ResultsFile.open(existing)) {
            // header only: it existed before the next open, so it is the user's
        }
        String header = Files.readString(existing);
        ResultsFile again = ResultsFile.open(existing);
        again.abandon();
        assertEquals(header, Files.readString(existing));

        Path written = dir.resolve("written.csv");
        ResultsFile w = ResultsFile.open(written);
        w.append(row(0));
        w.abandon();
        assertEquals(2 + 1, Files.readAllLines(written).size(), "header + one row of 2 lines");
    }

    @Test
    void aFileThatIsNotUtf8TextIsNamedNotMisread() throws Exception {
        Path f = dir.resolve("binary.csv");
        byte[] garbage = {'r', 'u', 'n', (byte) 0xC3, (byte) 0x28, '\n'};
        Files.write(f, garbage);
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> ResultsFile.open(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("UTF-8"), e.getMessage());
        assertEquals(6, Files.size(f));
    }

    @Test
    void rejectsUnknownColumns() throws Exception {
        try (ResultsFile r = ResultsFile.open(dir.resolve("u.csv"))) {
            assertThrows(IllegalArgumentException.class, () -> r.append(Map.of("bogus", "1")));
        }
    }
}
