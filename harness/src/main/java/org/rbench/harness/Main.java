package org.rbench.harness;

import org.rbench.analysis.CompareCommand;
import org.rbench.analysis.ReportCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code rbench} command line. Each subcommand is one class; this class only wires
 * them together and turns exceptions into one clear line on stderr and a non-zero exit.
 */
@Command(name = "rbench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Recycled Attention against full attention, stock llama.cpp and the methods it is compared with (StreamingLLM, H2O, SnapKV, PyramidKV, Quest, TidalDecode, an oracle; `rbench methods`) on GGUF models (llama.cpp/ggml).",
        subcommands = {InfoCommand.class, TokenizeCommand.class, ReportCommand.class,
                CompareCommand.class, MergeCommand.class, LlamaRulerGenCommand.class,
                RunCommand.class, DemoCommand.class, EngineCommands.Generate.class, EngineCommands.ParityCheck.class,
                EngineCommands.MakeModel.class, EngineCommands.Methods.class, BenchCommand.class, SelectionBenchCommand.class, PolicyBenchCommand.class, WarmupCommand.class, PplCommand.class,
                ExportTextCommand.class, org.rbench.harness.history.HistoryCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("rbench " + cmd.getCommandName() + ": " + describe(ex));
            if (Boolean.getBoolean("rbench.debug")) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }

    private static String describe(Throwable ex) {
        String m = ex.getMessage();
        if (ex instanceof java.nio.file.NoSuchFileException) {
            return "file not found: " + m;
        }
        return m == null ? ex.toString() : m;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            var pinned = org.rbench.llamacpp.LibraryLocation.pinned();
            String version = Main.class.getPackage().getImplementationVersion(); // from the jar's manifest
            String commit = System.getenv("RBENCH_SUITE_COMMIT"); // set by the launcher
            return new String[] {"rbench " + (version == null ? "(classes, no jar)" : version)
                    + (commit == null || commit.isBlank() ? "" : " (commit " + commit + ")"),
                    "llama.cpp " + pinned.getProperty("release") + " (npm node-llama-cpp " + pinned.getProperty("npm.version") + ")"};
        }
    }
}
