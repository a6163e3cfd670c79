package org.rbench.harness.history;

import org.rbench.harness.results.ResultsFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Results CSVs of made-up nights, as the nightly sweep writes them (docs/CSV.md): four methods at
 * two lengths, latency rows (three repetitions, ms/token with 2% noise around a level per method
 * and length) and RULER rows (two tasks, three samples; the same scores every night, as a seeded
 * run gives on one machine). A night can carry an injected regression.
 */
final class MadeUpNights {
    static final List<String> METHODS = List.of("full", "recycled:k=256,s=16", "streamingllm:k=256", "h2o:k=256");
    static final List<Integer> LENGTHS = List.of(2048, 4096);

    /** What a night does to one method at one length: ms/token times {@code slowdown}, {@code samplesLost} more niah_single_1 samples wrong. */
    record Regression(String method, int length, double slowdown, int samplesLost) {
        static final Regression NONE = new Regression("", 0, 1, 0);
    }

    private MadeUpNights() {
    }

    static Path write(Path dir, int night, long seed, Regression regression) throws IOException {
        Path csv = dir.resolve("night-" + night + ".csv");
        SplittableRandom random = new SplittableRandom(seed);
        try (ResultsFile out = ResultsFile.open(csv)) {
            for (int m = 0; m < METHODS.size(); m++) {
                String method = METHODS.get(m);
                for (int length : LENGTHS) {
                    boolean hit = method.equals(regression.method()) && length == regression.length();
                    double level = (m == 0 ? 1.2 : 0.8) * length / 2048.0 * (hit ? regression.slowdown() : 1);
                    for (int rep = 0; rep < 3; rep++) {
                        Map<String, String> row = common(night, method, length, "latency", rep);
                        row.put("kind", "latency");
                        row.put("metric", "none");
                        row.put("decode_ms_mean", fmt(level * (1 + 0.02 * random.nextGaussian())));
                        row.put("tokens_generated", "32");
                        row.put("prefill_ms", "0");
                        out.append(row);
                    }
                    int lost = hit ? regression.samplesLost() : 0;
                    for (String task : List.of("niah_single_1", "vt")) {
                        for (int sample = 0; sample < 3; sample++) {
                            Map<String, String> row = common(night, method, length, task, sample);
                            row.put("kind", "ruler");
                            row.put("metric", "string_match_all");
                            // full finds everything; the K=256 methods miss sample 2; a regression loses more
                            boolean right = (m == 0 || sample < 2) && !(task.equals("niah_single_1") && sample < lost);
                            row.put("score", right ? "100.0000" : "0.0000");
                            row.put("prefill_ms", fmt(length * 0.3));
                            row.put("decode_ms_mean", fmt(level * (1 + 0.02 * random.nextGaussian())));
                            row.put("tokens_generated", "8");
                            out.append(row);
                        }
                    }
                }
            }
        }
        return csv;
    }

    private static Map<String, String> common(int night, String method, int length, String task, int sample) {
        Map<String, String> row = new LinkedHashMap<>();
        row.put("run_id", "nightly-" + night);
        row.put("timestamp", String.format(Locale.ROOT, "2026-12-%02dT03:00:00Z", night));
        row.put("suite_commit", "commit" + night);
        row.put("llamacpp_version", "v0.4.0");
        row.put("backend", "cpu");
        row.put("device", "AMD EPYC");
        row.put("threads", "1");
        row.put("model_file", "rbench-longctx-run10-q8_0.gguf");
        row.put("model_sha256", "25caa6ae84def2ba");
        row.put("method", method);
        row.put("method_name", method.contains(":") ? method.substring(0, method.indexOf(':')) : method);
        row.put("seed", "42");
        row.put("task", task);
        row.put("length", Integer.toString(length));
        row.put("sample_index", Integer.toString(sample));
        return row;
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
