package org.rbench.harness;

import org.rbench.harness.results.ResultsMerge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code rbench merge}: shard CSVs into one file ({@link ResultsMerge}). */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Combine shard CSVs into one file (rows with a repeated work key are dropped;"
                + " a torn last row, from a shard killed mid-write, is dropped with a warning); shards' diagnostics"
                + " files (X.diagnostics.csv) are merged beside it.")
final class MergeCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "SHARD.csv")
    List<Path> inputs;

    @Option(names = "--out", required = true, paramLabel = "FILE")
    Path out;

    @Override
    public Integer call() throws IOException {
        ResultsMerge.Summary s = ResultsMerge.merge(inputs, out);
        for (String warning : s.warnings()) {
            System.err.println("rbench merge: warning: " + warning);
        }
        System.out.printf("merged %d files: %d rows, %d duplicates dropped -> %s%n", s.files(), s.rows(), s.duplicates(), out);
        if (s.diagnosticsRows() > 0) {
            System.out.printf("diagnostics: %d per-step rows -> %s%n", s.diagnosticsRows(),
                    org.rbench.harness.results.DiagnosticsFile.besides(out));
        }
        return 0;
    }
}
