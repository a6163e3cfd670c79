package org.rbench.harness;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.harness.results.DiagnosticsFile;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sweep with diagnostics: the results rows carry the answer-coverage summaries, the detail
 * file one row per step and layer that agrees with them, and the timed decode is the one a
 * sweep without diagnostics does.
 */
class DiagnosticsRunTest {
    @TempDir
    static Path dir;
    private static Path model;
    private static final int LAYERS = 2; // tiny-llama
    private static final int MAX_TOKENS = 6;

    @BeforeAll
    static void model() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        model = dir.resolve("m.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(2048).withVocabulary(vocab), model);
    }

    private static Path sweep(String name, String methods, String tasks, int samples, String extra, String... flags)
            throws Exception {
        Path cfg = dir.resolve(name + ".yaml");
        Files.writeString(cfg, """
                name: %s
                models: [%s]
                methods: [%s]
                tasks: [%s]
                lengths: [1024]
                samples: %d
                seed: 5
                backend: cpu
                threads: 1
                max_tokens: %d
                %s
                """.formatted(name, model, methods, tasks, samples, MAX_TOKENS, extra));
        Path out = dir.resolve(name + ".csv");
        List<String> args = new ArrayList<>(List.of("run", cfg.toString(), "--out", out.toString()));
        args.addAll(List.of(flags));
        assertEquals(0, Main.run(args.toArray(String[]::new)));
        return out;
    }

    @Test
    void summariesAndPerStepRowsOfEveryMethod() throws Exception {
        Path csv = sweep("diag", "full, \"recycled:k=64,s=4\", \"streamingllm:k=64\"", "vt, niah_multikey_3", 2,
                "diagnostics: true");
        List<Map<String, String>> results = CsvRows.read(csv);
        List<Map<String, String>> details = DiagnosticsFile.read(DiagnosticsFile.besides(csv));
        assertEquals(12, results.size());
        for (Map<String, String> r : results) {
            String unit = r.get("method") + " " + r.get("task") + " #" + r.get("sample_index");
            assertTrue(Integer.parseInt(r.get("answer_tokens")) > 0, unit);
            assertFalse(r.get("decode_ms_mean").isEmpty(), unit + ": the timed decode is timed");
            List<Map<String, String>> mine = details.stream().filter(d -> d.get("method").equals(r.get("method"))
                    && d.get("task").equals(r.get("task")) && d.get("sample_index").equals(r.get("sample_index"))).toList();
            int generated = Integer.parseInt(r.get("tokens_generated"));
            int steps = generated == MAX_TOKENS ? MAX_TOKENS - 1 : generated;
            assertEquals(steps * LAYERS, mine.size(), unit + ": one row per step and layer");
            double coverage = mine.stream().mapToDouble(d -> Double.parseDouble(d.get("answer_coverage"))).average().orElseThrow();
            assertEquals(Double.parseDouble(r.get("answer_coverage_mean")), coverage, 1e-3, unit);
            double recall = mine.stream().mapToDouble(d -> Double.parseDouble(d.get("mass_recall"))).average().orElseThrow();
            assertEquals(Double.parseDouble(r.get("attention_mass_recall")), recall, 1e-3, unit);
            assertEquals(r.get("model_file"), mine.getFirst().get("model_file"));
            String focus = r.get("focus_layer");
            String lost = mine.stream().filter(d -> d.get("layer").equals(focus) && d.get("peak_attended").equals("0"))
                    .map(d -> d.get("step")).findFirst().orElse("");
            assertEquals(lost, r.get("focus_lost_step"), unit + ": the first step the focus layer's peak was missed");
            switch (r.get("method")) {
                case "full" -> {
                    assertEquals("1.0000", r.get("answer_coverage_mean"), unit);
                    assertEquals("1.0000", r.get("answer_mass_recall"), unit);
                    assertEquals("", r.get("focus_lost_step"), unit);
                    assertTrue(mine.stream().allMatch(d -> d.get("whole_cache").equals("1") && d.get("peak_attended").equals("1")));
                }
                case "streamingllm:k=64" -> {
                    assertTrue(Double.parseDouble(r.get("answer_coverage_mean")) < 1, unit + ": the answers lie outside the window");
                    assertTrue(mine.stream().allMatch(d -> d.get("whole_cache").equals("0")));
                }
                default -> assertTrue(mine.stream().anyMatch(d -> d.get("whole_cache").equals("1")), unit + ": full steps");
            }
        }
    }

    /** Diagnostics decode a second time: the timed decode, and so the prediction, is the one a plain sweep makes. */
    @Test
    void theTimedDecodeIsTheOneWithoutDiagnostics() throws Exception {
        Path plain = sweep("plain", "\"recycled:k=64,s=4\"", "vt", 1, "");
        Path diagnosed = sweep("flag", "\"recycled:k=64,s=4\"", "vt", 1, "diagnostics_steps: 2", "--diagnostics");
        Map<String, String> p = CsvRows.read(plain).getFirst();
        Map<String, String> d = CsvRows.read(diagnosed).getFirst();
        assertEquals(p.get("prediction"), d.get("prediction"));
        assertEquals(p.get("attended_rows_mean"), d.get("attended_rows_mean"));
        assertEquals("", p.get("answer_coverage_mean"), "no diagnostics, no coverage");
        assertEquals("", p.get("attention_mass_recall"));
        assertFalse(Files.exists(DiagnosticsFile.besides(plain)));
        assertFalse(d.get("answer_coverage_mean").isEmpty(), "--diagnostics turns them on");
        assertEquals(2 * LAYERS, DiagnosticsFile.read(DiagnosticsFile.besides(diagnosed)).size(),
                "diagnostics_steps: 2 keeps the first 2 steps' rows");
    }
}
