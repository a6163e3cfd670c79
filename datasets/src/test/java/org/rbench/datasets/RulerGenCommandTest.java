package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RulerGenCommandTest {

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    private int run(Tokenizer tokenizer, String... args) {
        return RulerGenCommand.run(args, tokenizer, out, err);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    private String sources() {
        return TestData.resource("/sources").toString();
    }

    @Test
    void writesSamplesPerLengthAndTaskAndReportsSkippedQa(@TempDir Path dir) throws IOException {
        int status = run(ApproximateTokenizer.spmLike(), "--tasks", "niah_single_1,vt,qa_1,qa_2", "--lengths", "2K,4096",
                "--samples", "2", "--seed", "7", "--out", dir.toString(), "--sources", sources(), "--token-ids",
                "--squad", TestData.resource("/qa/squad-dev-mini.json").toString());
        assertEquals(0, status, err());
        for (String length : List.of("2048", "4096")) {
            for (String task : List.of("niah_single_1", "vt", "qa_1")) {
                assertEquals(2, Files.readAllLines(dir.resolve(length).resolve(task + ".jsonl")).size());
                assertEquals(2, Files.readAllLines(dir.resolve(length).resolve(task + ".ids.jsonl")).size());
            }
            assertFalse(Files.exists(dir.resolve(length).resolve("qa_2.jsonl")));
        }
        List<String> summary = Files.readAllLines(dir.resolve("summary.tsv"));
        assertTrue(summary.getFirst().startsWith("# ruler-gen tokenizer=approx-llama-spm seed=7"));
        assertTrue(summary.stream().anyMatch(l -> l.startsWith("qa_2\t4096\tskipped\t0\t") && l.contains("--hotpotqa FILE")));
        assertTrue(summary.stream().anyMatch(l -> l.startsWith("qa_1\t4096\tgenerated\t2\t")));
        assertTrue(outBytes.toString(StandardCharsets.UTF_8).contains("qa_2               4096  skipped"));
    }

    @Test
    void theSameArgumentsGiveByteIdenticalOutput(@TempDir Path dir) throws IOException {
        String[] args = {"--tasks", "all", "--lengths", "4096", "--samples", "2", "--sources", sources()};
        assertEquals(0, run(ApproximateTokenizer.bpeLike(), concat(args, "--out", dir.resolve("a").toString())), err());
        assertEquals(0, run(ApproximateTokenizer.bpeLike(), concat(args, "--out", dir.resolve("b").toString())), err());
        assertEquals(0, run(ApproximateTokenizer.bpeLike(), concat(args, "--seed", "1", "--out", dir.resolve("c").toString())), err());
        for (RulerTask task : TestData.offlineTasks()) {
            byte[] a = Files.readAllBytes(dir.resolve("a/4096/" + task.id() + ".jsonl"));
            assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/4096/" + task.id() + ".jsonl")), task.id());
            assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c/4096/" + task.id() + ".jsonl"))), task.id());
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/summary.tsv")), Files.readAllBytes(dir.resolve("b/summary.tsv")));
    }

    @Test
    void anUnknownTaskIsAUsageError(@TempDir Path dir) {
        assertEquals(2, run(ApproximateTokenizer.spmLike(), "--tasks", "niah_single_9", "--out", dir.toString()));
        assertTrue(err().contains("unknown RULER task 'niah_single_9'"), err());
        assertTrue(err().contains("niah_single_1, niah_single_2"), "lists the known tasks");
    }

    @Test
    void otherBadArgumentsAreUsageErrors(@TempDir Path dir) throws IOException {
        assertEquals(2, run(ApproximateTokenizer.spmLike(), "--tasks", "vt"));
        assertTrue(err().contains("Missing required option: '--out=DIR'"), err());
        assertTrue(err().contains("Usage: ruler-gen "), "usage errors print the usage");
        assertEquals(2, run(ApproximateTokenizer.spmLike(), "--lengths", "4x", "--out", dir.toString()));
        assertTrue(err().contains("--lengths: '4x' is not a length in tokens"), err());
        assertEquals(2, run(ApproximateTokenizer.spmLike(), "--samples", "0", "--out", dir.toString()));
        assertTrue(err().contains("--samples must be at least 1, not 0"), err());
        assertEquals(2, run(ApproximateTokenizer.spmLike(), "--samples", "many", "--out", dir.toString()));
        assertTrue(err().contains("Invalid value for option '--samples': 'many' is not an int"), err());
        assertEquals(2, run(ApproximateTokenizer.spmLike(), "--bogus", "--out", dir.toString()));
        assertTrue(err().contains("Unknown option: '--bogus'"), err());
        assertEquals(2, run(ApproximateTokenizer.spmLike(), "--seed", "--out", dir.toString()));
        assertTrue(err().contains("Expected parameter for option '--seed' but found '--out'"), err());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "nothing is written after a usage error");
        }
    }

    @Test
    void helpListsTheOptionsTheTasksAndTheDefaults() {
        assertEquals(0, run(ApproximateTokenizer.spmLike(), "--help"));
        String help = outBytes.toString(StandardCharsets.UTF_8);
        assertTrue(help.startsWith("Usage: ruler-gen "), help);
        for (String option : List.of("--tokenizer", "--out", "--tasks", "--lengths", "--samples", "--seed", "--chat",
                "--squad", "--hotpotqa", "--sources", "--token-ids", "--full-counts")) {
            assertTrue(help.contains(option), option);
        }
        for (RulerTask task : RulerTask.values()) {
            assertTrue(help.contains(task.id()), task.id());
        }
        assertTrue(help.contains("Default: 4K,8K,16K,32K"), help);
        assertTrue(help.contains("Default: 500"), help);
        assertEquals("", err());
    }

    @Test
    void aTargetTooShortForTheTemplateIsAClearError(@TempDir Path dir) {
        assertEquals(1, run(ApproximateTokenizer.spmLike(), "--tasks", "vt", "--lengths", "200", "--samples", "1",
                "--out", dir.toString()));
        assertTrue(err().contains("task vt: target length 200 is too short for the template"), err());
        assertEquals(1, run(ApproximateTokenizer.spmLike(), "--tasks", "cwe", "--lengths", "100", "--samples", "1",
                "--out", dir.toString(), "--sources", sources()));
        assertTrue(err().contains("task cwe: target length 100 leaves no room for a prompt"), err());
        assertEquals(1, run(ApproximateTokenizer.spmLike(), "--tasks", "fwe", "--lengths", "230", "--samples", "1",
                "--out", dir.toString()));
        assertTrue(err().contains("fwe: target length 230 is too short"), err());
    }

    @Test
    void aMissingDatasetPathIsAClearError(@TempDir Path dir) {
        assertEquals(1, run(ApproximateTokenizer.spmLike(), "--tasks", "qa_1", "--out", dir.toString(),
                "--squad", dir.resolve("nowhere.json").toString()));
        assertTrue(err().contains("SQuAD file not found: " + dir.resolve("nowhere.json")), err());
        assertEquals(1, run(ApproximateTokenizer.spmLike(), "--tasks", "qa_2", "--out", dir.toString(),
                "--hotpotqa", dir.resolve("nowhere.json").toString()));
        assertTrue(err().contains("HotpotQA file not found"), err());
    }

    @Test
    void missingSourcesNameTheInstallScript(@TempDir Path dir) {
        assertEquals(1, run(ApproximateTokenizer.spmLike(), "--tasks", "niah_single_2", "--out", dir.resolve("out").toString(),
                "--sources", dir.resolve("empty").toString()));
        assertTrue(err().contains("datasets/scripts/install-sources.sh"), err());
        assertTrue(err().contains("essay prose (for niah_single_2)"), err());
        // Tasks that need no sources still run.
        assertEquals(0, run(ApproximateTokenizer.spmLike(), "--tasks", "vt,fwe,niah_multikey_3", "--lengths", "4096",
                "--samples", "1", "--out", dir.resolve("out").toString(), "--sources", dir.resolve("empty").toString()), err());
    }

    @Test
    void aVocabularyThatCannotBeLoadedIsAClearError(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("ggml-vocab-llama-bpe.gguf");
        int status = RulerGenCommand.run(new String[] {"--tokenizer", missing.toString(), "--out", dir.toString()},
                path -> ApproximateTokenizer.bpeLike(), out, err);
        assertEquals(1, status);
        assertTrue(err().contains("vocabulary file not found: " + missing), err());

        Path broken = Files.writeString(dir.resolve("broken.gguf"), "not a gguf");
        status = RulerGenCommand.run(new String[] {"--tokenizer", broken.toString(), "--out", dir.toString()},
                path -> {
                    throw new IllegalStateException("bad magic");
                }, out, err);
        assertEquals(1, status);
        assertTrue(err().contains("cannot load vocabulary " + broken + ": bad magic"), err());

        status = RulerGenCommand.run(new String[] {"--out", dir.toString()}, path -> null, out, err);
        assertEquals(1, status);
        assertTrue(err().contains("no vocabulary given: pass --tokenizer FILE"), err());
    }

    @Test
    void chatNeedsAChatTemplate(@TempDir Path dir) {
        assertEquals(1, run(ApproximateTokenizer.spmLike(), "--chat", "--tasks", "vt", "--out", dir.toString()));
        assertTrue(err().contains("has no chat template"), err());
        Tokenizer withChat = new Tokenizer() {
            private final Tokenizer base = ApproximateTokenizer.bpeLike();

            @Override
            public int[] encode(String text) {
                return base.encode(text);
            }

            @Override
            public String name() {
                return "chatty";
            }

            @Override
            public java.util.Optional<ChatFormatter> chatFormatter() {
                return java.util.Optional.of(ChatFormatter.fromPattern("[INST] {message} [/INST]"));
            }
        };
        assertEquals(0, run(withChat, "--chat", "--tasks", "vt", "--lengths", "4096", "--samples", "1", "--out", dir.toString()));
    }

    @Test
    void promptsAreCountedPiecewiseUnlessFullCountsAreAsked(@TempDir Path dir) throws IOException {
        String[] args = {"--tasks", "niah_single_2", "--lengths", "16K", "--samples", "3", "--sources", sources()};
        assertEquals(0, run(ApproximateTokenizer.spmLike(), concat(args, "--out", dir.resolve("a").toString())), err());
        assertTrue(outBytes.toString(StandardCharsets.UTF_8).contains("piecewise counts: "));
        outBytes.reset();
        assertEquals(0, run(ApproximateTokenizer.spmLike(), concat(args, "--full-counts", "--out", dir.resolve("b").toString())), err());
        assertTrue(outBytes.toString(StandardCharsets.UTF_8).contains(", full counts)"));
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/16384/niah_single_2.jsonl")),
                Files.readAllBytes(dir.resolve("b/16384/niah_single_2.jsonl")));
    }

    @Test
    void lengthsAcceptAKSuffix() {
        assertEquals(List.of(4096, 8192, 131072, 5000), RulerGenCommand.parseLengths("4K, 8k,128K,5000"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
