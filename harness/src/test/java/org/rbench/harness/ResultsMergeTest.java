package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.results.ResultsMerge;

import java.io.IOException;
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

/** Merging shard CSVs never pads a torn row into a bad one, and says clearly what is wrong with a bad input. */
class ResultsMergeTest {
    @TempDir
    Path dir;

    private static Map<String, String> row(int i) {
        return Map.of("kind", "ruler", "method", "full", "task", "vt", "length", "1024",
                "sample_index", Integer.toString(i), "prediction", "a, \"quoted\"\nanswer", "score", "100.0");
    }

    private Path shard(String name, int... samples) throws IOException {
        Path f = dir.resolve(name);
        try (ResultsFile r = ResultsFile.open(f)) {
            for (int i : samples) {
                r.append(row(i));
            }
        }
        return f;
    }

    @Test
    void aTornLastRowIsDroppedWithAWarning() throws Exception {
        Path a = shard("a.csv", 0, 1);
        Path b = shard("b.csv", 2);
        // a shard killed mid-write: the start of a row, cut inside a quoted field
        Files.writeString(b, "run,2026,ruler,abc,\"partial", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Path out = dir.resolve("all.csv");
        ResultsMerge.Summary s = ResultsMerge.merge(List.of(a, b), out);
        assertEquals(3, s.rows());
        assertEquals(1, s.warnings().size(), s.warnings().toString());
        assertTrue(s.warnings().getFirst().contains(b.toString()) && s.warnings().getFirst().contains("torn"),
                s.warnings().getFirst());
        assertFalse(Files.readString(out).contains("partial"));
        try (ResultsFile merged = ResultsFile.open(out)) {
            assertEquals(3, merged.completedRows());
        }
    }

    @Test
    void aShortRowInsideAFileIsAnErrorNamingTheLine() throws Exception {
        Path a = shard("a.csv", 0);
        Files.writeString(a, "x,y,z\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        shardAppend(a, 1);
        Path out = dir.resolve("all.csv");
        IOException e = assertThrows(IOException.class, () -> ResultsMerge.merge(List.of(a), out));
        assertTrue(e.getMessage().contains(a + ":4") && e.getMessage().contains("3 fields"), e.getMessage());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("all.csv.partial")));
    }

    private void shardAppend(Path f, int sample) throws IOException {
        try (ResultsFile r = ResultsFile.open(f)) {
            r.append(row(sample));
        }
    }

    @Test
    void garbageIsNamedWithWhatIsWrong() throws Exception {
        Path a = shard("a.csv", 0);
        Path bin = dir.resolve("model.gguf");
        Files.write(bin, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, (byte) 0xff, (byte) 0xfe, 0, 0, '\n'});
        Path out = dir.resolve("all.csv");
        IOException e = assertThrows(IOException.class, () -> ResultsMerge.merge(List.of(a, bin), out));
        assertTrue(e.getMessage().contains(bin.toString()) && e.getMessage().contains("UTF-8"), e.getMessage());
        assertFalse(e.getMessage().contains("Input length"), e.getMessage());
        assertFalse(Files.exists(out));

        Path text = dir.resolve("notes.csv");
        Files.writeString(text, "some,other\ncsv,file\n");
        IOException columns = assertThrows(IOException.class, () -> ResultsMerge.merge(List.of(a, text), out));
        assertTrue(columns.getMessage().contains(text.toString()) && columns.getMessage().contains("columns"),
                columns.getMessage());

        Path quotes = dir.resolve("quotes.csv");
        Files.writeString(quotes, Files.readString(a) + "\"unterminated\" quote,x\n");
        IOException bad = assertThrows(IOException.class, () -> ResultsMerge.merge(List.of(quotes), out));
        assertTrue(bad.getMessage().contains(quotes.toString()), bad.getMessage());
    }
}
