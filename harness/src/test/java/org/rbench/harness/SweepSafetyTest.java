package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.core.attention.Strategies;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.run.Method;
import org.rbench.harness.run.Models;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sweep never damages results silently: a second run of the same CSV is refused, a bad
 * model leaves no CSV behind, and its errors say what is wrong in the user's terms.
 */
class SweepSafetyTest {
    @TempDir
    Path dir;

    private Path model(int contextLength) throws Exception {
        Path m = dir.resolve("tiny-" + contextLength + ".gguf");
        if (!Files.exists(m)) {
            RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(contextLength)
                    .withVocabulary(LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf")), m);
        }
        return m;
    }

    /** A sweep config of one small sample per model, in its own file. */
    private Path config(String models, int length) throws Exception {
        Path cfg = Files.createTempFile(dir, "c", ".yaml");
        Files.writeString(cfg, """
                models: [%s]
                methods: [full]
                tasks: [niah_single_1]
                lengths: [%d]
                samples: 1
                backend: cpu
                threads: 1
                max_tokens: 2
                """.formatted(models, length));
        return cfg;
    }

    @Test
    void aSecondRunIntoAFileThatAnotherRunIsWritingIsRefused() throws Exception {
        Path cfg = config(model(512).toString(), 256);
        Path out = dir.resolve("busy.csv");
        try (ResultsFile first = ResultsFile.open(out)) {
            first.append(Map.of("kind", "ruler", "method", "full", "task", "vt", "length", "1024", "sample_index", "0"));
            // (not read here while it is open: closing any other descriptor of the file would drop this process's lock)
            // another process, as two shell sessions would be
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    "org.rbench.harness.Main", "run", cfg.toString(), "--out", out.toString()));
            Path log = dir.resolve("second.log");
            Process second = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(second.waitFor(120, TimeUnit.SECONDS));
            String said = Files.readString(log);
            assertEquals(1, second.exitValue(), said);
            assertTrue(said.contains("another") && said.contains(out.toString()), said);
        }
        try (ResultsFile after = ResultsFile.open(out)) {
            assertEquals(1, after.completedRows(), "the second run wrote nothing");
        }
        assertEquals(2, Files.readAllLines(out).size(), "header and the first run's row");
    }

    @Test
    void aBadModelLeavesNoCsvAndKeepsAnExistingOne() throws Exception {
        Path garbage = Files.write(dir.resolve("garbage.gguf"), "not a model at all, just some text\n".repeat(4).getBytes());
        Path cfg = config(garbage.toString(), 256);
        Path out = dir.resolve("r.csv");
        CliRun.Result r = CliRun.run("run", cfg.toString(), "--out", out.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("not a GGUF file"), r.err());
        assertFalse(Files.exists(out), "no header-only CSV left behind");

        // a good model, then a bad one: the rows the good one wrote stay
        Path mixed = config(model(512) + ", " + garbage, 256);
        assertEquals(1, CliRun.run("run", mixed.toString(), "--out", out.toString()).code());
        assertFalse(Files.exists(out), "the models are checked before any work");
        assertEquals(0, CliRun.run("run", config(model(512).toString(), 256).toString(), "--out", out.toString()).code());
        String rows = Files.readString(out);
        assertEquals(1, CliRun.run("run", mixed.toString(), "--out", out.toString()).code());
        assertEquals(rows, Files.readString(out), "a user's existing rows are never removed");
    }

    @Test
    void aDirectoryGivenAsAModelIsNamedAsOne() throws Exception {
        CliRun.Result r = CliRun.run("run", config(dir.toString(), 256).toString(), "--out", dir.resolve("r.csv").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains(dir + " is a directory"), r.err());
        assertFalse(r.err().contains("not found"), r.err());
        assertTrue(assertThrows(java.io.IOException.class, () -> Models.resolve(dir.toString(), System.err))
                .getMessage().contains("is a directory"));
    }

    @Test
    void aLengthUpToTheTrainedContextRunsAndOneBeyondItIsRefusedInTheSameTerms() throws Exception {
        Path m = model(256);
        Path out = dir.resolve("edge.csv");
        CliRun.Result atTheEdge = CliRun.run("run", config(m.toString(), 256).toString(), "--out", out.toString());
        assertEquals(0, atTheEdge.code(), atTheEdge.err());
        try (ResultsFile written = ResultsFile.open(out)) {
            assertEquals(1, written.completedRows());
        }
        CliRun.Result beyond = CliRun.run("run", config(m.toString(), 257).toString(), "--out", dir.resolve("beyond.csv").toString());
        assertEquals(1, beyond.code());
        assertTrue(beyond.err().contains("length 257 is longer than the 256 tokens"), beyond.err());
        assertFalse(Files.exists(dir.resolve("beyond.csv")));
    }

    @Test
    void anOutOfRangeIntegerSaysSoWithTheRange() throws Exception {
        Path cfg = dir.resolve("k.yaml");
        Files.writeString(cfg, "methods: [\"recycled:k=99999999999\"]\ntasks: [vt]\nlengths: [1024]\n");
        CliRun.Result r = CliRun.run("run", cfg.toString(), "--out", dir.resolve("k.csv").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("out of range") && r.err().contains("1 to 2147483647"), r.err());
    }

    @Test
    void theUnknownMethodMessageListsEveryRegisteredMethodAndTheReferences() throws Exception {
        Path cfg = dir.resolve("m.yaml");
        Files.writeString(cfg, "methods: [fulll]\ntasks: [vt]\nlengths: [1024]\n");
        CliRun.Result r = CliRun.run("run", cfg.toString(), "--out", dir.resolve("m.csv").toString());
        assertEquals(1, r.code());
        List<String> expected = new ArrayList<>(Strategies.all().keySet());
        expected.addAll(Method.Reference.NAMES);
        for (String name : expected) {
            assertTrue(r.err().contains(name), name + " missing from: " + r.err());
        }
    }
}
