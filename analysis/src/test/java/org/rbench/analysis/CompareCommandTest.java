package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareCommandTest {
    private static final String BASELINE = Fixtures.path("compare_baseline.csv").toString();
    private static final String NOISE = Fixtures.path("compare_candidate_noise.csv").toString();
    private static final String REGRESSION = Fixtures.path("compare_candidate_regression.csv").toString();

    @TempDir
    Path dir;

    private record Outcome(int status, String out, String err) {
    }

    private static Outcome run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = CompareCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void flagsTheInjectedLatencyRegressionAndAccuracyDrop() throws Exception {
        Path report = dir.resolve("nightly/report.md");
        Outcome outcome = run(BASELINE, REGRESSION, "--report", report.toString());
        assertEquals(1, outcome.status(), outcome.err());
        // Every flagged line is about the two injected changes, and both are there.
        List<String> flagged = outcome.out().lines().filter(l -> l.startsWith("  ")).toList();
        assertTrue(flagged.stream().anyMatch(l -> l.startsWith("  Accuracy, tiny-llama-q4.gguf, StreamingLLM K=4096, 32K:"
                + " 48.5 -> 43.5 (-5.0 points")), outcome.out());
        assertTrue(flagged.stream().anyMatch(l -> l.startsWith("  Decode latency (latency rows)")
                && l.contains("Recycled K=4096 S=50")), outcome.out());
        assertTrue(flagged.stream().allMatch(l -> l.contains("StreamingLLM K=4096, 32K: 48.5")
                || l.contains("Recycled K=4096 S=50")), outcome.out());
        assertTrue(outcome.out().startsWith("Result: 4 regressions. Report: " + report), outcome.out());
        // The file holds the report; only the table of file names (first 6 lines) differs from the golden.
        assertEquals(goldenReport(REGRESSION, "compare_candidate_regression.csv").lines().skip(6).toList(),
                Files.readString(report, StandardCharsets.UTF_8).lines().skip(6).toList());
        GoldenFiles.assertMatches("compare/regression.md", goldenReport(REGRESSION, "compare_candidate_regression.csv"));
    }

    /** The report rendered with bare file names, so that it does not depend on where the fixtures lie. */
    private static String goldenReport(String candidate, String candidateName) throws Exception {
        ResultsReader reader = new ResultsReader(w -> {
            throw new AssertionError(w);
        });
        ComparisonThresholds thresholds = ComparisonThresholds.defaults();
        Comparison comparison = new RunComparator(thresholds, RunComparator.DEFAULT_ITERATIONS,
                RunComparator.DEFAULT_SEED).compare(reader.read(Path.of(BASELINE)), reader.read(Path.of(candidate)));
        return new ComparisonReport(thresholds, RunComparator.DEFAULT_ITERATIONS, RunComparator.DEFAULT_SEED)
                .markdown(comparison, "compare_baseline.csv", candidateName);
    }

    @Test
    void doesNotFlagDifferencesWithinNoise() throws Exception {
        Outcome outcome = run(BASELINE, NOISE);
        assertEquals(0, outcome.status(), outcome.out() + outcome.err());
        assertTrue(outcome.out().contains("**Result: no regression.**"), outcome.out());
        assertTrue(outcome.out().contains("| File | " + BASELINE), "without --report the report goes to stdout");
        GoldenFiles.assertMatches("compare/noise.md", goldenReport(NOISE, "compare_candidate_noise.csv"));
    }

    @Test
    void comparingARunWithItselfPasses() {
        assertEquals(0, run(BASELINE, BASELINE).status());
    }

    @Test
    void thresholdsAreConfigurable() {
        // The injected slowdown is about 10%: a 15% allowance lets it pass, the accuracy drop still fails.
        Outcome latencyAllowed = run(BASELINE, REGRESSION, "--max-latency-regression", "15");
        assertEquals(1, latencyAllowed.status());
        assertTrue(latencyAllowed.out().contains("**Result: 1 regression.**"), latencyAllowed.out());
        assertEquals(0, run(BASELINE, REGRESSION, "--max-latency-regression=15", "--max-accuracy-drop", "6").status());
        // A stricter alpha than the drop's p-value (0.002) also lets the accuracy drop pass as noise.
        Outcome strict = run(BASELINE, REGRESSION, "--alpha", "0.001", "--max-latency-regression", "15");
        assertEquals(0, strict.status(), strict.out());
        assertTrue(strict.out().contains("within noise"), strict.out());
    }

    @Test
    void usageErrorsExitWithTwo() {
        for (String[] args : List.of(new String[] {}, new String[] {BASELINE}, new String[] {BASELINE, NOISE, NOISE},
                new String[] {BASELINE, NOISE, "--alpha", "2"}, new String[] {BASELINE, NOISE, "--alpha", "x"},
                new String[] {BASELINE, NOISE, "--max-accuracy-drop", "-1"}, new String[] {BASELINE, NOISE, "--bogus"},
                new String[] {BASELINE, NOISE, "--report"})) {
            Outcome outcome = run(args);
            assertEquals(2, outcome.status(), String.join(" ", args));
            assertTrue(outcome.err().contains("Usage: compare "), outcome.err());
            assertEquals("", outcome.out(), "no report after a usage error");
        }
        assertTrue(run(BASELINE, NOISE, "--alpha", "2").err().startsWith("--alpha must be strictly between 0 and 1,"
                + " not 2.0\n"));
        assertTrue(run(BASELINE, NOISE, "--alpha", "0").err().startsWith("--alpha must be strictly"));
        assertTrue(run(BASELINE, NOISE, "--alpha", "x").err().startsWith("Invalid value for option '--alpha': 'x' is not"
                + " a double"));
        assertTrue(run(BASELINE, NOISE, "--iterations", "0").err().startsWith("--iterations must be at least 1"));
        assertTrue(run(BASELINE, NOISE, "--bogus").err().startsWith("Unknown option: '--bogus'"));
        assertTrue(run(BASELINE).err().startsWith("Missing required parameter: 'CANDIDATE.csv'"));
    }

    @Test
    void inputErrorsExitWithTwoAndSayWhere() throws Exception {
        Path missing = dir.resolve("missing.csv");
        Outcome outcome = run(BASELINE, missing.toString());
        assertEquals(2, outcome.status());
        assertEquals("rbench compare: " + missing + ": no such file\n", outcome.err());

        List<String> lines = new ArrayList<>(Files.readAllLines(Path.of(NOISE)));
        lines.set(5, lines.get(5).replace(",string_match_all,100.0,", ",string_match_all,1OO,")
                .replace(",string_match_all,0.0,", ",string_match_all,1OO,"));
        Path broken = dir.resolve("broken.csv");
        Files.write(broken, lines);
        Outcome bad = run(BASELINE, broken.toString());
        assertEquals(2, bad.status());
        assertEquals("rbench compare: " + broken + ":6: column 18 'score': cannot parse '1OO' as a number\n", bad.err());
    }

    @Test
    void nothingInCommonIsAnError() throws Exception {
        Path other = dir.resolve("other.csv");
        Files.writeString(other, Files.readString(Path.of(NOISE)).replace("tiny-llama-q4.gguf", "other.gguf"));
        Outcome outcome = run(BASELINE, other.toString());
        assertEquals(2, outcome.status());
        assertTrue(outcome.err().contains("nothing to compare"), outcome.err());
    }

    @Test
    void helpExitsWithZero() {
        Outcome outcome = run("--help");
        assertEquals(0, outcome.status());
        assertTrue(outcome.out().startsWith("Usage: compare "), outcome.out());
        assertTrue(outcome.out().contains("Default: " + RunComparator.DEFAULT_ITERATIONS), outcome.out());
    }
}
