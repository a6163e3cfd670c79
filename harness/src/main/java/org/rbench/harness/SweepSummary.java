package org.rbench.harness;

import org.rbench.analysis.ReportCommand;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * How a sweep ends, in {@code run} and {@code demo} alike: the report of the whole results
 * file (rows from earlier, resumed runs included) written into a folder, the table for the
 * sweep's kind printed, and where the CSV and the report are.
 */
final class SweepSummary {
    private SweepSummary() {
    }

    /** The report folder of a results file: {@code results/x.csv} -> {@code results/x-report}. */
    static Path reportFolderOf(Path csv) {
        String name = csv.getFileName().toString().replaceFirst("\\.csv$", "");
        return csv.resolveSibling(name + "-report");
    }

    /** Writes the report of {@code csv} into {@code report} and prints its table; returns the report's exit code. */
    static int print(String kind, Path csv, Path report, PrintStream out, PrintStream err) throws IOException {
        if (!Files.exists(csv) || headerOnly(csv)) {
            err.println("rbench: no rows in " + csv + ", so no report");
            return 0;
        }
        ByteArrayOutputStream quiet = new ByteArrayOutputStream();
        int code = ReportCommand.run(new String[] {csv.toString(), "--out", report.toString()},
                new PrintStream(quiet, true, StandardCharsets.UTF_8), err);
        if (code != 0) {
            return code;
        }
        List<String> tables = switch (kind) {
            case "ppl" -> List.of("ppl.md");
            case "latency" -> List.of("latency.md");
            default -> List.of("summary.md", "per_task.md");
        };
        out.println();
        out.println(Files.readString(report.resolve(tables.getFirst())));
        List<String> files = new ArrayList<>(tables);
        Path coverage = report.resolve("coverage.md");
        if (Files.isRegularFile(coverage)) {
            // answer coverage (a sweep with diagnostics): coverage.md without its per-task step tables
            out.println(withoutSubsections(Files.readString(coverage)));
            files.add("coverage.md");
        }
        Path plots = report.resolve("plots");
        if (Files.isDirectory(plots)) {
            try (Stream<Path> s = Files.list(plots)) {
                if (s.anyMatch(p -> p.toString().endsWith(".png"))) {
                    files.add("plots/*.png");
                }
            }
        }
        out.println("Results: " + csv);
        out.println("Tables and plots: " + report + " (" + String.join(", ", files) + ")");
        return 0;
    }

    private static boolean headerOnly(Path csv) throws IOException {
        try (Stream<String> lines = Files.lines(csv, StandardCharsets.UTF_8)) {
            return lines.limit(2).count() < 2;
        }
    }

    /** Markdown without its "### " subsections: each "## " section keeps what comes before its first subsection. */
    static String withoutSubsections(String markdown) {
        StringBuilder kept = new StringBuilder();
        boolean skipping = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.startsWith("### ")) {
                skipping = true;
            } else if (line.startsWith("## ") || line.startsWith("# ")) {
                skipping = false;
            }
            if (!skipping) {
                kept.append(line).append('\n');
            }
        }
        return kept.toString().stripTrailing() + "\n";
    }
}
