package org.rbench.harness.run;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.datasets.RulerTask;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.harness.CsvRows;
import org.rbench.harness.Main;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.sweep.Shard;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code prefill: shared} and {@code prefill: own} on a tiny random model: own prefills the
 * prompt once per engine method, with that method's statistics only, and decodes as shared
 * does; {@code kv_fill} says which rows' prefill served several methods.
 */
class RulerRunPrefillTest {
    @TempDir
    static Path dir;
    private static Path model;
    /** Methods whose prefill requests differ: none, H2O's column sums, Recycled's last query. */
    private static final List<String> METHODS = List.of("full", "h2o:k=64", "recycled:k=64,s=4");

    @BeforeAll
    static void model() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        model = dir.resolve("m.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(2048).withVocabulary(vocab), model);
    }

    private record Ran(List<Map<String, String>> rows, int enginePrefills) {
        Map<String, String> row(String method, int sample) {
            return rows.stream().filter(r -> r.get("method").equals(method) && r.get("sample_index").equals(Integer.toString(sample)))
                    .findFirst().orElseThrow(() -> new AssertionError("no row of " + method + " #" + sample));
        }
    }

    /** Runs the methods on vt at 1024 tokens into {@code name}.csv (appending: a second run resumes). */
    private static Ran run(String name, List<String> methods, RulerRun.Prefill prefill, int samples, boolean diagnostics)
            throws Exception {
        RulerRun.Plan plan = new RulerRun.Plan(name, List.of(model), methods.stream().map(Method::parse).toList(),
                RulerTask.parseList("vt"), List.of(1024), samples, 5, "cpu", 1, 6, Shard.ALL, diagnostics, null, prefill);
        RulerRun run = new RulerRun(plan, new PrintStream(OutputStream.nullOutputStream()), new AtomicBoolean());
        Path csv = dir.resolve(name + ".csv");
        try (ResultsFile results = ResultsFile.open(csv)) {
            results.write(run::run);
        }
        return new Ran(CsvRows.read(csv), run.enginePrefills());
    }

    @Test
    void ownPrefillsOncePerMethodAndDecodesAsTheSharedPrefillDoes() throws Exception {
        Ran shared = run("shared", METHODS, RulerRun.Prefill.SHARED, 2, false);
        Ran own = run("own", METHODS, RulerRun.Prefill.OWN, 2, false);
        assertEquals(2, shared.enginePrefills(), "shared: one prefill per sample");
        assertEquals(2 * METHODS.size(), own.enginePrefills(), "own: one prefill per sample and method");
        assertEquals(2 * METHODS.size(), own.rows().size());
        for (int sample = 0; sample < 2; sample++) {
            for (String m : METHODS) {
                String unit = m + " #" + sample;
                assertEquals(shared.row(m, sample).get("prediction"), own.row(m, sample).get("prediction"),
                        unit + ": a method's decode does not depend on whether its prefill was shared");
                assertEquals(shared.row(m, sample).get("attended_rows_mean"), own.row(m, sample).get("attended_rows_mean"), unit);
                assertEquals("prefill", own.row(m, sample).get("kv_fill"), unit + ": its own prefill");
                assertEquals(RulerRun.Prefill.SHARED_FILL, shared.row(m, sample).get("kv_fill"), unit);
            }
            int s = sample;
            // one shared prefill: every row carries its time; own prefills are timed apart
            assertEquals(1, METHODS.stream().map(m -> shared.row(m, s).get("prefill_ms")).distinct().count());
            assertTrue(METHODS.stream().map(m -> own.row(m, s).get("prefill_ms")).distinct().count() > 1,
                    "own: each row has its own prefill time: " + own.rows());
        }
    }

    @Test
    void ownPrefillsOnceForMethodsThatAskForTheSameStatistics() throws Exception {
        // full and StreamingLLM ask for no statistics: one prefill serves both, H2O's is its own,
        // whatever the order they are listed in
        List<String> methods = List.of("full", "h2o:k=64", "streamingllm:k=64");
        Ran own = run("own-grouped", methods, RulerRun.Prefill.OWN, 2, false);
        Ran shared = run("own-grouped-shared", methods, RulerRun.Prefill.SHARED, 2, false);
        assertEquals(2 * 2, own.enginePrefills(), "two distinct requests a sample");
        for (int sample = 0; sample < 2; sample++) {
            for (String m : methods) {
                assertEquals(shared.row(m, sample).get("prediction"), own.row(m, sample).get("prediction"), m + " #" + sample);
                assertEquals("prefill", own.row(m, sample).get("kv_fill"), m);
            }
            assertEquals(own.row("full", sample).get("prefill_ms"), own.row("streamingllm:k=64", sample).get("prefill_ms"),
                    "one prefill, timed once, for both");
            assertNotEquals(own.row("full", sample).get("prefill_ms"), own.row("h2o:k=64", sample).get("prefill_ms"));
        }
    }

