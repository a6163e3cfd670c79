package org.rbench.harness.results;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
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
 *
 * <p>One writer at a time: an open file holds an exclusive lock on itself (released when it
 * is closed, or when its process dies), and a second open, from this or another process,
 * is refused before it reads or changes anything. Two runs appending to one file would
 * otherwise both do every unit of work and write every row twice. The lock is POSIX's
 * (fcntl): a process loses it when it closes any descriptor of the file, so nothing else in
 * the process may open the file while it is open here (read it after {@link #close()}).
 */
public final class ResultsFile implements AutoCloseable {
    private final Path path;
    /** The file's columns: the standard ones, or a prefix of them in a file an older version wrote. */
    private final List<String> columns;
    /** Columns a row may carry: the file's and any newer ones (left out of an older file). */
    private final List<String> knownColumns;
    private final Set<String> doneKeys = new HashSet<>();
    private final CSVPrinter printer;
    /** Whether this open created the file (it did not exist before). */
    private final boolean created;
    private int rowsWritten;

    private ResultsFile(Path path, List<String> columns, List<String> knownColumns, CSVPrinter printer, boolean created) {
        this.path = path;
        this.columns = columns;
        this.knownColumns = knownColumns;
        this.printer = printer;
        this.created = created;
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
        if (Files.isDirectory(path)) {
            throw new IOException(path + " is a directory; give the results CSV a file name");
        }
        boolean existed = Files.exists(path);
        // One channel for the lock, the reading, the truncation and the appending: POSIX drops
        // a process's lock on a file when any descriptor of that file is closed.
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            lock(channel, path);
            Set<String> done = new HashSet<>();
            List<String> fileColumns = columns;
            boolean fresh = channel.size() == 0;
            if (!fresh) {
                byte[] bytes = readAll(channel, path);
                int complete = CsvText.completeLength(bytes, bytes.length);
                String text = CsvText.utf8(path, bytes, complete);
                try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                        .parse(new StringReader(text))) {
                    List<String> header = p.getHeaderNames();
                    if (header.size() < columns.size() && header.equals(columns.subList(0, header.size()))) {
                        // Written before the newest columns were added at the end: resume it with its
                        // own columns, leaving the new (optional) ones out of its rows.
                        fileColumns = List.copyOf(header);
                        System.err.println("rbench: warning: " + path + " was written before the columns "
                                + columns.subList(header.size(), columns.size()) + ": its new rows leave them out"
                                + (columns.subList(header.size(), columns.size()).contains("start_ms")
                                ? " (s/example then misses each method's start: write to a new file to count it)" : ""));
                    } else if (!header.equals(columns)) {
                        throw new IOException(path + " exists with different columns; write to a new file or move it away."
                                + " Found " + header.size() + " columns, expected " + columns.size());
                    }
                    for (CSVRecord rec : p) {
                        done.add(key(rec.toMap()));
                    }
                } catch (UncheckedIOException e) {
                    throw new IOException(path + ": malformed CSV: " + e.getCause().getMessage(), e);
                }
                if (complete < bytes.length) {
                    channel.truncate(complete); // a row torn by a killed run
                }
            }
            channel.position(channel.size());
            Writer w = new BufferedWriter(Channels.newWriter(channel, StandardCharsets.UTF_8));
            CSVFormat format = fresh ? CSVFormat.RFC4180.builder().setHeader(columns.toArray(String[]::new)).get()
                    : CSVFormat.RFC4180;
            ResultsFile f = new ResultsFile(path, List.copyOf(fileColumns), List.copyOf(columns),
                    new CSVPrinter(w, format), !existed);
            f.doneKeys.addAll(done);
            f.printer.flush();
            return f;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static void lock(FileChannel channel, Path path) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameProcess) {
            lock = null;
        } catch (IOException noLocks) {
            // a file system without locks (some network mounts): run, but say what is not guarded
            System.err.println("rbench: warning: cannot lock " + path + " (" + noLocks.getMessage()
                    + "); make sure no other run writes to it");
            return;
        }
        if (lock == null) {
            throw new IOException(path + " is being written by another rbench run (it holds the file's lock);"
                    + " wait for that run to finish, or write to another file (--out)");
        }
    }

    private static byte[] readAll(FileChannel channel, Path path) throws IOException {
        long size = channel.size();
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException(path + " is " + size + " bytes, more than a results CSV can be read into memory;"
                    + " write to a new file");
        }
        ByteBuffer buffer = ByteBuffer.allocate((int) size);
        while (buffer.hasRemaining() && channel.read(buffer, buffer.position()) >= 0) {
            // a positional read may return fewer bytes than asked: read on until full
        }
        return buffer.hasRemaining() ? java.util.Arrays.copyOf(buffer.array(), buffer.position()) : buffer.array();
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

    /** Work that writes rows into a results file and returns how many. */
    @FunctionalInterface
    public interface Work {
        int writeTo(ResultsFile file) throws Exception;
    }

    /**
     * Runs {@code work} on this file and returns what it returns; if it fails, the file is
     * {@linkplain #abandon() abandoned} (removed if this open created it and no row was
     * written) and the failure rethrown.
     */
    public int write(Work work) throws Exception {
        try {
            return work.writeTo(this);
        } catch (Throwable failure) {
            try {
                abandon();
            } catch (IOException e) {
                failure.addSuppressed(e);
            }
            throw failure;
        }
    }

    /**
     * Closes the file after a failed run. A file that this open created and that got no row
     * is removed: a header-only CSV would only say that something ran. A file that existed
     * before is the user's, and is left as it is, whatever it holds.
     */
    public void abandon() throws IOException {
        try {
            if (created && rowsWritten == 0) {
                Files.deleteIfExists(path); // while the lock is held: no other run has opened it
            }
        } finally {
            close();
        }
    }

    @Override
    public void close() throws IOException {
        printer.close(); // closes the channel, which releases the lock
    }
}
