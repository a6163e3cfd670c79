package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.GgufFile;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Contexts past a preset's trained length: {@code make-model --context} declares the length
 * (llama.context_length) and {@code bench --fill synthetic} runs depths up to it, refusing a
 * deeper one in the user's terms before it allocates anything.
 */
class LongContextCliTest {
    @Test
    void aModelMadeWithALongerContextIsBenchedUpToIt(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("long.gguf");
        // tiny-llama's preset declares 4096 tokens; this one twice that
        CliRun.Result made = CliRun.run("make-model", "--like", "tiny-llama", "--type", "f16", "--context", "8192", "--out", model.toString());
        assertEquals(0, made.code(), made.err());
        assertTrue(made.out().contains("context 8192"), made.out());
        try (GgufFile g = GgufFile.open(model)) {
            assertEquals(8192, g.getLong("llama.context_length"));
        }
        Path csv = dir.resolve("bench.csv");
        // depth + steps + 1 rows: 8187 + 4 + 1 = 8192, the most the model takes
        CliRun.Result bench = CliRun.run("bench", "--model", model.toString(), "--backend", "cpu", "--threads", "1", "--fill", "synthetic",
                "--ctx", "8187", "--tokens", "4", "--repeats", "1", "--warmup", "0",
                "--methods", "full,streamingllm:k=64", "--out", csv.toString());
        assertEquals(0, bench.code(), bench.err());
        assertEquals(1 + 2, Files.readAllLines(csv).size(), "header + one row per method");

        Path deeper = dir.resolve("deeper.csv");
        CliRun.Result tooDeep = CliRun.run("bench", "--model", model.toString(), "--backend", "cpu", "--threads", "1", "--fill", "synthetic",
                "--ctx", "4096,8188", "--tokens", "4", "--repeats", "1", "--methods", "full", "--out", deeper.toString());
        assertEquals(1, tooDeep.code());
        assertTrue(tooDeep.err().contains("--ctx 8188 with --tokens 4 needs 8193 cache rows, more than the 8192 tokens long.gguf"
                + " was trained for (depths up to 8187 with --tokens 4)"), tooDeep.err());
        assertFalse(Files.exists(deeper), "refused before the results file is made");
    }

    @Test
    void aContextThatIsNotAPositiveLengthIsRefused(@TempDir Path dir) {
        Path model = dir.resolve("m.gguf");
        for (String bad : new String[] {"0", "-4096"}) {
            CliRun.Result r = CliRun.run("make-model", "--like", "tiny-llama", "--context", bad, "--out", model.toString());
            assertEquals(1, r.code());
            assertTrue(r.err().contains("the context length must be positive, got " + bad), r.err());
        }
        CliRun.Result notANumber = CliRun.run("make-model", "--like", "tiny-llama", "--context", "512K", "--out", model.toString());
        assertEquals(2, notANumber.code());
        assertTrue(notANumber.err().contains("--context"), notANumber.err());
        assertFalse(Files.exists(model), "no file written");
    }
}
