package org.rbench.harness.results;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Combines shard CSVs into one file: same columns required, rows kept in input order, a
 * row whose work key was already seen is dropped (a shard re-run after a crash, or a
 * file given twice) and counted.
 */
public final class ResultsMerge {
    private ResultsMerge() {
    }

    public record Summary(int files, int rows, int duplicates) {
    }

    public static Summary merge(List<Path> inputs, Path output) throws IOException {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("nothing to merge");
        }
        for (Path in : inputs) {
            if (in.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("output " + output + " is also an input");
            }
        }
        if (Files.exists(output)) {
            throw new IOException(output + " already exists; merge writes a new file");
        }
        Set<String> seen = new HashSet<>();
        int rows = 0, dups = 0;
        Path tmp = output.resolveSibling(output.getFileName() + ".partial");
        try (ResultsFile out = ResultsFile.open(tmp)) {
            for (Path in : inputs) {
                try (Reader r = Files.newBufferedReader(in, StandardCharsets.UTF_8);
                     CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                    if (!p.getHeaderNames().equals(ResultColumns.ALL)) {
                        throw new IOException(in + " does not have the results columns (docs/CSV.md)");
                    }
                    for (CSVRecord rec : p) {
                        var row = rec.toMap();
                        if (seen.add(ResultsFile.key(row))) {
                            out.append(row);
                            rows++;
                        } else {
                            dups++;
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, output);
        return new Summary(inputs.size(), rows, dups);
    }
}