    @Test
    void ownWithDiagnosticsDiagnosesTheDecodeOfEachMethodsOwnPrefill() throws Exception {
        List<String> methods = List.of("full", "h2o:k=64");
        Ran plain = run("own-plain", methods, RulerRun.Prefill.SHARED, 1, false);
        Ran diagnosed = run("own-diag", methods, RulerRun.Prefill.OWN, 1, true);
        assertEquals(methods.size(), diagnosed.enginePrefills(), "the diagnosed decode restores the method's own prefill");
        for (String m : methods) {
            assertEquals(plain.row(m, 0).get("prediction"), diagnosed.row(m, 0).get("prediction"), m);
            assertFalse(diagnosed.row(m, 0).get("answer_coverage_mean").isEmpty(), m + ": diagnosed");
            assertEquals("prefill", diagnosed.row(m, 0).get("kv_fill"), m);
        }
        assertEquals("1.0000", diagnosed.row("full", 0).get("answer_coverage_mean"));
    }

    @Test
    void sharedRowsSayWhetherTheirPrefillServedSeveralMethods() throws Exception {
        Ran one = run("shared-one", List.of("h2o:k=64", "llamacpp"), RulerRun.Prefill.SHARED, 1, false);
        assertEquals("prefill", one.row("h2o:k=64", 0).get("kv_fill"), "the only engine method: its own prefill");
        assertEquals("prefill", one.row("llamacpp", 0).get("kv_fill"), "llama.cpp prefills itself");
        Ran two = run("shared-two", List.of("full", "h2o:k=64", "llamacpp"), RulerRun.Prefill.SHARED, 1, false);
        assertEquals(1, two.enginePrefills());
        assertEquals(RulerRun.Prefill.SHARED_FILL, two.row("full", 0).get("kv_fill"), "it computed H2O's column sums too");
        assertEquals("prefill", two.row("h2o:k=64", 0).get("kv_fill"), "what it computed is what H2O asks for");
        assertEquals("prefill", two.row("llamacpp", 0).get("kv_fill"));
        Ran alike = run("shared-alike", List.of("full", "streamingllm:k=64"), RulerRun.Prefill.SHARED, 1, false);
        assertEquals("prefill", alike.row("full", 0).get("kv_fill"), "neither asks for statistics: the prefill is each one's own");
        assertEquals("prefill", alike.row("streamingllm:k=64", 0).get("kv_fill"));
        // resumed with a second engine method: the sample's prefill now serves that one alone
        Ran resumed = run("shared-one", List.of("h2o:k=64", "full", "llamacpp"), RulerRun.Prefill.SHARED, 1, false);
        assertEquals(3, resumed.rows().size());
        assertEquals("prefill", resumed.row("full", 0).get("kv_fill"));
        assertEquals(one.row("h2o:k=64", 0), resumed.row("h2o:k=64", 0), "the done row is kept");
    }

    /** The config's {@code prefill:} reaches the run, and anything but shared or own is refused before any work. */
    @Test
    void theConfigKeyReachesTheRun() throws Exception {
        String yaml = """
                name: %s
                models: [%s]
                methods: [full, "h2o:k=64"]
                tasks: [vt]
                lengths: [1024]
                seed: 5
                backend: cpu
                threads: 1
                max_tokens: 4
                %s
                """;
        Map<String, String> fills = new java.util.LinkedHashMap<>();
        for (String prefill : List.of("", "prefill: shared", "prefill: own")) {
            String name = "cli" + fills.size();
            Path cfg = Files.writeString(dir.resolve(name + ".yaml"), yaml.formatted(name, model, prefill));
            Path out = dir.resolve(name + ".csv");
            assertEquals(0, quietly("run", cfg.toString(), "--out", out.toString()), prefill);
            fills.put(prefill, CsvRows.read(out).stream().map(r -> r.get("kv_fill")).distinct().collect(Collectors.joining(",")));
        }
        // shared: full attention's prefill computed H2O's column sums too, H2O's is its own
        assertEquals(Map.of("", "prefill-shared,prefill", "prefill: shared", "prefill-shared,prefill", "prefill: own", "prefill"), fills);

        Path bad = Files.writeString(dir.resolve("bad.yaml"), yaml.formatted("bad", model, "prefill: per-method"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run("run", bad.toString(), "--out", dir.resolve("bad.csv").toString());
        } finally {
            System.setErr(old);
        }
        assertNotEquals(0, code);
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains("'prefill' must be one of [shared, own], not 'per-method'"), message);
        assertFalse(Files.exists(dir.resolve("bad.csv")), "nothing written for a bad config");
    }

    private static int quietly(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        try {
            return Main.run(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
