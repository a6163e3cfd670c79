package org.rbench.harness;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code rbench warmup}: a short workload that runs the code paths of a decode benchmark
 * (model writing, loading, prefill, every method's decode steps and graph builds, stock
 * llama.cpp) on a tiny random model. The launcher records it once per build into a JVM AOT
 * cache (JDK 25: {@code -XX:AOTCacheOutput}) that later runs load with {@code -XX:AOTCache}:
 * classes come loaded and linked and the JIT has profiles from the start, which cuts the
 * cost of the first decode graphs a process builds (CPU, 32 layers, medians of 3 alternating
 * runs: the first full-attention graph 56 -> 35 ms, Recycled's first full-step graph 47 -> 19
 * ms), time that a short benchmark counts.
 */
@Command(name = "warmup", mixinStandardHelpOptions = true,
        description = "A short representative workload (used to record the launcher's JVM AOT cache).")
final class WarmupCommand implements Callable<Integer> {
    @Option(names = "--backend", defaultValue = "cpu")
    String backend;

    @Override
    public Integer call() throws IOException {
        Path dir = Files.createTempDirectory("rbench-warmup");
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int code;
        try {
            PrintStream quiet = new PrintStream(log, true, StandardCharsets.UTF_8);
            System.setOut(quiet);
            System.setErr(quiet);
            String model = dir.resolve("tiny.gguf").toString();
            code = Main.run("make-model", "--like", "tiny-llama", "--type", "f16", "--out", model);
            if (code == 0) {
                code = Main.run("bench", "--model", model, "--backend", backend, "--threads", "1", "--fill", "prefill",
                        "--ctx", "300", "--tokens", "12", "--repeats", "2",
                        "--methods", "full,llamacpp,recycled:k=64,s=4,recycled:k=64,s=4,version=v1,streamingllm:k=64,h2o:k=64",
                        "--out", dir.resolve("bench.csv").toString(), "--steps-out", dir.resolve("steps.csv").toString());
            }
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        if (code != 0) {
            System.err.print(log.toString(StandardCharsets.UTF_8));
            System.err.println("rbench warmup: failed (exit " + code + ")");
        } else {
            System.out.println("rbench warmup: done");
        }
        return code;
    }
}
