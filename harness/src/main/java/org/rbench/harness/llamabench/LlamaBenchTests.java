package org.rbench.harness.llamabench;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.rbench.harness.run.Method;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a bench run's tests back from its results CSV (docs/CSV.md): every format is made from
 * the file's rows, so the numbers in md, csv, json, jsonl and sql are the CSV's, and a resumed
 * run prints the rows an earlier run measured as well.
 */
public final class LlamaBenchTests {
    private LlamaBenchTests() {
    }

    /** Which rows of the file are this run's: its model, seed, methods, lengths and repetitions. */
    public record Selection(String modelSha256, long seed, List<String> methods, List<Integer> lengths, int repeats) {
    }

    /** The tests in run order (length, then method as given), one per method and length with rows. */
    public static List<LlamaBenchTest> read(Path csv, Selection selection, BenchSetting setting) throws IOException {
        Map<String, List<CSVRecord>> groups = new LinkedHashMap<>();
        for (int length : selection.lengths()) {
            for (String method : selection.methods()) {
                groups.put(length + "\u0000" + method, new ArrayList<>());
            }
        }
        try (Reader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
             CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            for (CSVRecord row : p) {
                if (!row.get("kind").equals("latency") || !row.get("model_sha256").equals(selection.modelSha256())
                        || !row.get("seed").equals(Long.toString(selection.seed()))
                        || Integer.parseInt(row.get("sample_index")) >= selection.repeats()) {
                    continue;
                }
                List<CSVRecord> group = groups.get(row.get("length") + "\u0000" + row.get("method"));
                if (group != null) {
                    group.add(row);
                }
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new IOException(csv + ": not a results CSV with latency rows: " + e.getMessage(), e);
        }
        List<LlamaBenchTest> tests = new ArrayList<>();
        for (List<CSVRecord> rows : groups.values()) {
            if (!rows.isEmpty()) {
                tests.add(test(csv, rows, setting));
            }
        }
        return tests;
    }

    private static LlamaBenchTest test(Path csv, List<CSVRecord> rows, BenchSetting setting) throws IOException {
        rows.sort((a, b) -> Integer.compare(Integer.parseInt(a.get("sample_index")), Integer.parseInt(b.get("sample_index"))));
        long[] samplesNs = new long[rows.size()];
        double msSum = 0;
        Instant newest = Instant.EPOCH;
        for (int i = 0; i < rows.size(); i++) {
            CSVRecord row = rows.get(i);
            try {
                double ms = Double.parseDouble(row.get("decode_ms_mean"));
                samplesNs[i] = Math.round(ms * Integer.parseInt(row.get("tokens_generated")) * 1e6);
                msSum += ms;
                Instant t = Instant.parse(row.get("timestamp"));
                newest = t.isAfter(newest) ? t : newest;
            } catch (RuntimeException e) {
                throw new IOException(csv + ":" + row.getRecordNumber() + ": " + e.getMessage(), e);
            }
        }
        CSVRecord last = rows.getLast();
        return new LlamaBenchTest(setting, last.get("suite_commit"), backendName(last.get("backend")),
                Integer.parseInt(last.get("threads")), last.get("method"), last.get("kv_fill"),
                Integer.parseInt(last.get("tokens_generated")), depth(last.get("method"), Integer.parseInt(last.get("length"))),
                newest.truncatedTo(ChronoUnit.SECONDS).toString(), samplesNs, msSum / rows.size());
    }

    /** The depth a row's test decoded at: its length, but llama-bench's own at {@code llama-bench:depth=D}. */
    static int depth(String method, int length) {
        if (method.equals(Method.LlamaBench.NAME) || method.startsWith(Method.LlamaBench.NAME + ":")) {
            return ((Method.LlamaBench) Method.parseForBench(method)).depthFor(length);
        }
        return length;
    }

    /** llama-bench's backend names: CPU, CUDA, Metal, Vulkan (rbench's results write them in lower case). */
    static String backendName(String backend) {
        return switch (backend.toLowerCase(Locale.ROOT)) {
            case "cpu" -> "CPU";
            case "metal" -> "Metal";
            case "vulkan" -> "Vulkan";
            default -> backend.toUpperCase(Locale.ROOT);
        };
    }
}
