package org.rbench.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes the fixture CSVs under src/test/resources/fixtures. They are committed; this program
 * documents how they were made and regenerates them byte for byte:
 *
 * <pre>
 * java -cp analysis/target/test-classes:analysis/target/classes \
 *     org.rbench.analysis.FixtureGenerator analysis/src/test/resources/fixtures
 * </pre>
 *
 * The numbers follow a simple cost model (decode time = weights + KV rows read) so that the
 * example plots look like real runs; only their exactness matters to the tests.
 */
public final class FixtureGenerator {
    static final List<String> COLUMNS = List.of("run_id", "timestamp", "kind", "suite_commit", "llamacpp_version",
            "backend", "device", "threads", "model_file", "model_sha256", "method", "method_name", "seed", "task",
            "length", "sample_index", "metric", "score", "prediction", "answers", "prompt_tokens", "prefill_ms",
            "decode_ms_mean", "decode_ms_p50", "decode_ms_p90", "tokens_generated", "attended_rows_mean",
            "full_steps", "nll_sum", "tokens_scored", "attention_mass_recall", "kv_fill", "bound_speedup");

    static final String MODEL = "tiny-llama-q4.gguf";
    static final String FULL = "full";
    static final String H2O = "h2o:k=4096";
    static final String STREAMING = "streamingllm:k=4096";
    static final String RECYCLED = "recycled:k=4096,s=50";

    private FixtureGenerator() {
    }

    public static void main(String[] args) throws IOException {
        Path directory = Path.of(args.length > 0 ? args[0] : "analysis/src/test/resources/fixtures");
        Files.createDirectories(directory);
        write(directory.resolve("report_ruler_ppl.csv"), reportRulerAndPerplexity());
        write(directory.resolve("report_latency.csv"), reportLatency());
        List<Map<String, String>> baseline = compareRun("nightly-2025-01-01", 11);
        write(directory.resolve("compare_baseline.csv"), baseline);
        write(directory.resolve("compare_candidate_noise.csv"), perturb(baseline, "nightly-2025-01-02", 12, null, 0,
                null, 1.0));
        write(directory.resolve("compare_candidate_regression.csv"), perturb(baseline, "nightly-2025-01-03", 13,
                STREAMING, 10, RECYCLED, 1.10));
    }

    // ---------------------------------------------------------------------------------------
    // Cost model

    /** KV-dominated decode cost: 8 ms of weights plus 1.2 ms per 1K attended rows. */
    static double decodeMs(String method, int length) {
        double weights = 8;
        double perKRows = 1.2;
        return switch (method) {
            case FULL -> weights + perKRows * length / 1024.0;
            case H2O -> weights + perKRows * 4 + 3.0; // score bookkeeping for eviction
            case STREAMING -> weights + perKRows * 4;
            case RECYCLED -> weights + perKRows * 4 + perKRows * length / 1024.0 / 50 + 0.6;
            default -> throw new IllegalArgumentException(method);
        };
    }

    static double attendedRows(String method, int length) {
        return switch (method) {
            case FULL -> length;
            case RECYCLED -> 4096 + (length - 4096) / 50.0;
            default -> 4096;
        };
    }

    /** Bytes-moved bound: full's bytes over the method's, without any overhead. */
    static double bound(String method, int length) {
        double full = 8 + 1.2 * length / 1024.0;
        return full / (8 + 1.2 * attendedRows(method, length) / 1024.0);
    }

    static double recall(String method, int length) {
        double longer = length > 32768 ? 1 : 0;
        return switch (method) {
            case FULL -> 1.0;
            case H2O -> 0.86 - 0.04 * longer;
            case STREAMING -> 0.52 - 0.07 * longer;
            case RECYCLED -> 0.95 - 0.02 * longer;
            default -> throw new IllegalArgumentException(method);
        };
    }

    static double accuracy(String method, int length) {
        boolean longer = length > 32768;
        return switch (method) {
            case FULL -> longer ? 85 : 92;
            case H2O -> longer ? 45 : 55;
            case STREAMING -> longer ? 30 : 38;
            case RECYCLED -> longer ? 72 : 80;
            default -> throw new IllegalArgumentException(method);
        };
    }

    // ---------------------------------------------------------------------------------------
    // Report fixtures

