package org.rbench.harness.results;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Combines shard CSVs into one file: the results columns required (or a prefix of them, as an
 * older version wrote: its rows leave the newer columns empty), rows kept in input order, a
 * row whose work key was already seen is dropped (a shard re-run after a crash, or a file
 * given twice) and counted. Shards with a diagnostics file beside them
 * ({@link DiagnosticsFile#besides}) get theirs merged beside the output: the per-step rows of
 * the units whose results row was kept, from the shard it was kept from. A torn last row (a shard killed mid-write) is dropped with
 * a warning, as a resumed run drops it; any other damage (not UTF-8 text, other columns, a
 * row with too few or too many fields, broken quoting) is an error that names the file and,
 * where it applies, the line, and writes nothing.
 */
public final class ResultsMerge {
    private ResultsMerge() {
    }

    /**
     * What was merged; {@code diagnosticsRows}: per-step rows merged beside the output;
     * {@code warnings} says what was dropped besides repeated keys.
     */
    public record Summary(int files, int rows, int duplicates, int diagnosticsRows, List<String> warnings) {
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
        List<String> warnings = new ArrayList<>();
        // per input, the work keys kept from it: its diagnostics rows of those units go along
        List<Set<String>> keptFrom = new ArrayList<>();
        int rows = 0, dups = 0;
        Path tmp = output.resolveSibling(output.getFileName() + ".partial");
        try (ResultsFile out = ResultsFile.open(tmp)) {
            for (Path in : inputs) {
                Set<String> kept = new HashSet<>();
                keptFrom.add(kept);
                for (var row : read(in, warnings)) {
                    String key = ResultsFile.key(row);
                    if (seen.add(key)) {
                        out.append(row);
                        kept.add(key);
                        rows++;
                    } else {
                        dups++;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        int details;
        try {
            details = mergeDiagnostics(inputs, keptFrom, output);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, output);
        return new Summary(inputs.size(), rows, dups, details, List.copyOf(warnings));
    }

    /** One input's rows, checked; a torn last row is left out with a warning. */
    private static List<java.util.Map<String, String>> read(Path in, List<String> warnings) throws IOException {
        if (!Files.isRegularFile(in)) {
            throw new IOException(in + (Files.isDirectory(in) ? " is a directory" : " does not exist")
                    + "; merge takes results CSVs");
        }
        byte[] bytes = Files.readAllBytes(in);
        int complete = CsvText.completeLength(bytes, bytes.length);
        String text = CsvText.utf8(in, bytes, complete);
        if (complete == 0) {
            throw new IOException(in + " has no complete header line (" + (bytes.length == 0 ? "it is empty"
                    : "it is cut before its first newline") + "); merge takes results CSVs");
        }
        if (complete < bytes.length) {
            warnings.add(in + ": dropped a torn last row (" + (bytes.length - complete)
                    + " bytes after the last complete one: the run that wrote it was stopped mid-row)");
        }
        List<java.util.Map<String, String>> rows = new ArrayList<>();
        try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(
                new java.io.StringReader(text))) {
            List<String> header = p.getHeaderNames();
            if (header.isEmpty() || header.size() > ResultColumns.ALL.size()
                    || !header.equals(ResultColumns.ALL.subList(0, header.size()))) {
                throw new IOException(in + " does not have the results columns (docs/CSV.md): its header has "
                        + header.size() + " columns, starting '" + header.getFirst() + "'"
                        + ", a results CSV has " + ResultColumns.ALL.size() + ", starting '" + ResultColumns.ALL.getFirst() + "'");
            }
            for (CSVRecord rec : p) {
                if (rec.size() != header.size()) {
                    throw new IOException(in + ":" + lineOf(text, rec.getCharacterPosition()) + ": the row has "
                            + rec.size() + " fields, the header " + header.size()
                            + " (a damaged row; remove it or re-run that shard)");
                }
                rows.add(rec.toMap());
            }
        } catch (UncheckedIOException e) {
            throw new IOException(in + ": malformed CSV: " + e.getCause().getMessage(), e);
        }
        return rows;
    }

    /** Writes the kept units' diagnostics rows beside the output; returns how many (0: no input had any). */
    private static int mergeDiagnostics(List<Path> inputs, List<Set<String>> keptFrom, Path output) throws IOException {
        Path target = DiagnosticsFile.besides(output);
        boolean any = inputs.stream().anyMatch(in -> Files.isRegularFile(DiagnosticsFile.besides(in)));
        if (!any) {
            return 0;
        }
        if (Files.exists(target)) {
            throw new IOException(target + " already exists; merge writes a new file");
        }
        Path tmp = target.resolveSibling(target.getFileName() + ".partial");
        int rows = 0;
        try (DiagnosticsFile out = DiagnosticsFile.open(tmp, row -> true)) {
            for (int i = 0; i < inputs.size(); i++) {
                Path details = DiagnosticsFile.besides(inputs.get(i));
                if (!Files.isRegularFile(details)) {
                    continue;
                }
                List<Map<String, String>> kept = new ArrayList<>();
                for (Map<String, String> row : DiagnosticsFile.read(details)) {
                    if (keptFrom.get(i).contains(ResultsFile.key(DiagnosticsFile.resultsKey(row)))) {
                        kept.add(row);
                    }
                }
                out.append(kept);
                rows += kept.size();
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, target);
        return rows;
    }

    /** The 1-based line where the character at {@code offset} sits. */
    private static long lineOf(String text, long offset) {
        long line = 1;
        for (int i = 0; i < offset && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
