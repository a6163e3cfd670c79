package org.rbench.harness.llamabench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaBenchProgramTest {
    /**
     * A line as the pinned llama-bench prints it with -o jsonl (its spacing too: "],\"samples_ts\""), tg32 @ d2048,
     * 1 thread, 2 repetitions; its times changed to round figures.
     */
    static final String LINE = "{\"build_commit\": \"5b4ebc5\", \"build_number\": 1, \"cpu_info\": \"AMD EPYC\", \"gpu_info\": \"\""
            + ", \"backends\": \"CPU\", \"model_filename\": \"models/m.gguf\", \"model_type\": \"llama ?B Q8_0\""
            + ", \"model_size\": 12055552, \"model_n_params\": 11340032, \"n_batch\": 2048, \"n_ubatch\": 512"
            + ", \"n_threads\": 1, \"cpu_mask\": \"0x0\", \"cpu_strict\": false, \"poll\": 50, \"type_k\": \"f16\""
            + ", \"type_v\": \"f16\", \"n_gpu_layers\": 0, \"n_cpu_moe\": 0, \"split_mode\": \"layer\", \"main_gpu\": 0"
            + ", \"no_kv_offload\": false, \"flash_attn\": 1, \"devices\": \"none\", \"tensor_split\": \"0.00\""
            + ", \"tensor_buft_overrides\": \"none\", \"load_mode\": \"auto\", \"lazy_mode\": \"auto\""
            + ", \"embeddings\": false, \"no_op_offload\": 0, \"no_host\": false, \"fit_target\": 0, \"fit_min_ctx\": 0"
            + ", \"n_prompt\": 0, \"n_gen\": 32, \"n_depth\": 2048, \"test_time\": \"2026-12-03T22:11:28Z\""
            + ", \"avg_ns\": 36000000, \"stddev_ns\": 5656854, \"avg_ts\": 900.000000, \"stddev_ts\": 141.421356"
            + ", \"samples_ns\": [ 32000000, 40000000 ],\"samples_ts\": [ 1000, 800 ]}";

    private static final LlamaBenchProgram.Run RUN = new LlamaBenchProgram.Run(Path.of("models/m.gguf"), 2048, 32, 1, false, 2);

    @Test
    void argumentsAskForOneGenerationTestAtTheDepthWithFlashAttentionAndAnF16Cache() {
        assertEquals(List.of("-m", "models/m.gguf", "-p", "0", "-n", "32", "-d", "2048", "-t", "1", "-fa", "1", "-ctk", "f16",
                "-ctv", "f16", "-r", "2", "-o", "jsonl", "-ngl", "0", "-dev", "none"), RUN.arguments());
        List<String> gpu = new LlamaBenchProgram.Run(Path.of("m.gguf"), 8192, 64, 4, true, 1).arguments();
        assertEquals(List.of("-ngl", "99"), gpu.subList(gpu.size() - 2, gpu.size()), "every layer on the GPU");
        assertTrue(!gpu.contains("-dev"), gpu.toString());
        assertThrows(IllegalArgumentException.class, () -> new LlamaBenchProgram.Run(Path.of("m.gguf"), 64, 0, 1, false, 1));
    }

    @Test
    void parsesItsJsonlOutput() throws IOException {
        List<LlamaBenchResult> tests = LlamaBenchResult.parseJsonl(LINE + "\n\n");
        assertEquals(1, tests.size());
        LlamaBenchResult t = tests.getFirst();
        assertEquals(32, t.nGen());
        assertEquals(2048, t.nDepth());
        assertEquals(1, t.nThreads());
        assertEquals("CPU", t.backends());
        assertTrue(t.flashAttention());
        assertArrayEquals(new long[] {32_000_000, 40_000_000}, t.samplesNs());
        assertArrayEquals(new double[] {1.0, 1.25}, t.msPerToken(), 1e-12, "a sample's time over its generated tokens");
        assertEquals(t, t.requireMatches(RUN));
        // older releases print flash_attn as a boolean
        assertTrue(LlamaBenchResult.parseJsonl(LINE.replace("\"flash_attn\": 1", "\"flash_attn\": true")).getFirst().flashAttention());
    }

    @Test
    void refusesOutputThatIsNotATestOrNotWhatWasAsked() {
        IOException notJson = assertThrows(IOException.class, () -> LlamaBenchResult.parseJsonl(LINE + "\nerror: oops"));
        assertTrue(notJson.getMessage().contains("line 2"), notJson.getMessage());
        IOException noSamples = assertThrows(IOException.class,
                () -> LlamaBenchResult.parseJsonl(LINE.replace("\"samples_ns\"", "\"other\"")));
        assertTrue(noSamples.getMessage().contains("no field samples_ns"), noSamples.getMessage());
        IOException prompt = assertThrows(IOException.class,
                () -> LlamaBenchResult.parseJsonl(LINE.replace("\"n_gen\": 32", "\"n_gen\": 0")));
        assertTrue(prompt.getMessage().contains("not a generation test"), prompt.getMessage());
        IOException other = assertThrows(IOException.class, () -> LlamaBenchResult.parseJsonl(
                LINE.replace("\"n_depth\": 2048", "\"n_depth\": 4096").replace("\"flash_attn\": 1", "\"flash_attn\": 0"))
                .getFirst().requireMatches(RUN));
        assertTrue(other.getMessage().contains("n_depth 4096 (asked 2048)") && other.getMessage().contains("flash attention off"),
                other.getMessage());
    }

    @Test
    void aMissingBinarySaysWhichScriptBuildsIt(@TempDir Path dir) throws IOException {
        Path absent = dir.resolve("llama-bench-cpu/bin/llama-bench");
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> LlamaBenchProgram.locate(null, null, List.of(absent), "cpu"));
        assertTrue(none.getMessage().contains("scripts/build-llama-bench.sh") && none.getMessage().contains(absent.toString())
                && none.getMessage().contains(LlamaBenchProgram.ENV), none.getMessage());
        IllegalArgumentException cuda = assertThrows(IllegalArgumentException.class,
                () -> LlamaBenchProgram.locate(dir.resolve("nope"), null, List.of(), "cuda"));
        assertTrue(cuda.getMessage().contains("--llama-bench") && cuda.getMessage().contains("build-llama-bench.sh --backend cuda"),
                cuda.getMessage());
        Path exe = script(dir, "echo");
        assertEquals(exe, LlamaBenchProgram.locate(null, null, List.of(absent, exe), "cpu").binary());
        assertEquals(exe, LlamaBenchProgram.locate(null, exe.toString(), List.of(), "cpu").binary(), "the environment's");
        IllegalArgumentException env = assertThrows(IllegalArgumentException.class,
                () -> LlamaBenchProgram.locate(null, absent.toString(), List.of(exe), "cpu"));
        assertTrue(env.getMessage().contains(LlamaBenchProgram.ENV), "a named binary that is missing is an error, not a fallback");
    }

    @Test
    void runsTheProgramAndReportsItsFailure(@TempDir Path dir) throws IOException {
        Path args = dir.resolve("args.txt");
        Path fake = script(dir, "echo \"$@\" > " + args + "\ncat <<'J'\n" + LINE + "\nJ");
        LlamaBenchResult r = new LlamaBenchProgram(fake).run(RUN);
        assertArrayEquals(new long[] {32_000_000, 40_000_000}, r.samplesNs());
        assertEquals(String.join(" ", RUN.arguments()), Files.readString(args).strip());
        Path failing = script(dir, "echo 'main: error: failed to load model' >&2\nexit 1");
        IOException e = assertThrows(IOException.class, () -> new LlamaBenchProgram(failing).run(RUN));
        assertTrue(e.getMessage().contains("status 1") && e.getMessage().contains("failed to load model"), e.getMessage());
        Path twice = script(dir, "cat <<'J'\n" + LINE + "\n" + LINE + "\nJ");
        assertTrue(assertThrows(IOException.class, () -> new LlamaBenchProgram(twice).run(RUN)).getMessage().contains("2 tests"));
    }

    private static int scripts;

    static Path script(Path dir, String body) throws IOException {
        Path p = dir.resolve("fake-llama-bench-" + scripts++);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }
}
