package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/**
 * The answer-coverage part of the report, from diagnostics rows: the focus layer, the summary per
 * method, the curves by step, and the files {@code rbench report} writes from a diagnostics file
 * beside the results.
 */
class AnswerCoverageTest {
    private static final String MODEL = "m.gguf";
    private static final String RECYCLED = "recycled:k=8,s=16";

    /**
     * Two layers, 6 steps, samples 0 and 1. Layer 0 looks far from the answer; layer 1 walks away
     * from it one token a step (offsets 7, 8, ...). Full attention attends everything; Recycled
     * covers half the answer tokens at layer 1, none at layer 0, and loses layer 1's peak at step
     * 4 in sample 0 and step 3 in sample 1.
     */
    static List<StepRow> rows() {
        List<StepRow> rows = new ArrayList<>();
        for (int sample = 0; sample < 2; sample++) {
            int lost = sample == 0 ? 4 : 3;
            for (int step = 0; step < 6; step++) {
                for (int layer = 0; layer < 2; layer++) {
                    double offset = layer == 0 ? 900 : 7 + step;
                    double distance = layer == 0 ? 890 : 1 + step;
                    rows.add(new StepRow(MODEL, "full", "niah_single_2", 4096, sample, 42, step, layer, true, 1, 1,
                            0.01, 1, offset, distance, 1));
                    boolean kept = layer == 0 || step < lost;
                    rows.add(new StepRow(MODEL, RECYCLED, "niah_single_2", 4096, sample, 42, step, layer, false,
                            layer == 1 ? 0.5 : 0, kept ? 0.9 : 0.1, 0.01, layer == 1 ? 0.5 : 0, offset, distance,
                            kept ? 1 : 0));
                }
            }
        }
        return rows;
    }

    @Test
    void theFocusLayerIsWhereFullAttentionLooksNearestTheAnswers() {
        AnswerCoverage coverage = new AnswerCoverage(rows());
        assertEquals(1, coverage.focusLayer(MODEL, "niah_single_2", 4096));
        assertEquals(1, AnswerCoverage.focusLayer(rows()));
        assertEquals(-1, coverage.focusLayer(MODEL, "vt", 4096));
    }

    @Test
    void summaryPerMethod() {
        List<AnswerCoverage.Summary> summaries = new AnswerCoverage(rows()).summaries();
        assertEquals(List.of("full", RECYCLED), summaries.stream().map(AnswerCoverage.Summary::method).toList());
        AnswerCoverage.Summary full = summaries.getFirst();
        assertEquals(1.0, full.coverage());
        assertEquals(0, full.missed());
        assertTrue(Double.isNaN(full.firstMissMedian()));
        AnswerCoverage.Summary recycled = summaries.get(1);
        assertEquals(2, recycled.samples());
        assertEquals(0.25, recycled.coverage(), 1e-12, "layer 1 half, layer 0 none");
        assertEquals(0.25, recycled.answerMassRecall(), 1e-12, "equal masses: the mean of 0.5 and 0");
        assertEquals("1", recycled.focusLayers());
        assertEquals(0.5, recycled.focusCoverage(), 1e-12);
        assertEquals((4.0 / 6 + 3.0 / 6) / 2, recycled.focusPeakKept(), 1e-12, "4 of 6 and 3 of 6 steps kept");
        assertEquals((0.9 * 4 + 0.1 * 2 + 0.9 * 3 + 0.1 * 3) / 12, recycled.focusMassRecall(), 1e-12);
        assertEquals(3.5, recycled.firstMissMedian(), "steps 4 and 3");
        assertEquals(2, recycled.missed());
    }

    @Test
    void curvesByStep() {
        List<AnswerCoverage.StepPoint> points = new AnswerCoverage(rows()).curves(MODEL, 4096, null);
        AnswerCoverage.StepPoint step3 = points.stream().filter(p -> p.method().equals(RECYCLED) && p.step() == 3)
                .findFirst().orElseThrow();
        assertEquals(2, step3.samples());
        assertEquals(0.5, step3.focusPeakKept(), "sample 1 lost it at step 3");
        assertEquals(0.5, step3.focusMassRecall(), 1e-12);
        assertEquals(10, step3.focusPeakOffset());
        assertEquals(0.25, step3.coverage(), 1e-12);
    }

