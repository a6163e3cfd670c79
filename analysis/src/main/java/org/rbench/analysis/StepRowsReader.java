package org.rbench.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads the diagnostics files the harness writes beside its results ({@code X.csv} ->
 * {@code X.diagnostics.csv}, schema in docs/CSV.md) into {@link StepRow}s. Columns are found by
 * name; errors name the file, record and column.
 */
public final class StepRowsReader {
    static final List<String> REQUIRED_COLUMNS = List.of("model_file", "method", "seed", "task", "length",
            "sample_index", "step", "layer", "whole_cache", "answer_coverage", "mass_recall", "answer_mass",
            "answer_mass_recall", "peak_offset", "peak_distance", "peak_attended");

    private static final CSVFormat FORMAT = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true)
            .setIgnoreEmptyLines(true).get();

    /** The diagnostics file beside a results file, as the harness names it. */
    public static Path besides(Path results) {
        String name = results.getFileName().toString();
        String stem = name.endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
        return results.resolveSibling(stem + ".diagnostics.csv");
    }

    /** The rows of the diagnostics files beside the given results files; files without one add none. */
    public List<StepRow> readBesides(List<Path> resultsFiles) throws ResultsInputException {
        List<StepRow> rows = new ArrayList<>();
        for (Path results : resultsFiles) {
            Path file = besides(results);
            if (Files.isRegularFile(file)) {
                rows.addAll(read(file));
            }
        }
        return rows;
    }

    public List<StepRow> read(Path file) throws ResultsInputException {
        List<StepRow> rows = new ArrayList<>();
        try (CSVParser parser = CSVParser.parse(file, StandardCharsets.UTF_8, FORMAT)) {
            Map<String, Integer> header = parser.getHeaderMap();
            List<String> missing = REQUIRED_COLUMNS.stream().filter(c -> header == null || !header.containsKey(c)).toList();
            if (!missing.isEmpty()) {
                throw new ResultsInputException(file + ": not a diagnostics file: missing column"
                        + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing));
            }
            for (CSVRecord record : parser) {
                rows.add(row(file, header, record));
            }
        } catch (IOException | IllegalStateException | java.io.UncheckedIOException e) {
            throw new ResultsInputException(file + ": malformed CSV: " + e.getMessage(), e);
        }
        return rows;
    }

    private static StepRow row(Path file, Map<String, Integer> header, CSVRecord record) throws ResultsInputException {
        if (record.size() != header.size()) {
            throw new ResultsInputException(file + ": record " + record.getRecordNumber() + " has " + record.size()
                    + " fields but the header has " + header.size());
        }
        Fields f = new Fields(file, record, header);
        return new StepRow(f.text("model_file"), f.text("method"), f.text("task"), (int) f.integer("length"),
                (int) f.integer("sample_index"), f.integer("seed"), (int) f.integer("step"), (int) f.integer("layer"),
                f.integer("whole_cache") == 1, f.number("answer_coverage"), f.number("mass_recall"),
                f.number("answer_mass"), f.number("answer_mass_recall"), f.number("peak_offset"),
                f.number("peak_distance"), f.number("peak_attended"));
    }

    private record Fields(Path file, CSVRecord record, Map<String, Integer> header) {
        String text(String column) {
            return record.get(header.get(column));
        }

        long integer(String column) throws ResultsInputException {
            try {
                return Long.parseLong(text(column).trim());
            } catch (NumberFormatException e) {
                throw error(column, "cannot parse '" + text(column) + "' as an integer");
            }
        }

        /** A number, NaN when empty. */
        double number(String column) throws ResultsInputException {
            String value = text(column).trim();
            if (value.isEmpty()) {
                return Double.NaN;
            }
            try {
                return Double.parseDouble(value);
            } catch (NumberFormatException e) {
                throw error(column, "cannot parse '" + value + "' as a number");
            }
        }

        ResultsInputException error(String column, String problem) {
            return new ResultsInputException(file + ": record " + record.getRecordNumber() + ": column '" + column
                    + "': " + problem);
        }
    }
}
