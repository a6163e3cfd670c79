package org.rbench.harness.run;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.core.reference.ContextShift;
import org.rbench.core.reference.LlamaReference;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.harness.Main;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;
import org.rbench.llamacpp.LlamaCpp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code llamacpp-shift} through stock llama_decode on tiny random models: it holds what
 * llama.cpp's server holds, runs past its context, equals plain llama.cpp when its context
 * covers the run, and runs in the RULER, bench and perplexity paths.
 */
class LlamaCppShiftTest {
    @TempDir
    static Path dir;
    /** One layer: a token's K/V depend only on the token and its position, so a shifted cache can be rebuilt fresh. */
    private static Path oneLayer;
    private static Path twoLayers;

    @BeforeAll
    static void init() throws Exception {
        LlamaCpp.initialise();
        oneLayer = dir.resolve("one-layer.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withLayers(1), oneLayer);
        twoLayers = dir.resolve("two-layers.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32), twoLayers);
    }

    private static int[] tokens(int n, int seed) {
        return IntStream.range(0, n).map(i -> (i * 131 + seed) % 512).toArray();
    }

    private static LlamaReference open(String spec, Path model, int contextSize) {
        return ((Method.Reference) Method.parse(spec)).open(model, contextSize, 1, false);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static int[] append(int[] a, int t) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = t;
        return out;
    }

    /**
     * A 50-token prompt in a context of 32 is truncated as the server truncates it, and 60
     * steps shift the context several times; after every step the logits are those of a fresh
     * llama.cpp fed the tokens the server would hold (ContextShift's arithmetic), up to the
     * re-rotation of the F16 keys (about 1e-3), where holding the wrong tokens (one more
     * discarded) is off by far more.
     */
    @Test
    void shiftedDecodeRunsPastItsContextHoldingWhatTheServerHolds() {
        int[] prompt = tokens(50, 7);
        int[] steps = tokens(60, 11);
        ContextShift rule = new ContextShift(32, 4);
        try (LlamaReference shifted = open("llamacpp-shift:k=32", oneLayer, 4096);
             LlamaReference fresh = open("llamacpp", oneLayer, 64)) {
            assertEquals(rule, shifted.contextShift());
            shifted.prefill(prompt, false);
            int[] held = rule.truncatePrompt(prompt);
            assertArrayEquals(held, shifted.prefilledTokens());
            assertTrue(held.length < 32 && held.length < prompt.length, "truncated to " + held.length);
            boolean wrongChecked = false;
            for (int t : steps) {
                boolean shifting = rule.needsShift(held.length);
                int[] wrong = null;
                if (shifting) {
                    wrong = append(dropAfter(held, rule.kept(), rule.discard(held.length) + 1), t);
                    held = rule.shifted(held);
                }
                float[] logits = shifted.step(t);
                held = append(held, t);
                assertEquals(held.length, shifted.position(), "llama.cpp holds as many tokens as the server");
                fresh.reset();
                double diff = maxAbsDiff(logits, fresh.prefill(held, false)[0]);
                assertTrue(diff < 1e-2, "after " + shifted.stepNanos().length + " steps: " + diff);
                if (wrong != null && !wrongChecked) {
                    fresh.reset();
                    double off = maxAbsDiff(logits, fresh.prefill(wrong, false)[0]);
                    assertTrue(off > 10 * diff && off > 0.05, "one token more discarded is off by " + off + " only");
                    wrongChecked = true;
                }
            }
            assertTrue(shifted.shifts() >= 3, "shifts: " + shifted.shifts());
            assertTrue(Arrays.stream(shifted.stepRows()).allMatch(r -> r <= 31), "a context of 32 attends at most 31 rows");
            assertTrue(wrongChecked);
        }
    }

    private static int[] dropAfter(int[] tokens, int keep, int discard) {
        int[] out = new int[tokens.length - discard];
        System.arraycopy(tokens, 0, out, 0, keep);
        System.arraycopy(tokens, keep + discard, out, keep, tokens.length - keep - discard);
        return out;
    }

    /**
     * With k above prompt + steps nothing is truncated or shifted: every logit equals plain
     * llama.cpp's (whose context holds the whole run). At k = prompt + steps the last step
     * shifts: like the server, a context of k holds at most k - 1 tokens.
     */
    @Test
    void aContextCoveringTheRunGivesPlainLlamaCppsLogits() {
        int[] prompt = tokens(40, 3);
        int[] steps = tokens(60, 5);
        try (LlamaReference plain = open("llamacpp", twoLayers, 4096);
             LlamaReference covering = open("llamacpp-shift:k=101", twoLayers, 4096);
             LlamaReference tight = open("llamacpp-shift:k=100", twoLayers, 4096)) {
            float[] p = plain.prefill(prompt, false)[0];
            assertArrayEquals(p, covering.prefill(prompt, false)[0]);
            tight.prefill(prompt, false);
            for (int i = 0; i < steps.length; i++) {
                float[] expected = plain.step(steps[i]);
                assertArrayEquals(expected, covering.step(steps[i]), "step " + i);
                float[] t = tight.step(steps[i]);
                if (i < steps.length - 1) {
                    assertArrayEquals(expected, t, "step " + i);
                }
            }
            assertEquals(0, covering.shifts());
            assertEquals(1, tight.shifts());
        }
    }

    /** Several decodes from one prefill: after a shift the prompt is decoded again, so the next decode starts alike. */
    @Test
    void rewindingAfterAShiftStartsFromThePrefillAgain() {
        int[] steps = tokens(30, 9);
        try (LlamaReference ref = open("llamacpp-shift:k=24,keep=2", twoLayers, 4096)) {
            ref.prefill(tokens(30, 1), false);
            int prefilled = ref.position();
            float[][] first = new float[steps.length][];
            for (int i = 0; i < steps.length; i++) {
                first[i] = ref.step(steps[i]);
            }
            assertTrue(ref.shifts() > 0);
            assertThrows(IllegalStateException.class, () -> ref.truncate(prefilled), "positions no longer match the prompt");
            ref.rewindToPrefill();
            assertEquals(prefilled, ref.position());
            for (int i = 0; i < steps.length; i++) {
                assertArrayEquals(first[i], ref.step(steps[i]), "step " + i + " after rewinding");
            }
        }
    }

    /** RULER, bench and perplexity runs take llamacpp-shift as a reference method through llama_decode. */
    @Test
    void theHarnessRunsItWhereItRunsLlamaCpp() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        Path model = dir.resolve("vocab.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withVocabulary(vocab), model);

        Path ruler = dir.resolve("ruler.yaml");
        Files.writeString(ruler, """
                models: [%s]
                methods: [llamacpp, "llamacpp-shift:k=300"]
                tasks: [vt]
                lengths: [1024]
                samples: 1
                backend: cpu
                threads: 1
                max_tokens: 8
                """.formatted(model));
        Path rulerCsv = dir.resolve("ruler.csv");
        assertEquals(0, Main.run("run", ruler.toString(), "--out", rulerCsv.toString()));
        Map<String, CSVRecord> rows = byMethod(rulerCsv);
        assertEquals(2, rows.size());
        CSVRecord shift = rows.get("llamacpp-shift:k=300");
        assertEquals("llamacpp-shift", shift.get("method_name"));
        assertTrue(Double.parseDouble(shift.get("attended_rows_mean")) <= 299, shift.get("attended_rows_mean"));
        assertTrue(Double.parseDouble(rows.get("llamacpp").get("attended_rows_mean")) > 800);

        Path ppl = dir.resolve("ppl.yaml");
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "It was the best of times, it was the worst of times. ".repeat(200));
        Files.writeString(ppl, """
                kind: ppl
                models: [%s]
                methods: [full, llamacpp, "llamacpp-shift:k=512", "llamacpp-shift:k=32"]
                tasks: [%s]
                lengths: [200]
                samples: 1
                max_tokens: 40
                backend: cpu
                threads: 1
                """.formatted(model, text));
        Path pplCsv = dir.resolve("ppl.csv");
        assertEquals(0, Main.run("run", ppl.toString(), "--out", pplCsv.toString()));
        Map<String, CSVRecord> ppls = byMethod(pplCsv);
        assertEquals(4, ppls.size());
        double full = nll(ppls.get("full"));
        double llama = nll(ppls.get("llamacpp"));
        assertEquals(full, llama, 1e-2 * Math.abs(full), "llama.cpp scores the text as the engine does");
        assertEquals(ppls.get("llamacpp").get("nll_sum"), ppls.get("llamacpp-shift:k=512").get("nll_sum"),
                "a context covering the text is plain llama.cpp");
        assertTrue(Math.abs(llama - nll(ppls.get("llamacpp-shift:k=32"))) > 1e-3, "a context of 32 changes it");
        assertEquals("40", ppls.get("llamacpp-shift:k=32").get("tokens_scored"));
        assertTrue(Double.parseDouble(ppls.get("llamacpp-shift:k=32").get("attended_rows_mean")) <= 31);

        Path benchCsv = dir.resolve("bench.csv");
        assertEquals(0, Main.run("bench", "--model", model.toString(), "--backend", "cpu", "--threads", "1", "--fill",
                "prefill", "--ctx", "64", "--tokens", "20", "--repeats", "2", "--warmup", "0",
                "--methods", "full,llamacpp,llamacpp-shift:k=48", "--out", benchCsv.toString()));
        List<CSVRecord> bench = records(benchCsv);
        assertEquals(3 * 2, bench.size(), "methods x repeats");
        for (CSVRecord r : bench) {
            double attended = Double.parseDouble(r.get("attended_rows_mean"));
            switch (r.get("method")) {
                case "llamacpp" -> assertEquals(64 + 21 / 2.0, attended, 1e-9);
                case "llamacpp-shift:k=48" -> assertTrue(attended < 48, "attended " + attended);
                default -> {
                }
            }
        }
    }

    @Test
    void rbenchMethodsListsIt() {
        java.io.PrintStream old = System.out;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run("methods"));
        } finally {
            System.setOut(old);
        }
        String listed = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(listed.contains("llamacpp-shift") && listed.contains("keep=4") && listed.contains("oracle"), listed);
    }

    private static double nll(CSVRecord r) {
        return Double.parseDouble(r.get("nll_sum"));
    }

    private static Map<String, CSVRecord> byMethod(Path csv) throws Exception {
        Map<String, CSVRecord> out = new HashMap<>();
        for (CSVRecord r : records(csv)) {
            out.put(r.get("method"), r);
        }
        return out;
    }

    private static List<CSVRecord> records(Path csv) throws Exception {
        try (var reader = Files.newBufferedReader(csv)) {
            return new ArrayList<>(CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(reader)
                    .getRecords());
        }
    }
}