    @Test
    void reportWritesTheCoverageFilesFromTheDiagnosticsBesideTheResults(@TempDir Path dir) throws Exception {
        Path results = dir.resolve("sweep.csv");
        StringBuilder csv = new StringBuilder("run_id,kind,model_file,method,method_name,seed,task,length,sample_index,"
                + "score,prefill_ms,decode_ms_mean,tokens_generated\n");
        StringBuilder details = new StringBuilder("model_file,model_sha256,method,seed,task,length,sample_index,step,"
                + "position,layer,whole_cache,attended_rows,answer_coverage,mass_recall,topk_overlap,answer_mass,"
                + "answer_mass_recall,peak_offset,peak_distance,peak_attended\n");
        for (StepRow r : rows()) {
            if (r.step() == 0 && r.layer() == 0) {
                csv.append(String.join(",", "r1", "ruler", MODEL, "\"" + r.method() + "\"",
                        MethodOrder.nameOf(r.method()), "42", r.task(), "4096", Integer.toString(r.sampleIndex()),
                        r.method().equals("full") ? "100" : "0", "10", "1", "6")).append('\n');
            }
            details.append(String.join(",", MODEL, "abc", "\"" + r.method() + "\"", "42", r.task(), "4096",
                    Integer.toString(r.sampleIndex()), Integer.toString(r.step()), "100", Integer.toString(r.layer()),
                    r.wholeCache() ? "1" : "0", "8", Double.toString(r.answerCoverage()), Double.toString(r.massRecall()),
                    "0.5", Double.toString(r.answerMass()), Double.toString(r.answerMassRecall()),
                    Integer.toString((int) r.peakOffset()), Integer.toString((int) r.peakDistance()),
                    Integer.toString((int) r.peakAttended()))).append('\n');
        }
        Files.writeString(results, csv);
        Files.writeString(StepRowsReader.besides(results), details);
        Path out = dir.resolve("report");
        int status = ReportCommand.run(new String[] {results.toString(), "--out", out.toString()},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertEquals(0, status);
        String md = Files.readString(out.resolve("coverage.md"));
        assertTrue(md.contains("| Recycled K=8 S=16 |     4K |       2 |   0.0 |    0.250 |              0.250 |           1 |"), md);
        assertTrue(md.contains("### niah_single_2 at 4K: by decode step, focus layer 1"), md);
        assertTrue(md.contains("| Full attention    |   7 |   8 |   9 |  10 |  11 |  12 |"), md);
        String steps = Files.readString(out.resolve("coverage_by_step.csv"));
        assertTrue(steps.contains("m.gguf,\"recycled:k=8,s=16\",Recycled K=8 S=16,4096,niah_single_2,1,4,2,0.2500,0.1000,"
                + "0.0000,11.0\n"), steps);
        for (String plot : List.of("answer_coverage_4K", "focus_mass_recall_4K", "focus_mass_recall_4K_niah_single_2")) {
            assertTrue(Files.isRegularFile(out.resolve("plots").resolve(plot + ".svg")), plot);
        }

        // results without a diagnostics file: no coverage part
        Path plain = dir.resolve("plain.csv");
        Files.writeString(plain, csv);
        Path plainOut = dir.resolve("plain-report");
        assertEquals(0, ReportCommand.run(new String[] {plain.toString(), "--out", plainOut.toString()},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        assertFalse(Files.exists(plainOut.resolve("coverage.md")));
    }

    @Test
    void aBadDiagnosticsFileNamesTheFileAndTheCell(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x.diagnostics.csv");
        Files.writeString(file, "model_file,method\nm,full\n");
        ResultsInputException missing = org.junit.jupiter.api.Assertions.assertThrows(ResultsInputException.class,
                () -> new StepRowsReader().read(file));
        assertTrue(missing.getMessage().startsWith(file + ": not a diagnostics file: missing columns seed"),
                missing.getMessage());
        Files.writeString(file, String.join(",", StepRowsReader.REQUIRED_COLUMNS) + "\n"
                + "m,full,42,vt,4096,0,zero,0,1,1,1,0,1,0,0,1\n");
        ResultsInputException bad = org.junit.jupiter.api.Assertions.assertThrows(ResultsInputException.class,
                () -> new StepRowsReader().read(file));
        assertEquals(file + ": record 1: column 'step': cannot parse 'zero' as an integer", bad.getMessage());
    }
}