    static List<Map<String, String>> reportRulerAndPerplexity() {
        SeededRandom random = new SeededRandom(2024);
        List<Map<String, String>> rows = new ArrayList<>();
        String[] tasks = {"niah_single_1", "vt", "qa_1"};
        for (String method : List.of(FULL, H2O, STREAMING, RECYCLED)) {
            for (int length : List.of(32768, 65536)) {
                for (String task : tasks) {
                    for (int sample = 0; sample < 10; sample++) {
                        Map<String, String> row = base("fixture-run-1", method, rows.size());
                        boolean part = task.equals("qa_1");
                        double p = accuracy(method, length) / 100;
                        double score = random.nextDouble() < p ? 100 : part && random.nextBoolean() ? 50 : 0;
                        int generated = 16 + random.nextInt(17);
                        double decode = decodeMs(method, length) * jitter(random, 0.03);
                        row.putAll(Map.of("kind", "ruler", "task", task, "length", Integer.toString(length),
                                "sample_index", Integer.toString(sample), "seed", Long.toString(1000 + sample),
                                "metric", part ? "string_match_part" : "string_match_all",
                                "score", number(score, 1), "prediction", score == 0 ? "unknown" : "8675309",
                                "answers", part ? "8675309 | 8,675,309" : "8675309",
                                "prompt_tokens", Integer.toString(length - 64)));
                        row.putAll(Map.of("prefill_ms", number(length * 0.02 * jitter(random, 0.01), 2),
                                "decode_ms_mean", number(decode, 3), "decode_ms_p50", number(decode * 0.99, 3),
                                "decode_ms_p90", number(decode * 1.06, 3),
                                "tokens_generated", Integer.toString(generated),
                                "attended_rows_mean", number(attendedRows(method, length), 1),
                                "full_steps", Integer.toString(method.equals(RECYCLED) ? (generated + 49) / 50
                                        : method.equals(FULL) ? generated : 0),
                                "attention_mass_recall", number(Math.min(1, recall(method, length) * jitter(random, 0.02)), 4),
                                "kv_fill", "prefill"));
                        rows.add(row);
                    }
                }
            }
        }
        Map<String, Double> nllPerToken = Map.of("pg19", 2.10, "wikitext", 1.85);
        Map<String, Double> penalty = Map.of(FULL, 0.0, H2O, 0.05, STREAMING, 0.08, RECYCLED, 0.01);
        for (String method : List.of(FULL, H2O, STREAMING, RECYCLED)) {
            for (String dataset : List.of("pg19", "wikitext")) {
                for (int chunk = 0; chunk < 2; chunk++) {
                    Map<String, String> row = base("fixture-run-1", method, rows.size());
                    int tokens = 32768 - 1024 - 512 * chunk;
                    double nll = tokens * (nllPerToken.get(dataset) + penalty.get(method)) * jitter(random, 0.01);
                    row.putAll(Map.of("kind", "ppl", "task", dataset, "length", "32768",
                            "sample_index", Integer.toString(chunk), "seed", "0", "metric", "ppl",
                            "prompt_tokens", "32768", "prefill_ms", number(655.36 * jitter(random, 0.01), 2),
                            "nll_sum", number(nll, 3), "tokens_scored", Integer.toString(tokens)));
                    row.putAll(Map.of("kv_fill", "prefill"));
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    static List<Map<String, String>> reportLatency() {
        SeededRandom random = new SeededRandom(7);
        List<Map<String, String>> rows = new ArrayList<>();
        for (String method : List.of(FULL, H2O, STREAMING, RECYCLED)) {
            for (int length : List.of(16384, 32768, 65536, 131072)) {
                for (int repetition = 0; repetition < 3; repetition++) {
                    rows.add(latencyRow("fixture-run-2", method, length, repetition, random, 1.0, rows.size()));
                }
            }
        }
        return rows;
    }

    static Map<String, String> latencyRow(String runId, String method, int length, int repetition,
            SeededRandom random, double slowdown, int index) {
        Map<String, String> row = base(runId, method, index);
        double decode = decodeMs(method, length) * slowdown * jitter(random, 0.015);
        row.putAll(Map.of("kind", "latency", "task", "latency", "length", Integer.toString(length),
                "sample_index", Integer.toString(repetition), "seed", "0", "metric", "none",
                "prompt_tokens", Integer.toString(length), "prefill_ms", number(length * 0.001, 2),
                "decode_ms_mean", number(decode, 3), "decode_ms_p50", number(decode * 0.99, 3)));
        row.putAll(Map.of("decode_ms_p90", number(decode * 1.06, 3), "tokens_generated", "64",
                "attended_rows_mean", number(attendedRows(method, length), 1),
                "full_steps", Integer.toString(method.equals(RECYCLED) ? 2 : method.equals(FULL) ? 64 : 0),
                "kv_fill", "synthetic", "bound_speedup", number(bound(method, length), 3)));
        return row;
    }

    // ---------------------------------------------------------------------------------------
    // Compare fixtures

    /** A nightly run: RULER at 32K (2 tasks x 100 samples) and a latency sweep (5 repetitions). */
    static List<Map<String, String>> compareRun(String runId, long seed) {
        SeededRandom random = new SeededRandom(seed);
        List<Map<String, String>> rows = new ArrayList<>();
        for (String method : List.of(FULL, STREAMING, RECYCLED)) {
            for (String task : List.of("niah_single_1", "qa_1")) {
                for (int sample = 0; sample < 100; sample++) {
                    Map<String, String> row = base(runId, method, rows.size());
                    double target = Map.of(FULL, 90.0, STREAMING, 45.0, RECYCLED, 80.0).get(method);
                    double score = random.nextDouble() * 100 < target ? 100 : 0;
                    double decode = decodeMs(method, 32768) * jitter(random, 0.03);
                    row.putAll(Map.of("kind", "ruler", "task", task, "length", "32768",
                            "sample_index", Integer.toString(sample), "seed", Long.toString(5000 + sample),
                            "metric", "string_match_all", "score", number(score, 1),
                            "prediction", score == 0 ? "unknown" : "42", "answers", "42",
                            "prompt_tokens", "32704"));
                    row.putAll(Map.of("prefill_ms", number(655.36 * jitter(random, 0.01), 2),
                            "decode_ms_mean", number(decode, 3), "decode_ms_p50", number(decode * 0.99, 3),
                            "decode_ms_p90", number(decode * 1.06, 3), "tokens_generated", "24",
                            "attended_rows_mean", number(attendedRows(method, 32768), 1), "kv_fill", "prefill"));
                    rows.add(row);
                }
            }
        }
        for (String method : List.of(FULL, STREAMING, RECYCLED)) {
            for (int length : List.of(32768, 65536)) {
                for (int repetition = 0; repetition < 5; repetition++) {
                    rows.add(latencyRow(runId, method, length, repetition, random, 1.0, rows.size()));
                }
            }
        }
        return rows;
    }

    /**
     * The baseline re-measured: fresh timing noise, a few RULER samples flipping either way, plus
     * optional injected regressions.
     *
     * @param dropMethod method whose accuracy drops by {@code drops} samples going from 100 to 0
     * @param slowMethod method whose decode time is multiplied by {@code slowdown}
     */
    static List<Map<String, String>> perturb(List<Map<String, String>> baseline, String runId, long seed,
            String dropMethod, int drops, String slowMethod, double slowdown) {
        SeededRandom random = new SeededRandom(seed);
        List<Map<String, String>> rows = new ArrayList<>();
        Map<String, int[]> flips = new LinkedHashMap<>(); // method -> {down, up} still to do
        for (String method : List.of(FULL, STREAMING, RECYCLED)) {
            flips.put(method, method.equals(dropMethod) ? new int[] {drops, 0} : new int[] {3, 2});
        }
        for (Map<String, String> original : baseline) {
            Map<String, String> row = new LinkedHashMap<>(original);
            String method = row.get("method");
            row.put("run_id", runId);
            row.put("timestamp", "2025-01-02T03:00:00Z");
            double slow = method.equals(slowMethod) ? slowdown : 1.0;
            int length = Integer.parseInt(row.get("length"));
            double spread = row.get("kind").equals("ruler") ? 0.03 : 0.015;
            double decode = decodeMs(method, length) * slow * jitter(random, spread);
            row.put("decode_ms_mean", number(decode, 3));
            row.put("decode_ms_p50", number(decode * 0.99, 3));
            row.put("decode_ms_p90", number(decode * 1.06, 3));
            if (row.get("kind").equals("ruler")) {
                int[] todo = flips.get(method);
                // Spread the flips over the samples instead of taking the first ones.
                boolean pick = random.nextInt(3) == 0;
                if (pick && row.get("score").equals("100.0") && todo[0] > 0) {
                    row.put("score", "0.0");
                    row.put("prediction", "unknown");
                    todo[0]--;
                } else if (pick && row.get("score").equals("0.0") && todo[1] > 0) {
                    row.put("score", "100.0");
                    row.put("prediction", "42");
                    todo[1]--;
                }
            }
            rows.add(row);
        }
        flips.forEach((method, todo) -> {
            if (todo[0] != 0 || todo[1] != 0) {
                throw new IllegalStateException("could not place all flips for " + method);
            }
        });
        return rows;
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    private static Map<String, String> base(String runId, String method, int index) {
        Map<String, String> row = new LinkedHashMap<>();
        COLUMNS.forEach(c -> row.put(c, ""));
        row.put("run_id", runId);
        row.put("timestamp", String.format(Locale.ROOT, "2025-01-01T02:%02d:%02dZ", index / 60 % 60, index % 60));
        row.put("suite_commit", "5f0c89e");
        row.put("llamacpp_version", "v0.4.0");
        row.put("backend", "cuda");
        row.put("device", "NVIDIA H100 80GB HBM3");
        row.put("threads", "16");
        row.put("model_file", MODEL);
        row.put("model_sha256", "0123456789abcdef");
        row.put("method", method);
        row.put("method_name", MethodOrder.nameOf(method));
        return row;
    }

    /** A factor uniform in [1 - spread, 1 + spread]. */
    private static double jitter(SeededRandom random, double spread) {
        return 1 + spread * (2 * random.nextDouble() - 1);
    }

    private static String number(double value, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static void write(Path file, List<Map<String, String>> rows) throws IOException {
        StringBuilder out = new StringBuilder();
        out.append(String.join(",", COLUMNS)).append("\r\n"); // RFC 4180, as the harness writes
        for (Map<String, String> row : rows) {
            out.append(String.join(",", COLUMNS.stream().map(c -> quote(row.get(c))).toList())).append("\r\n");
        }
        Files.writeString(file, out, StandardCharsets.UTF_8);
    }

    private static String quote(String value) {
        if (value.contains(",") || value.contains("\"") || value.contains("\n") || value.contains("\r")) {
            return '"' + value.replace("\"", "\"\"") + '"';
        }
        return value;
    }
}
