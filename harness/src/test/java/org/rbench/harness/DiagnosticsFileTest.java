package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.harness.results.DiagnosticsFile;
import org.rbench.harness.results.ResultColumns;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.results.ResultsMerge;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-step detail file beside a results CSV: resume keeps only completed units; merge follows the kept rows. */
class DiagnosticsFileTest {
    @TempDir
    Path dir;

    private static Map<String, String> result(int sample) {
        return Map.of("kind", "ruler", "model_sha256", "abc", "method", "recycled:k=8,s=4", "seed", "42", "task", "vt",
                "length", "1024", "sample_index", Integer.toString(sample), "score", "100.0");
    }

    /** {@code steps} x 2 layers of detail rows of one sample. */
    private static List<Map<String, String>> details(int sample, int steps, String coverage) {
        List<Map<String, String>> rows = new ArrayList<>();
        for (int step = 0; step < steps; step++) {
            for (int layer = 0; layer < 2; layer++) {
                Map<String, String> row = new LinkedHashMap<>();
                for (String c : DiagnosticsFile.COLUMNS) {
                    row.put(c, "0");
                }
                row.putAll(Map.of("model_file", "m.gguf", "model_sha256", "abc", "method", "recycled:k=8,s=4", "seed", "42",
                        "task", "vt", "length", "1024", "sample_index", Integer.toString(sample), "step", Integer.toString(step),
                        "layer", Integer.toString(layer)));
                row.put("answer_coverage", coverage);
                rows.add(row);
            }
        }
        return rows;
    }

    @Test
    void theDetailFileSitsBesideTheResults() {
        assertEquals(dir.resolve("sweep.diagnostics.csv"), DiagnosticsFile.besides(dir.resolve("sweep.csv")));
        assertEquals(dir.resolve("r.shard-0-of-2.diagnostics.csv"), DiagnosticsFile.besides(dir.resolve("r.shard-0-of-2.csv")));
        assertEquals(dir.resolve("out.diagnostics.csv"), DiagnosticsFile.besides(dir.resolve("out")));
    }

    @Test
    void resumingDropsTheRowsOfUnitsWithoutAResultsRow() throws Exception {
        Path results = dir.resolve("r.csv");
        Path detail = DiagnosticsFile.besides(results);
        try (ResultsFile r = ResultsFile.open(results); DiagnosticsFile d = DiagnosticsFile.open(detail, k -> true)) {
            d.append(details(0, 3, "0.5"));
            r.append(result(0));
            d.append(details(1, 2, "0.25")); // killed before sample 1's results row
        }
        Files.writeString(detail, "\"abc\",torn", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        try (ResultsFile r = ResultsFile.open(results);
             DiagnosticsFile d = DiagnosticsFile.open(detail, row -> r.isDone(DiagnosticsFile.resultsKey(row)))) {
            List<Map<String, String>> kept = DiagnosticsFile.read(detail);
            assertEquals(6, kept.size(), "sample 0's 3 steps x 2 layers");
            assertTrue(kept.stream().allMatch(row -> row.get("sample_index").equals("0")));
            d.append(details(1, 2, "0.25"));
            r.append(result(1));
        }
        assertEquals(10, DiagnosticsFile.read(detail).size());
        assertFalse(Files.readString(detail).contains("torn"));
    }

    @Test
    void refusesAFileWithOtherColumnsAndIncompleteRows() throws Exception {
        Path other = dir.resolve("o.diagnostics.csv");
        Files.writeString(other, "a,b\n1,2\n");
        assertThrows(java.io.IOException.class, () -> DiagnosticsFile.open(other, k -> true));
        assertEquals("a,b\n1,2\n", Files.readString(other));
        try (DiagnosticsFile d = DiagnosticsFile.open(dir.resolve("x.diagnostics.csv"), k -> true)) {
            Map<String, String> partial = new LinkedHashMap<>(details(0, 1, "1").getFirst());
            partial.remove("layer");
            assertThrows(IllegalArgumentException.class, () -> d.append(List.of(partial)));
        }
    }

    @Test
    void mergeKeepsTheDetailRowsOfTheKeptResultsRows() throws Exception {
        Path a = dir.resolve("a.csv"), b = dir.resolve("b.csv"), out = dir.resolve("m.csv");
        try (ResultsFile r = ResultsFile.open(a); DiagnosticsFile d = DiagnosticsFile.open(DiagnosticsFile.besides(a), k -> true)) {
            d.append(details(0, 2, "0.5"));
            r.append(result(0));
            d.append(details(2, 1, "0.5"));
            r.append(result(2));
        }
        try (ResultsFile r = ResultsFile.open(b); DiagnosticsFile d = DiagnosticsFile.open(DiagnosticsFile.besides(b), k -> true)) {
            d.append(details(1, 1, "0.75"));
            r.append(result(1));
            d.append(details(2, 3, "0.75")); // a re-run of sample 2: a's row is kept, so a's details are
            r.append(result(2));
        }
        ResultsMerge.Summary s = ResultsMerge.merge(List.of(a, b), out);
        assertEquals(new ResultsMerge.Summary(2, 3, 1, 4 + 2 + 2, List.of()), s);
        List<Map<String, String>> merged = DiagnosticsFile.read(DiagnosticsFile.besides(out));
        assertEquals(8, merged.size());
        assertTrue(merged.stream().filter(row -> row.get("sample_index").equals("2"))
                .allMatch(row -> row.get("answer_coverage").equals("0.5")), "sample 2 from a, as its results row");
    }

    @Test
    void mergeReadsResultsAnOlderVersionWrote() throws Exception {
        List<String> older = ResultColumns.ALL.subList(0, ResultColumns.ALL.indexOf("device_mem_used_mb") + 1);
        Path a = dir.resolve("old.csv"), out = dir.resolve("m2.csv");
        Files.writeString(a, String.join(",", older) + "\n");
        try (ResultsFile r = ResultsFile.open(a)) {
            r.append(result(0));
        }
        assertEquals(new ResultsMerge.Summary(1, 1, 0, 0, List.of()), ResultsMerge.merge(List.of(a), out));
        assertEquals(ResultColumns.ALL, List.of(Files.readAllLines(out).getFirst().split(",")));
    }
}
