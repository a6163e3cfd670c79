package org.rbench.harness;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sweep killed with SIGKILL mid-way and started again gives the same rows (timings
 * aside) as an uninterrupted run: no row lost, none repeated.
 */
class ResumeAfterKillTest {
    @TempDir
    Path dir;

    private static final List<String> COMPARED = List.of("kind", "method", "task", "length", "sample_index", "score",
            "prediction", "answers", "prompt_tokens", "tokens_generated", "attended_rows_mean", "full_steps");

    @Test
    void killedRunResumesToTheSameRows() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        Path model = dir.resolve("m.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(2048).withVocabulary(vocab), model);
        String config = """
                name: resume
                models: [%s]
                methods: [full, "recycled:k=64,s=5", "streamingllm:k=64"]
                tasks: [vt, fwe]
                lengths: [1024]
                samples: 3
                seed: 5
                backend: cpu
                threads: 1
                max_tokens: 8
                """.formatted(model);
        Path cfg = dir.resolve("c.yaml");
        Files.writeString(cfg, config);

        Path whole = dir.resolve("whole.csv");
        assertEquals(0, cli("run", cfg.toString(), "--out", whole.toString()).waitFor());

        Path killed = dir.resolve("killed.csv");
        Process p = cli("run", cfg.toString(), "--out", killed.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && rows(killed) < 4 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the run finished before it could be killed");
        p.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no flush
        int before = rows(killed);
        assertTrue(before >= 4 && before < 18, "killed after " + before + " rows");
        assertEquals(0, cli("run", cfg.toString(), "--out", killed.toString()).waitFor());

        assertEquals(comparable(whole), comparable(killed));
    }

    @Test
    void interruptedRunFinishesItsRowAndClosesTheFile() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        Path model = dir.resolve("m2.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(2048).withVocabulary(vocab), model);
        Path cfg = dir.resolve("c2.yaml");
        Files.writeString(cfg, """
                models: [%s]
                methods: [full, "streamingllm:k=64"]
                tasks: [vt]
                lengths: [1024]
                samples: 6
                backend: cpu
                threads: 1
                max_tokens: 8
                """.formatted(model));
        Path out = dir.resolve("interrupted.csv");
        Process p = cli("run", cfg.toString(), "--out", out.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && rows(out) < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the run finished before it could be interrupted");
        p.destroy(); // SIGTERM, like Ctrl-C's SIGINT: the shutdown hook lets the current row finish
        p.waitFor(60, TimeUnit.SECONDS);
        String csv = Files.readString(out);
        assertTrue(csv.endsWith("\n"), "the file ends with a complete row");
        int done = rows(out);
        assertTrue(done >= 2 && done < 12, "stopped after " + done + " rows");
        assertEquals(0, cli("run", cfg.toString(), "--out", out.toString()).waitFor());
        assertEquals(12, rows(out), "the resumed run completes the sweep");
    }

    private Process cli(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "org.rbench.harness.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
    }

    private static int rows(Path csv) throws Exception {
        if (!Files.exists(csv)) {
            return 0;
        }
        try (Reader r = Files.newBufferedReader(csv)) {
            int n = 0;
            for (CSVRecord ignored : CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                n++;
            }
            return n;
        } catch (Exception torn) {
            return 0;
        }
    }

    /** Rows keyed by work key, with only the columns that do not depend on timing. */
    private static Map<String, List<String>> comparable(Path csv) throws Exception {
        Map<String, List<String>> out = new TreeMap<>();
        try (Reader r = Files.newBufferedReader(csv)) {
            for (CSVRecord rec : CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                List<String> values = new ArrayList<>();
                for (String c : COMPARED) {
                    values.add(rec.get(c));
                }
                String key = rec.get("method") + "|" + rec.get("task") + "|" + rec.get("sample_index");
                assertTrue(out.put(key, values) == null, "row repeated: " + key);
            }
        }
        assertEquals(18, out.size(), "3 methods x 2 tasks x 3 samples");
        return out;
    }
}
