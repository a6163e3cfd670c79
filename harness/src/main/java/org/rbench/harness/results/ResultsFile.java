package org.rbench.harness.results;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A results CSV that survives interruption. Rows are appended and flushed one at a time;
 * reopening a file that a killed run left behind drops a torn last line (a row cut
 * mid-write) and reports which work keys are already done, so the run resumes with no
 * row lost or repeated.
 */
public final class ResultsFile implements AutoCloseable {
    private final Path path;
    /** The file's columns: the standard ones, or a prefix of them in a file an older version wrote. */
    private final List<String> columns;
    /** Columns a row may carry: the file's and any newer ones (left out of an older file). */
    private final List<String> knownColumns;
    private final Set<String> doneKeys = new HashSet<>();
    private final CSVPrinter printer;
    private int rowsWritten;

    private ResultsFile(Path path, List<String> columns, List<String> knownColumns, CSVPrinter printer) {
        this.path = path;
        this.columns = columns;
        this.knownColumns = knownColumns;
        this.printer = printer;
    }

    /** Opens (creating or resuming) the file with the standard columns. */
    public static ResultsFile open(Path path) throws IOException {
        return open(path, ResultColumns.ALL);
    }

    public static ResultsFile open(Path path, List<String> columns) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Set<String> done = new HashSet<>();
        boolean fresh = !Files.exists(path) || Files.size(path) == 0;
        List<String> fileColumns = columns;
        if (!fresh) {
            dropTornLastRecord(path);
            try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8);
                 CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                List<String> header = p.getHeaderNames();
                if (header.size() < columns.size() && header.equals(columns.subList(0, header.size()))) {
                    // Written before the newest columns were added at the end: resume it with its
                    // own columns, leaving the new (optional) ones out of its rows.
                    fileColumns = List.copyOf(header);
                } else if (!header.equals(columns)) {
                    throw new IOException(path + " exists with different columns; write to a new file or move it away."
                            + " Found " + header.size() + " columns, expected " + columns.size());
                }
                for (CSVRecord rec : p) {
                    done.add(key(rec.toMap()));
                }
            }
        }
        Writer w = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        CSVFormat format = fresh ? CSVFormat.RFC4180.builder().setHeader(columns.toArray(String[]::new)).get()
                : CSVFormat.RFC4180;
        ResultsFile f = new ResultsFile(path, List.copyOf(fileColumns), List.copyOf(columns), new CSVPrinter(w, format));
        f.doneKeys.addAll(done);
        f.printer.flush();
        return f;
    }

    /**
     * Truncates the file after its last complete record. Quote-aware: a prediction may
     * hold newlines inside a quoted field, so a record ends only at a newline outside
     * quotes (an escaped quote "" toggles twice and leaves the state unchanged).
     */
    private static void dropTornLastRecord(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        boolean inQuotes = false;
        int lastEnd = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '"') {
                inQuotes = !inQuotes;
            } else if (bytes[i] == '\n' && !inQuotes) {
                lastEnd = i + 1;
            }
        }
        if (lastEnd < bytes.length) {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
                ch.truncate(lastEnd);
            }
        }
    }

    /** The work key of a row: the identifying columns joined. */
    public static String key(Map<String, String> row) {
        StringBuilder sb = new StringBuilder();
        for (String k : ResultColumns.KEY) {
            sb.append(row.getOrDefault(k, "")).append('\u001f');
        }
        return sb.toString();
    }

    public boolean isDone(Map<String, String> keyColumns) {
        return doneKeys.contains(key(keyColumns));
    }

    public int completedRows() {
        return doneKeys.size();
    }

    public int rowsWritten() {
        return rowsWritten;
    }

    /** Appends one row (missing columns are empty) and flushes it to the file. */
    public synchronized void append(Map<String, String> row) throws IOException {
        for (String k : row.keySet()) {
            if (!columns.contains(k) && !knownColumns.contains(k)) {
                throw new IllegalArgumentException("unknown results column '" + k + "'");
            }
        }
        List<String> values = new ArrayList<>(columns.size());
        for (String c : columns) {
            values.add(row.getOrDefault(c, ""));
        }
        printer.printRecord(values);
        printer.flush();
        doneKeys.add(key(row));
        rowsWritten++;
    }

    public Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        printer.close();
    }
}
