package org.rbench.harness;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code rbench bench --methods ...,llama-bench}: llama-bench, here a fake that prints the pinned
 * release's jsonl for what it was asked (2 ms a token), runs beside the engine and llama.cpp,
 * its rows go into the same CSV and the table ends with every method's tokens/s against it.
 */
class BenchLlamaBenchTest {
    /** Answers with one test of what it was asked, n_gen x 2 ms, and logs each call's arguments. */
    private static Path fakeLlamaBench(Path dir) throws Exception {
        Path p = dir.resolve("llama-bench");
        Files.writeString(p, """
                #!/bin/sh
                echo "$@" >> "$(dirname "$0")/calls.txt"
                while [ $# -gt 0 ]; do case "$1" in -n) n=$2;; -d) d=$2;; -t) t=$2;; esac; shift; done
                echo "{\\"build_commit\\": \\"unknown\\", \\"backends\\": \\"CPU\\", \\"n_threads\\": $t, \\"type_k\\": \\"f16\\", \
                \\"type_v\\": \\"f16\\", \\"flash_attn\\": 1, \\"n_prompt\\": 0, \\"n_gen\\": $n, \\"n_depth\\": $d, \
                \\"samples_ns\\": [ $((n * 2000000)) ], \\"samples_ts\\": [ 500.0 ]}"
                """);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** {@code bench} of the methods on a tiny model (tiny.gguf) at 64 tokens, 3 generated, beside the fake, into bench.csv. */
    private static CliRun.Result benchBesideTheFake(Path dir, int repeats, String methods) throws Exception {
        TinyModel.write(dir.resolve("tiny.gguf"));
        return CliRun.run("bench", "--model", dir.resolve("tiny.gguf").toString(), "--backend", "cpu", "--threads", "1",
                "--fill", "prefill", "--ctx", "64", "--tokens", "3", "--repeats", Integer.toString(repeats), "--methods", methods,
                "--llama-bench", fakeLlamaBench(dir).toString(), "--out", dir.resolve("bench.csv").toString());
    }

    @Test
    void runsBesideTheEngineAndPrintsTheRatios(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        Path csv = dir.resolve("bench.csv");
        CliRun.Result r = benchBesideTheFake(dir, 2, "full,llamacpp,llama-bench");
        assertEquals(0, r.code(), r.err());
        List<String> calls = Files.readAllLines(dir.resolve("calls.txt"));
        assertEquals(2, calls.size(), "one llama-bench run a repetition, none for the warm-up: " + calls);
        assertEquals("-m " + model + " -p 0 -n 3 -d 64 -t 1 -fa 1 -ctk f16 -ctv f16 -r 1 -o jsonl -ngl 0 -dev none", calls.getFirst());
        try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(Files.newBufferedReader(csv))) {
            List<CSVRecord> rows = p.getRecords();
            assertEquals(6, rows.size(), "3 methods x 2 repetitions");
            List<CSVRecord> lb = rows.stream().filter(x -> x.get("method").equals("llama-bench")).toList();
            assertEquals(2, lb.size());
            for (CSVRecord x : lb) {
                assertEquals("2.0000", x.get("decode_ms_mean"));
                assertEquals("3", x.get("tokens_generated"));
                assertEquals("", x.get("decode_ms_p50"), "llama-bench times only the whole generation");
                assertEquals("", x.get("prefill_ms"));
                assertEquals("66.0000", x.get("attended_rows_mean"));
                assertEquals("prefill", x.get("kv_fill"));
            }
            assertNotEquals("", rows.stream().filter(x -> x.get("method").equals("full")).findFirst().orElseThrow().get("decode_ms_p50"));
        }
        String line = r.out().lines().filter(l -> l.startsWith("tokens/s against llama-bench")).findFirst().orElse("");
        assertTrue(line.startsWith("tokens/s against llama-bench (2.00 ms/token), tg3 @ d64: full ")
                && line.contains(", llamacpp "), r.out());
        double fullMs = r.out().lines().filter(l -> l.startsWith("64 ") && l.contains(" full ")).map(l -> l.trim().split("\\s+")[5])
                .mapToDouble(Double::parseDouble).findFirst().orElseThrow();
        // the table prints ms/token to 2 decimals and the ratio from the unrounded figure: equal within that rounding
        java.util.regex.Matcher ratio = java.util.regex.Pattern.compile("full (\\d+\\.\\d+)x").matcher(line);
        assertTrue(ratio.find(), line);
        double printed = Double.parseDouble(ratio.group(1));
        assertTrue(printed >= 2.0 / (fullMs + 0.005) - 0.005 && printed <= 2.0 / (fullMs - 0.005) + 0.005, line + " vs " + fullMs);
    }

