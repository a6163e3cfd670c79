package org.rbench.harness.history;

import org.rbench.harness.CliRun;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.harness.Main;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code rbench history} on made-up nights, from the command line to the SQLite file and back. */
class HistoryCommandTest {
    private static void addNight(Path dir, String db, int night, long seed, MadeUpNights.Regression regression)
            throws Exception {
        Path csv = MadeUpNights.write(dir, night, seed, regression);
        CliRun.Result added = CliRun.run("history", "add", csv.toString(), "--db", db, "--night", "2026-12-0" + night);
        assertEquals(0, added.code(), added.err());
        assertTrue(added.out().contains("night 2026-12-0" + night + ", 40 rows (0 replaced"), added.out());
    }

    @Test
    void fiveNightsOfNoiseAreNotFlaggedAndAnInjectedRegressionIs(@TempDir Path dir) throws Exception {
        String db = dir.resolve("history.sqlite").toString();
        for (int night = 1; night <= 5; night++) {
            addNight(dir, db, night, night, MadeUpNights.Regression.NONE);
            CliRun.Result check = CliRun.run("history", "check", "--db", db);
            assertEquals(0, check.code(), check.out() + check.err());
            assertTrue(check.out().contains("no regression"), check.out());
        }
        CliRun.Result fifth = CliRun.run("history", "check", "--db", db);
        assertTrue(fifth.out().contains("no regression in 32 checked series"), "8 series x (ms/token twice, s/example, accuracy): "
                + fifth.out());

        addNight(dir, db, 6, 6, new MadeUpNights.Regression("recycled:k=256,s=16", 4096, 1.3, 2));
        Path report = dir.resolve("check.md");
        CliRun.Result check = CliRun.run("history", "check", "--db", db, "--report", report.toString());
        assertEquals(1, check.code(), check.out() + check.err());
        List<String> named = check.out().lines().filter(l -> l.startsWith("  REGRESSION ")).sorted().toList();
        assertEquals(3, named.size(), check.out());
        assertTrue(named.get(0).contains("latency.ms_per_token, Recycled K=256 S=16 at 4K")
                && named.get(1).contains("ruler.accuracy, Recycled K=256 S=16 at 4K")
                && named.get(2).contains("ruler.ms_per_token, Recycled K=256 S=16 at 4K"), check.out());
        assertTrue(named.get(0).contains("commit commit6 (night 2026-12-06), the night before commit5"), named.get(0));
        assertTrue(Files.readString(report).contains("3 regressions"), "the report is written");
        assertEquals(0, CliRun.run("history", "check", "--db", db, "--night", "2026-12-05").code(), "an older night passes");

        CliRun.Result show = CliRun.run("history", "show", "--db", db, "--nights", "3", "--metric", "latency.ms");
        assertEquals(0, show.code(), show.err());
        assertTrue(show.out().contains("| 2026-12-04 | 2026-12-05 | 2026-12-06 |") && show.out().contains("**REGRESSION**")
                && !show.out().contains("ruler."), show.out());
        CliRun.Result csv = CliRun.run("history", "show", "--db", db, "--format", "csv");
        assertTrue(csv.out().startsWith("Setting,Metric,Method,Length,2026-12-01,"), csv.out());

        Path plots = dir.resolve("plots");
        CliRun.Result plot = CliRun.run("history", "plot", "--db", db, "--out", plots.toString(), "--metric",
                "latency.ms_per_token,ruler.accuracy");
        assertEquals(0, plot.code(), plot.err());
        assertTrue(plot.out().startsWith("4 plots (8 files)"), plot.out());
        assertTrue(Files.size(plots.resolve("latency.ms_per_token_4K.png")) > 1000);
        // XChart writes text as outlines: the SVG is checked for being one, the legend through the chart model (TrendPlotsTest)
        assertTrue(Files.readString(plots.resolve("latency.ms_per_token_4K.svg")).contains("<svg"));

        // plain SQL reads it, one row per (night, commit, machine, backend, model, method, length, metric)
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
             ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*), COUNT(DISTINCT night), "
                     + "COUNT(DISTINCT metric) FROM nightly")) {
            assertArrayEquals(new int[] {6 * 40, 6, 5}, new int[] {rs.getInt(1), rs.getInt(2), rs.getInt(3)});
        }
        CliRun.Result again = CliRun.run("history", "add", dir.resolve("night-6.csv").toString(), "--db", db, "--night", "2026-12-06");
        assertTrue(again.out().contains("40 rows (40 replaced"), "adding a night again replaces it: " + again.out());
    }

    @Test
    void badInputIsAClearErrorAndLeavesTheHistoryAlone(@TempDir Path dir) throws Exception {
        Path notSqlite = dir.resolve("notes.txt");
        Files.writeString(notSqlite, "my notes\n");
        Path csv = MadeUpNights.write(dir, 1, 1, MadeUpNights.Regression.NONE);
        CliRun.Result wrongFile = CliRun.run("history", "add", csv.toString(), "--db", notSqlite.toString());
        assertEquals(2, wrongFile.code());
        assertTrue(wrongFile.err().contains("not an SQLite database"), wrongFile.err());
        assertEquals("my notes\n", Files.readString(notSqlite), "the file is left as it was");

        String db = dir.resolve("h.sqlite").toString();
        CliRun.Result badNight = CliRun.run("history", "add", csv.toString(), "--db", db, "--night", "yesterday");
        assertEquals(2, badNight.code());
        assertTrue(badNight.err().contains("--night must be a date like 2026-12-04"), badNight.err());
        CliRun.Result missing = CliRun.run("history", "check", "--db", db);
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no such history"), missing.err());
        Path notResults = dir.resolve("other.csv");
        Files.writeString(notResults, "a,b\n1,2\n");
        CliRun.Result wrongCsv = CliRun.run("history", "add", notResults.toString(), "--db", db);
        assertEquals(2, wrongCsv.code());
        assertTrue(wrongCsv.err().contains("missing required columns"), wrongCsv.err());
        assertTrue(!Files.exists(Path.of(db)), "nothing was created for input that failed");
        CliRun.Result first = CliRun.run("history", "add", csv.toString(), "--db", db, "--night", "2026-12-01");
        assertEquals(0, first.code(), first.err());
        CliRun.Result young = CliRun.run("history", "check", "--db", db);
        assertEquals(0, young.code(), "one night: nothing to judge yet, not a failure");
        assertTrue(young.out().contains("32 series had fewer than 2 earlier nights"), young.out());
        CliRun.Result unknownNight = CliRun.run("history", "check", "--db", db, "--night", "2026-11-30");
        assertEquals(2, unknownNight.code());
        assertTrue(unknownNight.err().contains("has no night 2026-11-30"), unknownNight.err());
        CliRun.Result noMetric = CliRun.run("history", "show", "--db", db, "--metric", "joules");
        assertEquals(2, noMetric.code());
        assertTrue(noMetric.err().contains("no metric matches [joules]"), noMetric.err());
    }
}
