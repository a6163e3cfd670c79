package org.rbench.harness.results;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The per-step detail file of a diagnosed run, next to its results CSV ({@code X.csv} ->
 * {@code X.diagnostics.csv}; schema in docs/CSV.md): one row per (sample, method, decode
 * step, layer). A unit's rows are written before its results row, so after a kill the file
 * may hold rows of a unit the results file does not: reopening drops them (and a torn last
 * line), and the resumed run writes that unit again, whole.
 */
public final class DiagnosticsFile implements AutoCloseable {

    /** The columns naming the unit a row belongs to: the results file's work key, kind aside. */
    public static final List<String> UNIT = List.of("model_file", "model_sha256", "method", "seed", "task", "length",
            "sample_index");
    public static final List<String> COLUMNS = List.of("model_file", "model_sha256", "method", "seed", "task", "length",
            "sample_index", "step", "position", "layer", "whole_cache", "attended_rows", "answer_coverage",
            "mass_recall", "topk_overlap", "answer_mass", "answer_mass_recall", "peak_offset", "peak_distance",
            "peak_attended");
    private static final CSVFormat READ = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get();

    private final Path path;
    private final CSVPrinter printer;

    private DiagnosticsFile(Path path, CSVPrinter printer) {
        this.path = path;
        this.printer = printer;
    }

    /** The detail file that belongs to a results CSV. */
    public static Path besides(Path results) {
        String name = results.getFileName().toString();
        String stem = name.endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
        return results.resolveSibling(stem + ".diagnostics.csv");
    }

    /**
     * Opens (creating or resuming) a detail file, keeping only the rows whose unit
     * {@code completed} accepts (its results row was written).
     */
    public static DiagnosticsFile open(Path path, Predicate<Map<String, String>> completed) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        boolean fresh = !Files.exists(path) || Files.size(path) == 0;
        if (!fresh) {
            keepCompleted(path, completed);
        }
        Writer w = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        CSVFormat format = fresh ? CSVFormat.RFC4180.builder().setHeader(COLUMNS.toArray(String[]::new)).get()
                : CSVFormat.RFC4180;
        DiagnosticsFile file = new DiagnosticsFile(path, new CSVPrinter(w, format));
        file.printer.flush();
        return file;
    }

    /** Rewrites the file without a torn last line and without the rows of units not completed. */
    private static void keepCompleted(Path path, Predicate<Map<String, String>> completed) throws IOException {
        String content = Files.readString(path, StandardCharsets.UTF_8);
        int lastEnd = content.lastIndexOf('\n') + 1; // no field holds a line break
        List<String> kept = new ArrayList<>();
        String header;
        int dropped = lastEnd < content.length() ? 1 : 0;
        try (CSVParser p = READ.parse(new StringReader(content.substring(0, lastEnd)))) {
            if (!p.getHeaderNames().equals(COLUMNS)) {
                throw new IOException(path + " exists with other columns than a diagnostics file's; move it away");
            }
            header = content.substring(0, content.indexOf('\n') + 1);
            for (CSVRecord rec : p) {
                if (rec.size() == COLUMNS.size() && completed.test(rec.toMap())) {
                    kept.add(line(rec));
                } else {
                    dropped++;
                }
            }
        }
        if (dropped > 0) {
            Path tmp = path.resolveSibling(path.getFileName() + ".partial");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write(header);
                for (String row : kept) {
                    w.write(row);
                }
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String line(CSVRecord rec) throws IOException {
        StringBuilder out = new StringBuilder();
        CSVFormat.RFC4180.printRecord(out, (Object[]) rec.values());
        return out.toString();
    }

    /** Appends rows (each holding every column) and flushes them. */
    public void append(List<Map<String, String>> rows) throws IOException {
        for (Map<String, String> row : rows) {
            List<String> values = new ArrayList<>(COLUMNS.size());
            for (String c : COLUMNS) {
                String v = row.get(c);
                if (v == null) {
                    throw new IllegalArgumentException("a diagnostics row needs column '" + c + "'");
                }
                values.add(v);
            }
            if (row.size() != COLUMNS.size()) {
                throw new IllegalArgumentException("unknown diagnostics column in " + row.keySet());
            }
            printer.printRecord(values);
        }
        printer.flush();
    }

    /** Rows of the file in order, as column maps (for merging and tests). */
    public static List<Map<String, String>> read(Path path) throws IOException {
        List<Map<String, String>> rows = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8); CSVParser p = READ.parse(r)) {
            if (!p.getHeaderNames().equals(COLUMNS)) {
                throw new IOException(path + " does not have the diagnostics columns (docs/CSV.md)");
            }
            for (CSVRecord rec : p) {
                rows.add(rec.toMap());
            }
        }
        return rows;
    }

    /** The unit a row belongs to, comparable with a results row's work key ({@link ResultsFile#key}). */
    public static Map<String, String> resultsKey(Map<String, String> row) {
        Map<String, String> key = new java.util.LinkedHashMap<>();
        key.put("kind", "ruler");
        for (String c : UNIT) {
            key.put(c, row.get(c));
        }
        return key;
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        printer.close();
    }
}
