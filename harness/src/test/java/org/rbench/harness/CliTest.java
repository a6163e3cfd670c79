package org.rbench.harness;

import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    @Test
    void infoPrintsVersionBackendAndLayoutCheck() {
        CliRun.Result r = CliRun.run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("v0.4.0"), r.out());
        assertTrue(r.out().contains("layout check   OK"), r.out());
        assertTrue(r.out().toLowerCase().contains("cpu"), r.out());
    }

    @Test
    void tokenizeWithABundledVocabulary() {
        CliRun.Result r = CliRun.run("tokenize", "--vocab", "llama-bpe", "--text", "Hello world");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("[128000, 9906, 1917]"), r.out());
    }

    @Test
    void missingModelFileIsAClearErrorAndNonZeroExit() {
        CliRun.Result r = CliRun.run("tokenize", "--model", "/no/such/model.gguf", "--text", "x");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("not found"), r.err());
    }

    @Test
    void unknownVocabularyListsTheAvailableOnes() {
        CliRun.Result r = CliRun.run("tokenize", "--vocab", "nope", "--text", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("llama-bpe"), r.err());
    }

    @Test
    void reportAndCompareRunFromTheCli(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path fixtures = java.nio.file.Path.of("..", "analysis", "src", "test", "resources", "fixtures");
        CliRun.Result r = CliRun.run("report", fixtures.resolve("report_ruler_ppl.csv").toString(), "--out", dir.resolve("rep").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(java.nio.file.Files.isRegularFile(dir.resolve("rep/summary.md")));
        CliRun.Result same = CliRun.run("compare", fixtures.resolve("compare_baseline.csv").toString(),
                fixtures.resolve("compare_candidate_noise.csv").toString(), "--report", dir.resolve("c.md").toString());
        assertEquals(0, same.code(), same.err());
        CliRun.Result worse = CliRun.run("compare", fixtures.resolve("compare_baseline.csv").toString(),
                fixtures.resolve("compare_candidate_regression.csv").toString(), "--report", dir.resolve("d.md").toString());
        assertEquals(1, worse.code(), "a regression fails the nightly gate");
        CliRun.Result none = CliRun.run("compare");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("Usage: rbench compare "), none.err());
        assertEquals(2, CliRun.run("report", "--out", dir.resolve("rep2").toString()).code());
    }

    @Test
    void rulerGenWithABundledVocabularyIsDeterministic(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String[] common = {"--tokenizer", "llama-bpe", "--tasks", "vt,fwe", "--lengths", "4K", "--samples", "2", "--seed", "3"};
        CliRun.Result a = CliRun.run(concat(new String[] {"ruler-gen", "--out", dir.resolve("a").toString()}, common));
        assertEquals(0, a.code(), a.err());
        CliRun.Result b = CliRun.run(concat(new String[] {"ruler-gen", "--out", dir.resolve("b").toString()}, common));
        assertEquals(0, b.code(), b.err());
        java.nio.file.Path fa = dir.resolve("a/4096/vt.jsonl"), fb = dir.resolve("b/4096/vt.jsonl");
        assertTrue(java.nio.file.Files.size(fa) > 1000);
        assertEquals(-1L, java.nio.file.Files.mismatch(fa, fb), "same seed, same bytes");
        CliRun.Result bad = CliRun.run("ruler-gen", "--tokenizer", "llama-bpe", "--tasks", "niah_single_9", "--lengths", "4K",
                "--out", dir.resolve("c").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("niah_single_9"), bad.err());
        CliRun.Result help = CliRun.run("ruler-gen", "--help");
        assertEquals(0, help.code(), help.err());
        assertTrue(help.out().startsWith("Usage: rbench ruler-gen "), help.out());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void badSweepInputIsAClearErrorAndWritesNoCsv(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path out = dir.resolve("r.csv");
        String good = "methods: [full]\ntasks: [vt]\nlengths: [1024]\nbackend: cpu\nthreads: 1\n";
        String[][] cases = {
                {"methods: [full\n", "malformed YAML"},
                {good.replace("[full]", "[fulll]"), "unknown method 'fulll'"},
                {good.replace("[full]", "[\"recycled:k=8,stride=2\"]"), "unknown parameter 'stride'"},
                {good.replace("[vt]", "[vtt]"), "vtt"},
                {good + "models: [/no/such/model.gguf]\n", "not found"},
        };
        for (String[] c : cases) {
            java.nio.file.Path cfg = dir.resolve("c.yaml");
            java.nio.file.Files.writeString(cfg, c[0]);
            CliRun.Result r = CliRun.run("run", cfg.toString(), "--out", out.toString());
            assertTrue(r.code() != 0, "exit code for " + c[1]);
            assertTrue(r.err().contains(c[1]), "expected '" + c[1] + "' in: " + r.err());
            assertTrue(!java.nio.file.Files.exists(out), "no CSV for a config that fails validation");
        }
        // An output whose parent is a regular file cannot be created (root ignores permission bits).
        java.nio.file.Path notADir = java.nio.file.Files.writeString(dir.resolve("file"), "x");
        java.nio.file.Path cfg = dir.resolve("ok.yaml");
        java.nio.file.Files.writeString(cfg, good + "models: [" + made(dir) + "]\n");
        CliRun.Result r = CliRun.run("run", cfg.toString(), "--out", notADir.resolve("r.csv").toString());
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("file"), r.err());
    }

    @Test
    void methodOptionsAreParsedWithTheCommandLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        // a bad method is a usage error (exit 2) before any model is opened
        CliRun.Result unknown = CliRun.run("bench", "--model", "/no/such/model.gguf", "--ctx", "64", "--out", "/no/such/dir/r.csv",
                "--methods", "full,fulll");
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().contains("unknown method 'fulll'"), unknown.err());
        CliRun.Result badParameter = CliRun.run("ppl", "--methods", "full,recycled:k=8,stride=2");
        assertEquals(2, badParameter.code(), badParameter.err());
        assertTrue(badParameter.err().contains("unknown parameter 'stride'"), badParameter.err());
        CliRun.Result reference = CliRun.run("generate", "--prompt", "x", "--method", "llamacpp");
        assertEquals(2, reference.code(), reference.err());
        assertTrue(reference.err().contains("'llamacpp' is the stock llama_decode path"), reference.err());
        CliRun.Result policy = CliRun.run("bench-policy", "--methods", "h2o:k=64,llamacpp");
        assertEquals(2, policy.code(), policy.err());
        assertTrue(policy.err().contains("'llamacpp' is the stock llama_decode path"), policy.err());
        // checked before the model is opened, so any regular file passes for one
        java.nio.file.Path notAModel = java.nio.file.Files.writeString(dir.resolve("m.gguf"), "x");
        CliRun.Result synthetic = CliRun.run("bench", "--model", notAModel.toString(), "--ctx", "64", "--out", dir.resolve("r.csv").toString(),
                "--methods", "full,llamacpp");
        assertEquals(1, synthetic.code(), synthetic.err());
        assertTrue(synthetic.err().contains("llamacpp needs --fill prefill"), synthetic.err());
        CliRun.Result noFull = CliRun.run("bench", "--model", notAModel.toString(), "--ctx", "64", "--out", dir.resolve("r.csv").toString(),
                "--methods", "h2o:k=8", "--fill", "prefill");
        assertEquals(1, noFull.code(), noFull.err());
        assertTrue(noFull.err().contains("must include full"), noFull.err());
    }

    @Test
    void makeModelParityAndGenerate(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        String model = dir.resolve("m.gguf").toString();
        CliRun.Result made = CliRun.run("make-model", "--like", "tiny-llama", "--type", "q8_0", "--vocab", "llama-spm", "--out", model);
        assertEquals(0, made.code(), made.err());
        CliRun.Result parity = CliRun.run("parity", "--model", model, "--tokens", "64", "--steps", "8", "--method", "recycled:k=512,s=3");
        assertEquals(0, parity.code(), parity.err());
        assertTrue(parity.out().contains("PASS"), parity.out());
        CliRun.Result off = CliRun.run("parity", "--model", model, "--tokens", "64", "--steps", "8", "--method", "streamingllm:k=16");
        assertEquals(1, off.code(), "a budget below the context differs from llama_decode: " + off.out());
        CliRun.Result gen = CliRun.run("generate", "--model", model, "--prompt", "Once upon a time", "--max-tokens", "5",
                "--method", "h2o:k=8", "--backend", "cpu", "--threads", "1");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.err().contains("ms/token"), gen.err());
        CliRun.Result unknown = CliRun.run("make-model", "--like", "gpt-5", "--out", model);
        assertTrue(unknown.code() != 0);
        assertTrue(unknown.err().contains("unknown model preset"), unknown.err());
    }

    @Test
    void benchResumesWithoutRefillingALengthWhoseRowsAreAllDone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String model = made(dir);
        String csv = dir.resolve("bench.csv").toString();
        String[] args = {"bench", "--model", model, "--backend", "cpu", "--threads", "1", "--fill", "prefill",
                "--ctx", "64,96", "--tokens", "3", "--repeats", "2", "--methods", "full,llamacpp,recycled:k=16,s=2",
                "--out", csv, "--steps-out", dir.resolve("steps.csv").toString()};
        CliRun.Result first = CliRun.run(args);
        assertEquals(0, first.code(), first.err());
        assertTrue(first.err().contains("warm-up prefill of 64 tokens (not recorded)"), first.err());
        assertTrue(first.out().contains("of line: speedup over the bound of full attention's own line")
                && first.out().contains("fitted over 2 lengths"), first.out());
        long rows = java.nio.file.Files.readAllLines(java.nio.file.Path.of(csv)).size();
        assertEquals(1 + 2 * 2 * 3, rows, "header + lengths x repeats x methods");
        java.util.List<String> steps = java.nio.file.Files.readAllLines(dir.resolve("steps.csv"));
        assertEquals(1 + 2 * 2 * 3 * 3, steps.size(), "header + one line per decode step");
        assertTrue(steps.stream().anyMatch(l -> l.startsWith("96,\"recycled:k=16,s=2\",1,2,")), steps.toString());
        CliRun.Result again = CliRun.run(args);
        assertEquals(0, again.code(), again.err());
        assertEquals(rows, java.nio.file.Files.readAllLines(java.nio.file.Path.of(csv)).size());
        assertTrue(again.err().contains("64 tokens: every row already in") && again.err().contains("96 tokens: every row already in"),
                again.err());
        assertTrue(!again.err().contains("tokens in the cache"), "a finished length is not filled again: " + again.err());
        assertTrue(!again.err().contains("warm-up prefill"), "nothing left to measure, nothing to warm up: " + again.err());
    }

    @Test
    void benchSelectTimesTheFullStepPieces() {
        CliRun.Result r = CliRun.run("bench-select", "--backend", "cpu", "--threads", "1", "--ctx", "500", "--heads", "4", "--kv-heads", "2",
                "--head-dim", "16", "--k", "32", "--layers", "3", "--repeats", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("top rows of 3 layers at once, top_k, ties ordered") && r.out().contains("top rows of 3 layers at once, sort")
                && r.out().contains("selected alone, in the batch by top_k and by sorting, the layer selects the same rows"), r.out());
    }

    @Test
    void benchPolicyTimesAHostPolicyAndRefusesDeviceOnes(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String csv = dir.resolve("policy.csv").toString();
        CliRun.Result r = CliRun.run("bench-policy", "--methods", "h2o:k=64,h2o:heavy=8,recent=24", "--ctx", "300,500", "--layers", "2",
                "--heads", "4", "--kv-heads", "2", "--head-dim", "8", "--steps", "5", "--repeats", "2", "--out", csv);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("h2o:k=64") && r.out().contains("h2o:heavy=8,recent=24") && r.out().contains("500"), r.out());
        assertEquals(1 + 2 * 2 * 2, java.nio.file.Files.readAllLines(java.nio.file.Path.of(csv)).size(),
                "header + lengths x methods x repeats");
        CliRun.Result device = CliRun.run("bench-policy", "--methods", "recycled:k=64,s=4", "--ctx", "300", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--head-dim", "8", "--steps", "3", "--repeats", "1");
        assertTrue(device.code() != 0);
        assertTrue(device.err().contains("an engine: use bench"), device.err());
    }

    @Test
    void warmupRunsEveryMethodOnATinyModel() {
        CliRun.Result r = CliRun.run("warmup");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("rbench warmup: done"), r.out());
    }

    private static String made(java.nio.file.Path dir) throws Exception {
        java.nio.file.Path m = dir.resolve("tiny.gguf");
        TinyModel.write(m);
        return m.toString();
    }
}
