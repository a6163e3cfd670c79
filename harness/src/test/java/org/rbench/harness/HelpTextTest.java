package org.rbench.harness;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command's --help prints its usage, without picocli warnings (an unescaped % in a description is one); --version says what runs. */
class HelpTextTest {
    @Test
    void everyCommandsHelpPrintsWithoutWarnings() {
        List<List<String>> commands = new ArrayList<>();
        collect(new CommandLine(new Main()), new ArrayList<>(), commands);
        assertTrue(commands.size() > 10, "commands found: " + commands);
        for (List<String> path : commands) {
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            CliRun.Result r = CliRun.run(args.toArray(String[]::new));
            String all = r.out() + r.err();
            assertEquals(0, r.code(), String.join(" ", args) + " exits 0: " + all);
            assertTrue(all.contains("Usage:"), String.join(" ", args) + " prints its usage: " + all);
            assertFalse(all.contains("picocli WARN"), String.join(" ", args) + " prints a picocli warning: " + all);
        }
    }

    @Test
    void versionNamesTheSuiteAndTheLlamaCppRelease() {
        CliRun.Result r = CliRun.run("--version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("rbench "), r.out());
        assertTrue(r.out().contains("llama.cpp v"), r.out());
        assertFalse(r.out().contains("null"), r.out());
    }

    private static void collect(CommandLine cli, List<String> path, List<List<String>> into) {
        for (Map.Entry<String, CommandLine> sub : cli.getSubcommands().entrySet()) {
            if (sub.getValue().getCommandSpec().name().equals("help") || !sub.getKey().equals(sub.getValue().getCommandName())) {
                continue; // the help command, and aliases
            }
            List<String> p = new ArrayList<>(path);
            p.add(sub.getKey());
            into.add(p);
            collect(sub.getValue(), p, into);
        }
    }
}
