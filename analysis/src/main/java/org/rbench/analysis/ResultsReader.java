package org.rbench.analysis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads results CSV files written by the harness (schema in docs/CSV.md) into {@link ResultRow}s.
 *
 * <p>Columns are looked up by header name, so their order does not matter and unknown columns are
 * ignored: the harness may add columns at the end without breaking older analysis. Problems are
 * reported as {@link ResultsInputException}s that name the file, line and column.
 */
public final class ResultsReader {

    /** Columns without which no table can be built. All other schema columns are optional. */
    public static final List<String> REQUIRED_COLUMNS = List.of(
            "run_id", "kind", "model_file", "method", "method_name", "seed", "task", "length",
            "sample_index", "score", "prefill_ms", "decode_ms_mean", "tokens_generated");

    private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder()
            .setHeader()
            .setSkipHeaderRecord(true)
            .setIgnoreEmptyLines(true)
            .get();

    private final Consumer<String> warnings;

    /** @param warnings receives one line per skipped row (e.g. an unknown {@code kind}) */
    public ResultsReader(Consumer<String> warnings) {
        this.warnings = Objects.requireNonNull(warnings);
    }

    /**
     * Reads all files and concatenates their rows in the given order; a sample that two
     * rows hold is refused ({@link #refuseRepeatedSamples}).
     */
    public List<ResultRow> readAll(List<Path> files) throws ResultsInputException {
        List<ResultRow> rows = new ArrayList<>();
        for (Path file : files) {
            rows.addAll(readRows(file));
        }
        refuseRepeatedSamples(rows);
        return rows;
    }

    /** Reads one file; a sample that two of its rows hold is refused ({@link #refuseRepeatedSamples}). */
    public List<ResultRow> read(Path file) throws ResultsInputException {
        List<ResultRow> rows = readRows(file);
        refuseRepeatedSamples(rows);
        return rows;
    }

    /**
     * Refuses rows that measure the same sample twice: same kind, model, method, seed, task,
     * length and sample index (what the harness resumes by). Two runs writing one file, or a
     * file given twice, would otherwise count every sample twice and make the confidence
     * intervals too narrow without a word. Refused rather than dropped: which copy is right
     * is the user's call ({@code rbench merge} keeps the first of each).
     */
    static void refuseRepeatedSamples(List<ResultRow> rows) throws ResultsInputException {
        Map<List<Object>, ResultRow> first = new HashMap<>();
        ResultRow repeated = null;
        ResultRow original = null;
        int repeats = 0;
        for (ResultRow r : rows) {
            List<Object> key = List.of(r.kind(), r.modelFile(), r.method(), r.seed(), r.task(), r.length(), r.sampleIndex());
            ResultRow seen = first.putIfAbsent(key, r);
            if (seen != null) {
                repeats++;
                if (repeated == null) {
                    repeated = r;
                    original = seen;
                }
            }
        }
        if (repeated != null) {
            throw new ResultsInputException(String.format(java.util.Locale.ROOT,
                    "%s:%d repeats the sample of %s:%d (%s, model %s, method %s, task %s, length %d, sample %d,"
                            + " seed %d)%s: two runs wrote the same rows, or a file is given twice; counting both would"
                            + " make the confidence intervals too narrow. Combine the files with rbench merge, which"
                            + " keeps the first of each.",
                    repeated.source(), repeated.line(), original.source(), original.line(), repeated.kind().csvName(),
                    repeated.modelFile(), repeated.method(), repeated.task(), repeated.length(), repeated.sampleIndex(),
                    repeated.seed(), repeats > 1 ? " and " + (repeats - 1) + " more rows repeat others" : ""));
        }
    }

    private List<ResultRow> readRows(Path file) throws ResultsInputException {
        String content = readText(file);
        // The whole file is in memory anyway; mapping character offsets to lines lets messages
        // name the physical line even when quoted fields span several lines.
        LineIndex lines = new LineIndex(content);
        List<ResultRow> rows = new ArrayList<>();
        try (CSVParser parser = CSVParser.parse(content, FORMAT)) {
            Map<String, Integer> header = parser.getHeaderMap();
            if (header == null || header.isEmpty()) {
                throw new ResultsInputException(file + ": empty file, expected a header row");
            }
            checkRequiredColumns(file, header);
            for (CSVRecord record : parser) {
                long line = lines.lineOf(record.getCharacterPosition());
                RowFields fields = new RowFields(file, line, header, record);
                ResultRow row = fields.toRow();
                if (row != null) {
                    rows.add(row);
                }
            }
        } catch (UncheckedIOException e) {
            throw new ResultsInputException(file + ": malformed CSV: " + e.getCause().getMessage(), e);
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            throw new ResultsInputException(file + ": malformed CSV: " + e.getMessage(), e);
        }
        return rows;
    }

    private static String readText(Path file) throws ResultsInputException {
        if (!Files.exists(file)) {
            throw new ResultsInputException(file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new ResultsInputException(file + ": not a regular file");
        }
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new ResultsInputException(file + ": not valid UTF-8", e);
        } catch (IOException e) {
            throw new ResultsInputException(file + ": cannot read: " + e.getMessage(), e);
        }
        // Spreadsheet tools like to prepend a byte-order mark; it would otherwise become part of
        // the first column's name and make "run_id" look missing.
        return content.startsWith("\uFEFF") ? content.substring(1) : content;
    }

