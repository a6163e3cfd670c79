package org.rbench.harness;

import org.rbench.llamacpp.DeviceInfo;
import org.rbench.llamacpp.LlamaCpp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code rbench info}: which llama.cpp was loaded, from where, its backends and the layout check. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the llama.cpp libraries found, their version, backends and devices, and the struct-layout self-check.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        LlamaCpp.Info info = LlamaCpp.initialise();
        out.printf("llama.cpp      %s (npm node-llama-cpp@%s, ggml %s, commit %s)%n", info.location().release(),
                info.location().npmVersion(), info.ggmlVersion(), info.ggmlCommit());
        out.printf("libraries      %s (%s)%n", info.location().directory(), info.location().source());
        info.files().forEach(f -> out.printf("               %s%n", f.getFileName()));
        out.printf("layout check   %s%n", info.layout().summary());
        out.println("devices");
        for (DeviceInfo d : info.devices()) {
            out.printf("  %-6s %-8s %-5s %s, %.1f GiB%n", d.registry().toLowerCase(java.util.Locale.ROOT), d.name(), d.kind(),
                    d.description(), d.totalBytes() / (1024.0 * 1024 * 1024));
        }
        out.printf("cpu features   %s%n", info.systemInfo().trim());
        out.printf("java           %s (%s)%n", Runtime.version(), System.getProperty("java.home"));
        out.flush();
        return 0;
    }
}
