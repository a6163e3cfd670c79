package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.core.engine.OpProfiler.Cost;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpProfileReportTest {
    private static Cost ms(String op, String name, double ms, int nodes) {
        return new Cost(op, name, Math.round(ms * 1e6), nodes);
    }

    @Test
    void eachKindOfStepGetsItsOwnMediansAndShares() {
        List<List<Cost>> steps = List.of(
                List.of(ms("MUL_MAT", "w", 1.0, 2), ms("FLASH_ATTN_EXT", "a", 0.2, 1)),
                List.of(ms("MUL_MAT", "w", 1.0, 2), ms("FLASH_ATTN_EXT", "a", 2.0, 1), ms("ARGSORT", "s", 1.0, 1)),
                List.of(ms("MUL_MAT", "w", 3.0, 2), ms("FLASH_ATTN_EXT", "a", 0.4, 1)),
                List.of(ms("MUL_MAT", "w", 2.0, 2), ms("FLASH_ATTN_EXT", "a", 0.3, 1)));
        List<OpProfileReport.Line> lines = OpProfileReport.summarize(8192, "recycled:k=4,s=2", steps, new int[] {0, 4, 0, 0});
        List<OpProfileReport.Line> sparse = lines.stream().filter(l -> l.kind().equals("sparse")).toList();
        List<OpProfileReport.Line> whole = lines.stream().filter(l -> l.kind().equals("whole-cache")).toList();
        assertEquals(2, sparse.size());
        assertEquals("MUL_MAT", sparse.getFirst().op(), "by descending time");
        assertEquals(2.0, sparse.getFirst().msPerStep(), 1e-9, "median of 1, 3, 2");
        assertEquals(0.3, sparse.get(1).msPerStep(), 1e-9);
        assertEquals(2.0 / 2.3, sparse.getFirst().share(), 1e-9, "of the median step, 2.3 ms");
        assertEquals(3, sparse.getFirst().steps());
        assertEquals(2, sparse.getFirst().nodes());
        assertEquals(List.of("FLASH_ATTN_EXT", "MUL_MAT", "ARGSORT"), whole.stream().map(OpProfileReport.Line::op).toList());
        assertEquals(1.0 / 4.0, whole.get(2).share(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> OpProfileReport.summarize(1, "m", steps, new int[3]));
    }

    @Test
    void anOpAbsentFromSomeStepsCountsZeroThere() {
        List<List<Cost>> steps = List.of(List.of(ms("ADD", "x", 1.0, 1)), List.of(ms("ADD", "x", 1.0, 1)),
                List.of(ms("ADD", "x", 1.0, 1), ms("CPY", "y", 5.0, 1)));
        List<OpProfileReport.Line> lines = OpProfileReport.summarize(64, "full", steps, new int[] {1, 1, 1});
        assertEquals(0.0, lines.stream().filter(l -> l.op().equals("CPY")).findFirst().orElseThrow().msPerStep(), 1e-9,
                "median of 0, 0, 5");
    }

    @Test
    void benchWritesTheProfileBesideItsRows(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        TinyModel.write(model);
        Path profile = dir.resolve("ops.csv");
        CliRun.Result r = CliRun.run("bench", "--model", model.toString(), "--backend", "cpu", "--threads", "1", "--ctx", "64",
                "--tokens", "6", "--repeats", "1", "--methods", "full,recycled:k=16,s=3", "--out", dir.resolve("bench.csv").toString(),
                "--op-profile", profile.toString());
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(profile);
        assertEquals(String.join(",", OpProfileReport.COLUMNS), rows.getFirst());
        assertTrue(rows.stream().anyMatch(l -> l.startsWith("64,full,whole-cache,6,FLASH_ATTN_EXT,")), String.join("\n", rows));
        assertTrue(rows.stream().anyMatch(l -> l.startsWith("64,\"recycled:k=16,s=3\",sparse,4,")), String.join("\n", rows));
        assertTrue(rows.stream().anyMatch(l -> l.startsWith("64,\"recycled:k=16,s=3\",whole-cache,2,")), String.join("\n", rows));
        assertTrue(r.out().contains("op profile: 64 tokens, recycled:k=16,s=3, whole-cache steps (2;"), r.out());
    }
}
