package org.rbench.harness;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code rbench bench -o md|csv|json|jsonl|sql}: one bench run on a tiny model, then every format
 * of the same run (the later runs resume: nothing is measured again), each parsed back and held
 * against the numbers computed here from the run's results CSV.
 */
class BenchOutputFormatsTest {
    @TempDir
    static Path dir;
    static Path csv;
    static String firstJson;
    /** Per test "tg3 @ d64|full": the repetitions' times in ns, from the results CSV. */
    static Map<String, long[]> expected;

    private static CliRun.Result bench(String format) {
        CliRun.Result r = CliRun.run("bench", "--model", dir.resolve("tiny.gguf").toString(), "--backend", "cpu", "--threads", "1",
                "--ctx", "64,96", "--tokens", "3", "--repeats", "3", "--methods", "full,recycled:k=16,s=2",
                "--out", csv.toString(), "-o", format);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    /**
     * The format as bench -o prints it for this run's CSV, without starting the engine again (a
     * resumed bench only reads the same file: {@link #markdownReadsLikeLlamaBench} shows that once).
     */
    private static String formatted(String format) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            org.rbench.harness.llamabench.LlamaBenchFormat.parse(format).write(
                    org.rbench.harness.llamabench.LlamaBenchTests.read(csv, selection, setting), out);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    static org.rbench.harness.llamabench.LlamaBenchTests.Selection selection;
    static org.rbench.harness.llamabench.BenchSetting setting;

    @BeforeAll
    static void benchOnce() throws Exception {
        TinyModel.write(dir.resolve("tiny.gguf"));
        csv = dir.resolve("bench.csv");
        CliRun.Result first = bench("json");
        assertTrue(first.err().contains("tokens in the cache"), "the first run measures: " + first.err());
        assertTrue(first.err().contains("tg3 @ d64") && first.err().contains("rows appended to"), "the table goes to stderr");
        firstJson = first.out();
        expected = new LinkedHashMap<>();
        try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(Files.newBufferedReader(csv))) {
            for (CSVRecord row : p) {
                String key = "tg" + row.get("tokens_generated") + " @ d" + row.get("length") + "|" + row.get("method");
                long ns = Math.round(Double.parseDouble(row.get("decode_ms_mean")) * Integer.parseInt(row.get("tokens_generated")) * 1e6);
                long[] old = expected.getOrDefault(key, new long[0]);
                long[] grown = Arrays.copyOf(old, old.length + 1);
                grown[old.length] = ns;
                expected.put(key, grown);
            }
        }
        assertEquals(List.of("tg3 @ d64|full", "tg3 @ d64|recycled:k=16,s=2", "tg3 @ d96|full", "tg3 @ d96|recycled:k=16,s=2"),
                List.copyOf(expected.keySet()));
        String sha;
        try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(Files.newBufferedReader(csv))) {
            sha = p.getRecords().getFirst().get("model_sha256");
        }
        selection = new org.rbench.harness.llamabench.LlamaBenchTests.Selection(sha, 1, List.of("full", "recycled:k=16,s=2"),
                List.of(64, 96), 3);
        setting = new org.rbench.harness.llamabench.BenchSetting(dir.resolve("tiny.gguf").toString(), "llama 18M all F32",
                70259712, 17564928, "AMD EPYC", "", 512, "f16", 0, true);
    }

    private static double avgTs(long[] ns) {
        return Arrays.stream(ns).mapToDouble(v -> 3e9 / v).average().orElseThrow();
    }

    private static double sdTs(long[] ns) {
        double m = avgTs(ns);
        return Math.sqrt(Arrays.stream(ns).mapToDouble(v -> 3e9 / v).map(x -> (x - m) * (x - m)).sum() / (ns.length - 1));
    }

    /** The fields every machine format carries, checked against the CSV. */
    private static void assertTest(Map<String, String> fields, String where) {
        String key = "tg" + fields.get("n_gen") + " @ d" + fields.get("n_depth") + "|" + fields.get("method");
        long[] ns = expected.get(key);
        assertTrue(ns != null && ns.length == 3, where + ": " + key);
        assertEquals("0", fields.get("n_prompt"), where);
        assertEquals(Long.toString(Math.round(Arrays.stream(ns).average().orElseThrow())), fields.get("avg_ns"), where);
        assertEquals(Double.parseDouble(String.format(Locale.ROOT, "%.6f", avgTs(ns))), Double.parseDouble(fields.get("avg_ts")),
                1e-9, where + " avg_ts");
        assertEquals(Double.parseDouble(String.format(Locale.ROOT, "%.6f", sdTs(ns))),
                Double.parseDouble(fields.get("stddev_ts")), 1e-9, where + " stddev_ts");
        assertEquals("CPU", fields.get("backends"), where);
        assertEquals("1", fields.get("n_threads"), where);
        assertTrue(fields.get("model_filename").endsWith("tiny.gguf") && !fields.get("model_type").isBlank()
                && Long.parseLong(fields.get("model_size")) > 0 && Long.parseLong(fields.get("model_n_params")) > 0, where + ": " + fields);
        assertTrue(fields.get("test_time").matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), fields.get("test_time"));
    }

    /** The objects of a JSON array, read with SQLite's JSON functions (no JSON library needed). */
    private static List<Map<String, String>> jsonObjects(Connection c, String jsonArray) throws Exception {
        List<Map<String, String>> objects = new ArrayList<>();
        try (PreparedStatement each = c.prepareStatement("SELECT value FROM json_each(?)")) {
            each.setString(1, jsonArray);
            try (ResultSet rs = each.executeQuery()) {
                while (rs.next()) {
                    objects.add(jsonFields(c, rs.getString(1)));
                }
            }
        }
        return objects;
    }

    private static Map<String, String> jsonFields(Connection c, String object) throws Exception {
        Map<String, String> fields = new LinkedHashMap<>();
        try (PreparedStatement st = c.prepareStatement("SELECT key, value FROM json_each(?)")) {
            st.setString(1, object);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    fields.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return fields;
    }

    @Test
    void jsonAndJsonlCarryEveryRepetition() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:")) {
            List<Map<String, String>> tests = jsonObjects(c, firstJson);
            assertEquals(4, tests.size(), firstJson);
            for (Map<String, String> t : tests) {
                assertTest(t, "json");
                long[] ns = expected.get("tg3 @ d" + t.get("n_depth") + "|" + t.get("method"));
                assertEquals(Arrays.toString(ns), Arrays.toString(parseLongs(t.get("samples_ns"))), "samples_ns");
            }
            assertTrue(firstJson.contains("\"cpu_strict\": false,") && firstJson.contains("\"n_gen\": 3,"),
                    "booleans and numbers as JSON values: " + firstJson);
            assertEquals(formatted("json"), firstJson);
            String jsonl = formatted("jsonl");
            List<String> lines = jsonl.lines().toList();
            assertEquals(4, lines.size(), jsonl);
            for (String line : lines) {
                assertTest(jsonFields(c, line), "jsonl");
            }
        }
    }

    private static long[] parseLongs(String jsonArray) {
        String inner = jsonArray.replace("[", "").replace("]", "").trim();
        return Arrays.stream(inner.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
    }

    @Test
    void csvHasLlamaBenchsHeaderAndTheSameNumbers() throws Exception {
        String out = formatted("csv");
        assertTrue(out.startsWith("build_commit,build_number,cpu_info,gpu_info,backends,model_filename,model_type,"
                + "model_size,model_n_params,n_batch,n_ubatch,n_threads,"), out);
        try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(new StringReader(out))) {
            List<CSVRecord> records = p.getRecords();
            assertEquals(4, records.size());
            for (CSVRecord r : records) {
                assertTest(r.toMap(), "csv");
            }
        }
    }

    @Test
    void sqlLoadsIntoSqliteAsTheLlamaBenchTable() throws Exception {
        String sql = formatted("sql");
        assertTrue(sql.startsWith("CREATE TABLE IF NOT EXISTS llama_bench (\n  build_commit TEXT,\n"), sql);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:"); Statement st = c.createStatement()) {
            for (String statement : sql.split(";\n")) {
                if (!statement.isBlank()) {
                    st.executeUpdate(statement);
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT * FROM llama_bench ORDER BY n_depth, method")) {
                int n = 0;
                while (rs.next()) {
                    Map<String, String> fields = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        fields.put(rs.getMetaData().getColumnName(i), rs.getString(i));
                    }
                    assertTest(fields, "sql");
                    n++;
                }
                assertEquals(4, n);
            }
        }
    }

    @Test
    void markdownReadsLikeLlamaBench() {
        String md = bench("md").out();
        assertEquals(formatted("md"), md, "a resumed run prints its tests from the CSV");
        List<String> lines = md.lines().toList();
        assertTrue(lines.get(0).matches("\\| model +\\| +size \\| +params \\| backend +\\| threads \\| method +\\| +test \\|"
                + " +t/s \\| +ms/token \\|"), lines.get(0));
        assertEquals(2 + 4 + 2, lines.size(), md);
        for (String line : lines.subList(2, 6)) {
            String[] cells = Arrays.stream(line.split("\\|")).map(String::trim).toArray(String[]::new);
            long[] ns = expected.get(cells[7] + "|" + cells[6]);
            assertTrue(ns != null, line);
            assertEquals(String.format(Locale.ROOT, "%.2f ± %.2f", avgTs(ns), sdTs(ns)), cells[8], line);
            assertEquals("CPU", cells[4]);
        }
        assertTrue(lines.getLast().startsWith("build: "), md);
    }

    @Test
    void anUnknownFormatIsAUsageError() {
        CliRun.Result r = CliRun.run("bench", "--model", "m.gguf", "--ctx", "64", "--methods", "full", "--out", "x.csv", "-o", "xml");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("md, csv, json, jsonl, sql"), r.err());
    }
}