    private static void checkRequiredColumns(Path file, Map<String, Integer> header)
            throws ResultsInputException {
        List<String> missing = REQUIRED_COLUMNS.stream().filter(c -> !header.containsKey(c)).toList();
        if (!missing.isEmpty()) {
            throw new ResultsInputException(file + ": missing required column"
                    + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                    + " (the header has: " + String.join(", ", header.keySet()) + ")");
        }
    }

    /** The values of one record, with parsing that reports the exact cell on failure. */
    private final class RowFields {
        private final Path file;
        private final long line;
        private final Map<String, Integer> header;
        private final CSVRecord record;

        RowFields(Path file, long line, Map<String, Integer> header, CSVRecord record) {
            this.file = file;
            this.line = line;
            this.header = header;
            this.record = record;
        }

        /** Returns the row, or null when it is skipped (unknown kind). */
        ResultRow toRow() throws ResultsInputException {
            if (record.size() != header.size()) {
                throw new ResultsInputException(String.format("%s:%d: the row has %d fields but the header has %d"
                        + " (a truncated or unquoted row?)", file, line, record.size(), header.size()));
            }
            Kind kind = Kind.fromCsv(text("kind"));
            if (kind == null) {
                warnings.accept(String.format("%s:%d: skipping row of unknown kind '%s' (expected one of %s)",
                        file, line, text("kind"), Arrays.stream(Kind.values()).map(Kind::csvName).toList()));
                return null;
            }
            double score = optionalDouble("score");
            if (kind == Kind.RULER && Double.isNaN(score)) {
                throw error("score", "a ruler row needs a score");
            }
            double nllSum = optionalDouble("nll_sum");
            double tokensScored = optionalDouble("tokens_scored");
            if (kind == Kind.PPL) {
                if (Double.isNaN(nllSum)) {
                    throw error("nll_sum", "a ppl row needs nll_sum");
                }
                if (Double.isNaN(tokensScored)) {
                    throw error("tokens_scored", "a ppl row needs tokens_scored");
                }
            }
            return new ResultRow(
                    file.toString(), line, text("run_id"), kind, model(), text("device"),
                    text("method"), text("method_name"), requiredLong("seed"), text("task"),
                    (int) requiredLong("length"), (int) requiredLong("sample_index"), score,
                    prefillWithStart(), optionalDouble("decode_ms_mean"),
                    optionalDouble("decode_ms_p50"), optionalDouble("decode_ms_p90"),
                    optionalDouble("tokens_generated"), optionalDouble("attended_rows_mean"),
                    nllSum, tokensScored, optionalDouble("attention_mass_recall"),
                    optionalDouble("bound_speedup"), text("suite_commit"), text("backend"), text("kv_fill"));
        }

        /**
         * The model file, with the setting where the decode ran flash attention's tensor-core kernel
         * ({@code fa_tensor_core_from}): one model's rows with and without it are two groups, which tables
         * and plots name apart, not one average of two kernels.
         */
        private String model() {
            String from = text("fa_tensor_core_from");
            return from.isEmpty() ? text("model_file") : text("model_file") + " (tensor-core decode from " + from + " rows)";
        }

        private String text(String column) {
            Integer index = header.get(column);
            return index == null ? "" : record.get(index);
        }

        private long requiredLong(String column) throws ResultsInputException {
            String value = text(column).trim();
            if (value.isEmpty()) {
                throw error(column, "empty, expected an integer");
            }
            try {
                long parsed = Long.parseLong(value);
                if (!column.equals("seed") && (parsed < Integer.MIN_VALUE || parsed > Integer.MAX_VALUE)) {
                    throw error(column, "'" + value + "' is out of range");
                }
                return parsed;
            } catch (NumberFormatException e) {
                throw error(column, "cannot parse '" + value + "' as an integer");
            }
        }

        /**
         * The prefill's time with the method's start (what its policy built from the prefill
         * before the first step, {@code start_ms}; absent in files written before that column):
         * the references do that work in their prefill, so s/example counts it there.
         */
        private double prefillWithStart() throws ResultsInputException {
            double prefill = optionalDouble("prefill_ms");
            double start = optionalDouble("start_ms");
            return Double.isNaN(start) ? prefill : prefill + start;
        }

        private double optionalDouble(String column) throws ResultsInputException {
            String value = text(column).trim();
            if (value.isEmpty()) {
                return Double.NaN;
            }
            try {
                double parsed = Double.parseDouble(value);
                if (Double.isInfinite(parsed)) {
                    throw error(column, "'" + value + "' is not a finite number");
                }
                return parsed;
            } catch (NumberFormatException e) {
                throw error(column, "cannot parse '" + value + "' as a number");
            }
        }

        private ResultsInputException error(String column, String problem) {
            Integer index = header.get(column);
            String where = index == null ? "column '" + column + "'"
                    : "column " + (index + 1) + " '" + column + "'";
            return new ResultsInputException(String.format("%s:%d: %s: %s", file, line, where, problem));
        }
    }

    /** Maps character offsets of the file content to 1-based line numbers. */
    private static final class LineIndex {
        private final int[] lineStarts;

        LineIndex(String content) {
            List<Integer> starts = new ArrayList<>();
            starts.add(0);
            for (int i = 0; i < content.length(); i++) {
                char c = content.charAt(i);
                if (c == '\n' || (c == '\r' && (i + 1 >= content.length() || content.charAt(i + 1) != '\n'))) {
                    starts.add(i + 1);
                }
            }
            lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
        }

        long lineOf(long offset) {
            int found = Arrays.binarySearch(lineStarts, (int) offset);
            return (found >= 0 ? found : -found - 2) + 1;
        }
    }
}