    /**
     * {@code llama-bench:depth=0} runs llama-bench on an empty context at every length, so a
     * long context's methods are compared with the speed they would reach without one.
     */
    @Test
    void atAFixedDepthItDecodesThereAtEveryLength(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("bench.csv");
        CliRun.Result r = benchBesideTheFake(dir, 1, "full,llama-bench,llama-bench:depth=0");
        assertEquals(0, r.code(), r.err());
        List<String> calls = Files.readAllLines(dir.resolve("calls.txt"));
        assertEquals(2, calls.size(), calls.toString());
        assertTrue(calls.stream().anyMatch(c -> c.contains(" -d 64 ")) && calls.stream().anyMatch(c -> c.contains(" -d 0 ")), calls.toString());
        try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(Files.newBufferedReader(csv))) {
            CSVRecord empty = p.getRecords().stream().filter(x -> x.get("method").equals("llama-bench:depth=0")).findFirst().orElseThrow();
            assertEquals("64", empty.get("length"), "kept with the length it is compared at");
            assertEquals("2.0000", empty.get("attended_rows_mean"), "depth 0 plus half the generated tokens");
        }
        assertTrue(r.out().contains("tokens/s against llama-bench (2.00 ms/token), tg3 @ d64: full "), r.out());
        assertTrue(r.out().contains("tokens/s against llama-bench:depth=0 (2.00 ms/token), tg3 @ d64 (llama-bench at d0): full "), r.out());
        CliRun.Result bad = CliRun.run("bench", "--model", dir.resolve("tiny.gguf").toString(), "--fill", "prefill", "--ctx", "64",
                "--methods", "full,llama-bench:depth=-1", "--llama-bench", dir.resolve("llama-bench").toString(),
                "--out", dir.resolve("b.csv").toString());
        assertNotEquals(0, bad.code());
        assertTrue(bad.err().contains("depth must be 0 or more"), bad.err());
    }

    /** It prefills its own context, so it also runs beside a synthetic cache: the comparison a 128K decode needs. */
    @Test
    void runsBesideASyntheticCache(@TempDir Path dir) throws Exception {
        TinyModel.write(dir.resolve("tiny.gguf"));
        CliRun.Result r = CliRun.run("bench", "--model", dir.resolve("tiny.gguf").toString(), "--backend", "cpu", "--threads", "1",
                "--fill", "synthetic", "--ctx", "64", "--tokens", "3", "--repeats", "1", "--methods", "full,llama-bench:depth=0",
                "--llama-bench", fakeLlamaBench(dir).toString(), "--out", dir.resolve("bench.csv").toString());
        assertEquals(0, r.code(), r.err());
        List<java.util.Map<String, String>> rows = CsvRows.read(dir.resolve("bench.csv"));
        assertEquals("synthetic", rows.stream().filter(x -> x.get("method").equals("full")).findFirst().orElseThrow().get("kv_fill"));
        assertEquals("prefill", rows.stream().filter(x -> x.get("method").equals("llama-bench:depth=0")).findFirst().orElseThrow()
                .get("kv_fill"), "llama-bench's own context is a real prefill, not the synthetic rows");
        assertTrue(r.out().contains("tokens/s against llama-bench:depth=0 (2.00 ms/token), tg3 @ d64 (llama-bench at d0): full "), r.out());
    }

    @Test
    void refusesWhatItCannotRunBeforeMeasuring(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        TinyModel.write(model);
        Path csv = dir.resolve("bench.csv");
        CliRun.Result missing = CliRun.run("bench", "--model", model.toString(), "--backend", "cpu", "--threads", "1", "--fill", "prefill",
                "--ctx", "64", "--tokens", "3", "--methods", "full,llama-bench", "--llama-bench", dir.resolve("none").toString(),
                "--out", csv.toString());
        assertNotEquals(0, missing.code());
        assertTrue(missing.err().contains("scripts/build-llama-bench.sh"), missing.err());
        assertTrue(!missing.err().contains("tokens in the cache"), "refused before any fill: " + missing.err());
        CliRun.Result synthetic = CliRun.run("bench", "--model", model.toString(), "--ctx", "64", "--methods", "full,llamacpp",
                "--out", csv.toString());
        assertNotEquals(0, synthetic.code());
        assertTrue(synthetic.err().contains("llamacpp needs --fill prefill"), synthetic.err());
    }
}
