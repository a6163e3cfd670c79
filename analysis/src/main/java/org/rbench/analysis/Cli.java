package org.rbench.analysis;

import java.io.PrintStream;
import java.io.PrintWriter;
import picocli.CommandLine;

/** Runs one of this module's picocli commands on given streams, as the harness's {@code rbench} does on stdout/stderr. */
final class Cli {
    private Cli() {
    }

    /** @return the command's exit status (2 for a usage error, as picocli reports it) */
    static int execute(Object command, String[] args, PrintStream out, PrintStream err) {
        PrintWriter outWriter = new PrintWriter(out, true, out.charset());
        PrintWriter errWriter = new PrintWriter(err, true, err.charset());
        try {
            return new CommandLine(command).setOut(outWriter).setErr(errWriter).execute(args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }
}
