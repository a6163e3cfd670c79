package org.rbench.harness.llamabench;

import org.rbench.llamacpp.LibraryLocation;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Stock llama-bench, the program, as {@code rbench bench} runs it beside the engine: found where
 * scripts/build-llama-bench.sh builds it (or where {@code --llama-bench} or
 * {@code RBENCH_LLAMA_BENCH} say), and run once per measurement on the same model, depth,
 * tokens and threads, with flash attention and an F16 cache as the engine and the
 * {@code llamacpp} reference have them.
 */
public record LlamaBenchProgram(Path binary) {
    /** The environment variable that names the binary. */
    public static final String ENV = "RBENCH_LLAMA_BENCH";

    /** The script that builds it, for the error message when it is missing. */
    public static final String BUILD_SCRIPT = "scripts/build-llama-bench.sh";

    /** One run: {@code tg<tokens> @ d<depth>}, {@code repetitions} samples, on the CPU or with every layer on the GPU. */
    public record Run(Path model, int depth, int tokens, int threads, boolean onGpu, int repetitions) {
        public Run {
            if (depth < 0 || tokens <= 0 || threads <= 0 || repetitions <= 0) {
                throw new IllegalArgumentException("llama-bench needs depth >= 0 and positive tokens, threads and repetitions");
            }
        }

        /**
         * llama-bench's arguments: no prompt test ({@code -p 0}), {@code -n tokens} generated after
         * {@code -d depth} in the cache, flash attention on, F16 K and V, all layers on the GPU
         * ({@code -ngl 99}) or none and no GPU device at all ({@code -ngl 0 -dev none}), jsonl on
         * stdout. Its other settings stay at their defaults (n_batch 2048, n_ubatch 512, poll 50,
         * no CPU mask, normal priority, one warm-up token before the samples).
         */
        public List<String> arguments() {
            List<String> a = new ArrayList<>(List.of("-m", model.toString(), "-p", "0", "-n", Integer.toString(tokens),
                    "-d", Integer.toString(depth), "-t", Integer.toString(threads), "-fa", "1", "-ctk", "f16", "-ctv", "f16",
                    "-r", Integer.toString(repetitions), "-o", "jsonl"));
            if (onGpu) {
                a.addAll(List.of("-ngl", "99"));
            } else {
                a.addAll(List.of("-ngl", "0", "-dev", "none"));
            }
            return List.copyOf(a);
        }
    }

    /**
     * The binary: {@code explicit} (the {@code --llama-bench} option) when given, else
     * {@code fromEnv} ({@link #ENV}) when set, else the first of {@code defaults} that exists.
     *
     * @throws IllegalArgumentException naming what was looked at and the script that builds it
     */
    public static LlamaBenchProgram locate(Path explicit, String fromEnv, List<Path> defaults, String backend) {
        String build = "build it with " + BUILD_SCRIPT + (backend.equals("cpu") || backend.equals("best") ? ""
                : " --backend " + backend);
        if (explicit != null) {
            return checked(explicit, "--llama-bench", build);
        }
        if (fromEnv != null && !fromEnv.isBlank()) {
            return checked(Path.of(fromEnv), ENV, build);
        }
        for (Path p : defaults) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return new LlamaBenchProgram(p.toAbsolutePath().normalize());
            }
        }
        throw new IllegalArgumentException("llama-bench not found (looked at " + defaults + "): " + build
                + ", or point --llama-bench FILE or " + ENV + "=FILE at one");
    }

    private static LlamaBenchProgram checked(Path p, String source, String build) {
        if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
            throw new IllegalArgumentException("llama-bench " + p + " (from " + source + ") is not an executable file: "
                    + build + ", or name another");
        }
        return new LlamaBenchProgram(p.toAbsolutePath().normalize());
    }

    /**
     * Where scripts/build-llama-bench.sh puts the binary for {@code backend} (cpu, cuda; best
     * looks for cuda's, then cpu's; cpu's stock build before the one linked against the suite's
     * libraries, {@code cpu-prebuilt}): {@code llama.cpp-VERSION/llama-bench-BUILD/bin/llama-bench}
     * under the native homes the libraries are looked for in ({@code RBENCH_NATIVE_HOME}, then
     * {@code .native} in the checkout).
     */
    public static List<Path> defaultLocations(String backend) {
        // the stock build first; then the CPU build linked against the suite's own libraries (--libs prebuilt)
        List<String> builds = backend.equalsIgnoreCase("best") ? List.of("cuda", "cpu", "cpu-prebuilt")
                : backend.equalsIgnoreCase("cpu") ? List.of("cpu", "cpu-prebuilt") : List.of(backend.toLowerCase(Locale.ROOT));
        String version = LibraryLocation.pinned().getProperty("npm.version", "unknown");
        List<Path> homes = new ArrayList<>();
        String home = System.getenv(LibraryLocation.HOME_ENV);
        if (home != null && !home.isBlank()) {
            homes.add(Path.of(home));
        }
        LibraryLocation.repositoryRoot(Path.of("").toAbsolutePath()).ifPresent(r -> homes.add(r.resolve(".native")));
        List<Path> out = new ArrayList<>();
        for (String build : builds) {
            for (Path h : homes) {
                out.add(h.resolve("llama.cpp-" + version).resolve("llama-bench-" + build).resolve("bin").resolve("llama-bench"));
            }
        }
        return out;
    }

    /**
     * Runs llama-bench and returns its one test (the run asks for one depth and one token count).
     *
     * @throws IOException when it fails (its exit status and the end of its stderr), or prints
     *     something other than one test of what was asked
     */
    public LlamaBenchResult run(Run run) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(run.arguments());
        Path err = Files.createTempFile("llama-bench", ".stderr");
        try {
            Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status;
            try {
                status = p.waitFor();
            } catch (InterruptedException e) {
                p.destroy();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while llama-bench ran", e);
            }
            if (status != 0) {
                throw new IOException("llama-bench exited with status " + status + " (" + String.join(" ", command) + "): "
                        + tail(Files.readString(err, StandardCharsets.UTF_8), 8));
            }
            List<LlamaBenchResult> tests = LlamaBenchResult.parseJsonl(stdout);
            if (tests.size() != 1) {
                throw new IOException("llama-bench printed " + tests.size() + " tests, not 1 (" + String.join(" ", command) + ")");
            }
            return tests.getFirst().requireMatches(run);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    private static String tail(String text, int lines) {
        String[] all = text.strip().split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
    }
}
