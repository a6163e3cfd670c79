package org.rbench.harness.llamabench;

import picocli.CommandLine;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * llama-bench's output formats ({@code -o}), so that people who read llama-bench's tables read
 * rbench bench's at once and their scripts (llama.cpp's compare-llama-bench among them) take its
 * files: md (the table, "t/s" as mean +- standard deviation), csv, json and jsonl (every field,
 * json and jsonl with each repetition in samples_ns and samples_ts) and sql ({@code CREATE TABLE
 * IF NOT EXISTS llama_bench} and one INSERT per test, for the sqlite3 shell). The table is
 * {@code llama_bench}, as the pinned llama.cpp's llama-bench and compare-llama-bench name it
 * (older releases wrote {@code test}).
 */
public enum LlamaBenchFormat {
    MD, CSV, JSON, JSONL, SQL;

    /** The option's value: md, csv, json, jsonl or sql. */
    public static LlamaBenchFormat parse(String value) {
        for (LlamaBenchFormat f : values()) {
            if (f.name().equalsIgnoreCase(value)) {
                return f;
            }
        }
        throw new IllegalArgumentException("output format must be one of md, csv, json, jsonl, sql; not '" + value + "'");
    }

    /** picocli's converter for {@code -o}. */
    public static final class Converter implements CommandLine.ITypeConverter<LlamaBenchFormat> {
        @Override
        public LlamaBenchFormat convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    public void write(List<LlamaBenchTest> tests, PrintStream out) {
        switch (this) {
            case MD -> markdown(tests, out);
            case CSV -> csv(tests, out);
            case JSON -> json(tests, out);
            case JSONL -> tests.forEach(t -> out.print("{" + jsonFields(t, ", ") + ", \"samples_ns\": [ " + samplesNs(t)
                    + " ], \"samples_ts\": [ " + samplesTs(t) + " ]}\n"));
            case SQL -> sql(tests, out);
        }
        out.flush();
    }

    private static void csv(List<LlamaBenchTest> tests, PrintStream out) {
        out.print(String.join(",", LlamaBenchTest.FIELDS.keySet()) + "\n");
        for (LlamaBenchTest t : tests) {
            out.print(t.values().values().stream().map(v -> "\"" + v.replace("\"", "\"\"") + "\"")
                    .collect(Collectors.joining(",")) + "\n");
        }
    }

    private static void json(List<LlamaBenchTest> tests, PrintStream out) {
        out.print("[\n");
        List<String> objects = new ArrayList<>();
        for (LlamaBenchTest t : tests) {
            objects.add("  {\n    " + jsonFields(t, ",\n    ") + ",\n    \"samples_ns\": [ " + samplesNs(t)
                    + " ],\n    \"samples_ts\": [ " + samplesTs(t) + " ]\n  }");
        }
        out.print(String.join(",\n", objects));
        out.print("\n]\n");
    }

    private static String jsonFields(LlamaBenchTest t, String separator) {
        List<String> fields = new ArrayList<>();
        t.values().forEach((name, value) -> fields.add("\"" + name + "\": " + switch (LlamaBenchTest.FIELDS.get(name)) {
            case STRING -> "\"" + escapeJson(value) + "\"";
            case BOOL -> value.equals("0") ? "false" : "true";
            case INT, FLOAT -> value;
        }));
        return String.join(separator, fields);
    }

    private static String samplesNs(LlamaBenchTest t) {
        return Arrays.stream(t.samplesNs()).mapToObj(Long::toString).collect(Collectors.joining(", "));
    }

    private static String samplesTs(LlamaBenchTest t) {
        return Arrays.stream(t.samplesTs()).mapToObj(LlamaBenchTest::floating).collect(Collectors.joining(", "));
    }

    static String escapeJson(String value) {
        StringBuilder out = new StringBuilder();
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> out.append(c < 0x20 ? String.format(Locale.ROOT, "\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return out.toString();
    }

    private static void sql(List<LlamaBenchTest> tests, PrintStream out) {
        List<String> columns = new ArrayList<>();
        LlamaBenchTest.FIELDS.forEach((name, type) -> columns.add("  " + name + " " + switch (type) {
            case STRING -> "TEXT";
            case BOOL, INT -> "INTEGER";
            case FLOAT -> "REAL";
        }));
        out.print("CREATE TABLE IF NOT EXISTS llama_bench (\n" + String.join(",\n", columns) + "\n);\n\n");
        String names = String.join(", ", LlamaBenchTest.FIELDS.keySet());
        for (LlamaBenchTest t : tests) {
            out.print("INSERT INTO llama_bench (" + names + ") VALUES (" + t.values().values().stream()
                    .map(v -> "'" + v.replace("'", "''") + "'").collect(Collectors.joining(", ")) + ");\n");
        }
    }

    /** llama-bench's column widths: negative is left-aligned (text), positive right-aligned (numbers). */
    private static void markdown(List<LlamaBenchTest> tests, PrintStream out) {
        int methodWidth = Math.max(10, tests.stream().mapToInt(t -> t.method().length()).max().orElse(0));
        String[] headers = {"model", "size", "params", "backend", "threads", "method", "test", "t/s", "ms/token"};
        int[] widths = {-30, 10, 10, -10, 7, -methodWidth, 15, 20, 10};
        out.print(row(headers, widths));
        String[] rule = new String[widths.length];
        for (int i = 0; i < widths.length; i++) {
            rule[i] = "-".repeat(Math.abs(widths[i]) - 1) + (widths[i] > 0 ? ":" : "-");
        }
        out.print(row(rule, widths));
        for (LlamaBenchTest t : tests) {
            Map<String, String> v = t.values();
            out.print(row(new String[] {t.setting().modelType(), size(t.setting().modelSize()),
                    params(t.setting().modelParams()), t.backends(), v.get("n_threads"), t.method(), t.testName(),
                    String.format(Locale.ROOT, "%.2f ± %.2f", t.avgTs(), t.stddevTs()),
                    String.format(Locale.ROOT, "%.2f", t.msPerToken())}, widths));
        }
        if (!tests.isEmpty()) {
            out.print("\nbuild: " + tests.getLast().buildCommit() + " (rbench)\n");
        }
    }

    private static String row(String[] cells, int[] widths) {
        StringBuilder line = new StringBuilder("|");
        for (int i = 0; i < cells.length; i++) {
            int w = Math.abs(widths[i]);
            String cell = cells[i];
            String pad = " ".repeat(Math.max(0, w - cell.length()));
            line.append(' ').append(widths[i] < 0 ? cell + pad : pad + cell).append(" |");
        }
        return line.append('\n').toString();
    }

    private static String size(long bytes) {
        return bytes < 1024L * 1024 * 1024
                ? String.format(Locale.ROOT, "%.2f MiB", bytes / 1024.0 / 1024.0)
                : String.format(Locale.ROOT, "%.2f GiB", bytes / 1024.0 / 1024.0 / 1024.0);
    }

    private static String params(long n) {
        return n < 1_000_000_000L ? String.format(Locale.ROOT, "%.2f M", n / 1e6)
                : String.format(Locale.ROOT, "%.2f B", n / 1e9);
    }
}
