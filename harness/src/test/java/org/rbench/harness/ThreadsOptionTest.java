package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.harness.run.CpuThreads;
import org.rbench.harness.sweep.SweepConfig;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --threads and a sweep's threads: one default, one validation, one warning, for every command. */
class ThreadsOptionTest {
    /** Every command with a CPU thread count, with the other arguments it needs to get past parsing. */
    private static final Map<String, List<String>> COMMANDS = Map.of(
            "demo", List.of(),
            "generate", List.of("--prompt", "x", "--model", "/no/such/model.gguf"),
            "bench", List.of("--model", "/no/such/model.gguf", "--ctx", "64"),
            "ppl", List.of("--model", "/no/such/model.gguf"),
            "parity", List.of("--model", "/no/such/model.gguf"),
            "bench-select", List.of("--ctx", "64"));

    private static CliRun.Result run(List<String> args) {
        return CliRun.run(args.toArray(String[]::new));
    }

    private static List<String> with(String command, String... more) {
        List<String> args = new java.util.ArrayList<>();
        args.add(command);
        args.addAll(List.of(more));
        args.addAll(COMMANDS.get(command));
        return args;
    }

    @Test
    void theDefaultLeavesACoreFreeWhenThereAreTwoOrMore() {
        assertEquals(1, CpuThreads.defaultFor(1));
        assertEquals(1, CpuThreads.defaultFor(2));
        assertEquals(15, CpuThreads.defaultFor(16));
        assertEquals(CpuThreads.defaultFor(Runtime.getRuntime().availableProcessors()), CpuThreads.defaultCount());
    }

    @Test
    void everyThreadsOptionDefaultsToTheSharedDefault() {
        CommandLine cli = new CommandLine(new Main());
        int found = 0;
        for (Map.Entry<String, CommandLine> sub : cli.getSubcommands().entrySet()) {
            OptionSpec threads = sub.getValue().getCommandSpec().findOption("--threads");
            if (threads == null) {
                continue;
            }
            found++;
            assertEquals(CpuThreads.defaultCount(), (Integer) threads.getValue(), sub.getKey() + " --threads default");
            assertTrue(String.join(" ", threads.description()).contains("all cores but one"), sub.getKey() + " help");
        }
        assertEquals(COMMANDS.size(), found, "commands with --threads: " + COMMANDS.keySet());
    }

    @Test
    void aSweepWithoutThreadsUsesTheSharedDefault() {
        SweepConfig c = SweepConfig.fromMap("t", Map.of("methods", List.of("full"), "tasks", List.of("vt"),
                "lengths", List.of(1024)), null);
        assertEquals(CpuThreads.defaultCount(), c.threads());
    }

    @Test
    void zeroAndNegativeThreadsAreUsageErrorsInEveryCommand() {
        for (String command : COMMANDS.keySet()) {
            for (String bad : List.of("0", "-3")) {
                CliRun.Result r = run(with(command, "--threads", bad));
                assertEquals(2, r.code(), command + " --threads " + bad + ": " + r.err());
                assertTrue(r.err().contains("--threads") && r.err().contains("at least 1"), command + ": " + r.err());
            }
        }
    }

    @Test
    void zeroThreadsInASweepIsAnErrorAndWritesNoCsv(@TempDir Path dir) throws Exception {
        Path cfg = Files.writeString(dir.resolve("c.yaml"), "methods: [full]\ntasks: [vt]\nlengths: [1024]\nthreads: 0\n");
        Path out = dir.resolve("r.csv");
        CliRun.Result r = run(List.of("run", cfg.toString(), "--out", out.toString()));
        assertTrue(r.code() != 0);
        assertTrue(r.err().contains("threads must be at least 1"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void moreThreadsThanCoresInASweepIsAWarning(@TempDir Path dir) throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        Path cfg = Files.writeString(dir.resolve("c.yaml"), "methods: [full]\ntasks: [vt]\nlengths: [1024]\nthreads: "
                + (cores + 1) + "\nmodels: [/no/such/model.gguf]\n");
        CliRun.Result r = run(List.of("run", cfg.toString(), "--out", dir.resolve("r.csv").toString()));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("warning: " + (cores + 1) + " threads"), r.err());
    }

    @Test
    void moreThreadsThanCoresIsAWarning() {
        int cores = Runtime.getRuntime().availableProcessors();
        CliRun.Result r = run(with("generate", "--threads", Integer.toString(cores + 1)));
        assertEquals(1, r.code(), "the missing model still fails: " + r.err());
        assertTrue(r.err().contains("warning: " + (cores + 1) + " threads") && r.err().contains(cores + " cores"), r.err());
        CliRun.Result fine = run(with("generate", "--threads", "1"));
        assertFalse(fine.err().contains("warning"), fine.err());
        assertTrue(CpuThreads.oversubscribed(1, 1).isEmpty(), "1 thread on 1 core is fine");
        assertTrue(CpuThreads.oversubscribed(3, 2).isPresent());
    }
}
