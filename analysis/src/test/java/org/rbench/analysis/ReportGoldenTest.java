package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The report of the fixture run, table by table, against the committed expected text. */
class ReportGoldenTest {
    @TempDir
    static Path out;

    private static String stdout;

    @BeforeAll
    static void writeReport() {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        int status = ReportCommand.run(new String[] {
            Fixtures.path("report_ruler_ppl.csv").toString(), Fixtures.path("report_latency.csv").toString(),
            "--out", out.toString()}, new PrintStream(buffer, true, StandardCharsets.UTF_8),
                new PrintStream(errors, true, StandardCharsets.UTF_8));
        assertEquals(0, status, errors.toString(StandardCharsets.UTF_8));
        stdout = buffer.toString(StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"summary.md", "summary.tex", "summary.csv", "per_task.md", "per_task.tex",
        "per_task.csv", "ppl.md", "ppl.tex", "ppl.csv", "latency.md", "latency.csv"})
    void tableMatchesGolden(String name) throws Exception {
        GoldenFiles.assertMatches("report/" + name, Files.readString(out.resolve(name), StandardCharsets.UTF_8));
    }

    @Test
    void writesEveryPlotAsPngAndSvg() throws Exception {
        List<String> plots;
        try (Stream<Path> files = Files.list(out.resolve("plots"))) {
            plots = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("attention_mass_recall.png", "attention_mass_recall.svg", "frontier_32K.png",
                "frontier_32K.svg", "frontier_64K.png", "frontier_64K.svg", "ms_per_token.png", "ms_per_token.svg",
                "speedup_vs_bound.png", "speedup_vs_bound.svg"), plots);
        for (String plot : plots) {
            if (plot.endsWith(".png")) {
                PlotAssertions.assertValidPng(out.resolve("plots").resolve(plot), 900, 540);
            } else {
                PlotAssertions.parseSvg(out.resolve("plots").resolve(plot));
            }
        }
    }

    @Test
    void listsWhatItWrote() {
        assertTrue(stdout.startsWith("rbench report: 304 rows, wrote 21 files to " + out), stdout);
        assertTrue(stdout.contains("  plots/frontier_32K.svg"), stdout);
    }

    @Test
    void kindsWithoutRowsGetNoFiles(@TempDir Path other) {
        int status = ReportCommand.run(new String[] {Fixtures.path("compare_baseline.csv").toString(), "--out",
            other.toString(), "--bootstrap", "50"}, new PrintStream(new ByteArrayOutputStream()), System.err);
        assertEquals(0, status);
        assertFalse(Files.exists(other.resolve("ppl.md")));
        assertTrue(Files.exists(other.resolve("latency.md")));
        assertTrue(Files.exists(other.resolve("summary.md")));
    }
}
