package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.analysis.plot.ChartFiles;

class ReportCommandTest {
    @TempDir
    Path dir;

    private int status;
    private String out;
    private String err;

    private void run(String... args) {
        ByteArrayOutputStream outBuffer = new ByteArrayOutputStream();
        ByteArrayOutputStream errBuffer = new ByteArrayOutputStream();
        status = ReportCommand.run(args, new PrintStream(outBuffer, true, StandardCharsets.UTF_8),
                new PrintStream(errBuffer, true, StandardCharsets.UTF_8));
        out = outBuffer.toString(StandardCharsets.UTF_8);
        err = errBuffer.toString(StandardCharsets.UTF_8);
    }

    @Test
    void usageErrors() {
        run("--out", dir.toString());
        assertEquals(2, status);
        assertTrue(err.startsWith("Missing required parameter: 'RESULTS.csv'\nUsage: report "), err);
        run(Fixtures.path("report_latency.csv").toString());
        assertEquals(2, status);
        assertTrue(err.startsWith("Missing required option: '--out=DIR'"), err);
        run(Fixtures.path("report_latency.csv").toString(), "--out", dir.toString(), "--bootstrap", "-3");
        assertEquals(2, status);
        assertTrue(err.startsWith("--bootstrap must be at least 0, not -3\nUsage: report "), err);
        run(Fixtures.path("report_latency.csv").toString(), "--out", dir.toString(), "--seed", "one");
        assertEquals(2, status);
        assertTrue(err.startsWith("Invalid value for option '--seed': 'one' is not a long"), err);
        run(Fixtures.path("report_latency.csv").toString(), "--out", dir.toString(), "--bootstrapp", "5");
        assertEquals(2, status);
        assertTrue(err.startsWith("Unknown option: '--bootstrapp'"), err);
        assertTrue(err.contains("Possible solutions: --bootstrap"), err);
        assertFalse(Files.exists(dir.resolve("summary.md")), "nothing is written after a usage error");
    }

    @Test
    void inputErrors() throws Exception {
        Path missing = dir.resolve("missing.csv");
        run(missing.toString(), "--out", dir.resolve("out").toString());
        assertEquals(2, status);
        assertEquals("rbench report: " + missing + ": no such file\n", err);

        Path headerOnly = dir.resolve("header.csv");
        Files.writeString(headerOnly, String.join(",", ResultsReader.REQUIRED_COLUMNS) + "\n");
        run(headerOnly.toString(), "--out", dir.resolve("out").toString());
        assertEquals(2, status);
        assertEquals("rbench report: the results files contain no rows\n", err);
    }

    @Test
    void unwritableOutputIsAnInputError() throws Exception {
        Path file = dir.resolve("a-file");
        Files.writeString(file, "x");
        run(Fixtures.path("report_latency.csv").toString(), "--out", file.toString());
        assertEquals(2, status);
        assertEquals("rbench report: --out " + file + " is a file, not a directory\n", err);
    }

    @Test
    void bootstrapCanBeTurnedOffAndSeeded() throws Exception {
        run(Fixtures.path("report_ruler_ppl.csv").toString(), "--out", dir.resolve("a").toString(), "--bootstrap", "0");
        assertEquals(0, status, err);
        String noIntervals = Files.readString(dir.resolve("a/summary.csv"));
        assertTrue(noIntervals.contains(",96.7,,,1.80,"), noIntervals);
        assertTrue(Files.readString(dir.resolve("a/summary.md")).contains("95% CI: percentile bootstrap over samples"
                + " within each task (turned off)"));

        run(Fixtures.path("report_ruler_ppl.csv").toString(), "--out", dir.resolve("b").toString(), "--seed", "7",
                "--bootstrap", "300");
        String seven = Files.readString(dir.resolve("b/summary.csv"));
        run(Fixtures.path("report_ruler_ppl.csv").toString(), "--out", dir.resolve("c").toString(), "--seed", "7",
                "--bootstrap", "300");
        assertEquals(seven, Files.readString(dir.resolve("c/summary.csv")));
    }

    /** A machine without fonts cannot draw plots; the tables are written all the same and the reason is said. */
    @Test
    void withoutFontsTheTablesAreWrittenAndThePlotsExplained() throws Exception {
        System.setProperty(ChartFiles.FONTS_PROPERTY, "off");
        try {
            run(Fixtures.path("report_latency.csv").toString(), "--out", dir.toString(), "--bootstrap", "0");
        } finally {
            System.clearProperty(ChartFiles.FONTS_PROPERTY);
        }
        assertEquals(0, status, err);
        assertTrue(Files.exists(dir.resolve("summary.md")) && Files.exists(dir.resolve("latency.md")));
        assertFalse(Files.exists(dir.resolve("plots")));
        assertEquals("warning: no plots written: " + ChartFiles.NO_FONTS + "; the tables are complete\n", err);
        assertFalse(out.contains("plots/"), out);
    }

    /** The GPU bundle's runtime has no java.desktop: the tables are written, the plots explained, nothing thrown. */
    @Test
    void withoutJavaDesktopTheTablesAreWrittenAndThePlotsExplained() throws Exception {
        System.setProperty(ChartFiles.DESKTOP_PROPERTY, "off");
        try {
            run(Fixtures.path("report_latency.csv").toString(), "--out", dir.toString(), "--bootstrap", "0");
        } finally {
            System.clearProperty(ChartFiles.DESKTOP_PROPERTY);
        }
        assertEquals(0, status, err);
        assertTrue(Files.exists(dir.resolve("summary.md")) && Files.exists(dir.resolve("latency.md")));
        assertFalse(Files.exists(dir.resolve("plots")));
        assertEquals("warning: no plots written: " + ChartFiles.NO_DESKTOP + "; the tables are complete\n", err);
    }

    @Test
    void helpExitsWithZero() {
        run("-h");
        assertEquals(0, status);
        assertTrue(out.startsWith("Usage: report [-h] [--bootstrap=N] --out=DIR [--seed=S] RESULTS.csv..."), out);
        assertTrue(out.contains("Default: " + ResultsAggregator.DEFAULT_BOOTSTRAP_RESAMPLES), out);
    }
}
