package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsReaderTest {
    private static final String HEADER = String.join(",", ResultsReader.REQUIRED_COLUMNS);

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();
    private final ResultsReader reader = new ResultsReader(warnings::add);

    private Path csv(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }

    /** A ruler row in REQUIRED_COLUMNS order with the given score and decode time. */
    private static String row(String score, String decode) {
        return "r1,ruler,m.gguf,\"recycled:k=4096,s=50\",recycled,7,niah_single_1,32768,3," + score + ",1000," + decode
                + ",10";
    }

    @Test
    void readsTheHarnessFixture() throws Exception {
        List<ResultRow> rows = reader.read(Fixtures.path("report_ruler_ppl.csv"));
        assertEquals(256, rows.size());
        ResultRow first = rows.getFirst();
        assertEquals("fixture-run-1", first.runId());
        assertEquals(Kind.RULER, first.kind());
        assertEquals("full", first.method());
        assertEquals("niah_single_1", first.task());
        assertEquals(32768, first.length());
        assertEquals(100.0, first.score());
        assertEquals(45.839, first.decodeMsMean());
        assertEquals(2, first.line());
        assertEquals(16, rows.stream().filter(r -> r.kind() == Kind.PPL).count());
        assertTrue(warnings.isEmpty());
    }

    @Test
    void parsesQuotedSpecsAndOptionalColumns() throws Exception {
        List<ResultRow> rows = reader.read(csv("ok.csv", HEADER + "\n" + row("50", "12.5") + "\n"));
        ResultRow row = rows.getFirst();
        assertEquals("recycled:k=4096,s=50", row.method());
        assertEquals(7, row.seed());
        assertEquals(12.5, row.decodeMsMean());
        assertTrue(Double.isNaN(row.attentionMassRecall()), "absent optional column is NaN");
        assertEquals(1.125, row.secondsPerExample(), 1e-12);
    }

    /** A method's start (what its policy built from the prefill) counts with the prefill in s/example. */
    @Test
    void aMethodsStartCountsWithItsPrefill() throws Exception {
        ResultRow started = reader.read(csv("start.csv", HEADER + ",start_ms\n" + row("50", "12.5") + ",250\n")).getFirst();
        assertEquals(1250, started.prefillMs(), 1e-9);
        assertEquals(1.375, started.secondsPerExample(), 1e-12);
        ResultRow none = reader.read(csv("no-start.csv", HEADER + ",start_ms\n" + row("50", "12.5") + ",\n")).getFirst();
        assertEquals(1.125, none.secondsPerExample(), 1e-12, "an empty start_ms (llama_decode) adds nothing");
    }

    /** Rows decoded with the tensor-core kernel are their own model: never averaged with stock's, never a repeat of them. */
    @Test
    void theTensorCoreDecodeNamesTheModelApart() throws Exception {
        List<ResultRow> rows = reader.read(csv("kernel.csv", HEADER + ",fa_tensor_core_from\n" + row("50", "12.5") + ",\n"
                + row("50", "9.5") + ",16384\n"));
        assertEquals("m.gguf", rows.get(0).modelFile());
        assertEquals("m.gguf (tensor-core decode from 16384 rows)", rows.get(1).modelFile());
        assertTrue(warnings.isEmpty());
    }

    @Test
    void ignoresUnknownColumnsAndColumnOrder() throws Exception {
        List<String> columns = new ArrayList<>(ResultsReader.REQUIRED_COLUMNS);
        java.util.Collections.reverse(columns);
        String header = "future_column," + String.join(",", columns);
        String[] values = {"r1", "ruler", "m.gguf", "full", "full", "7", "vt", "4096", "0", "100", "1", "2", "3"};
        List<String> reversed = new ArrayList<>(List.of(values));
        java.util.Collections.reverse(reversed);
        List<ResultRow> rows = reader.read(csv("extra.csv", header + "\nwhatever," + String.join(",", reversed) + "\n"));
        assertEquals("vt", rows.getFirst().task());
        assertEquals(4096, rows.getFirst().length());
        assertEquals(2.0, rows.getFirst().decodeMsMean());
    }

    @Test
    void acceptsByteOrderMarkAndCrlf() throws Exception {
        List<ResultRow> rows = reader.read(csv("bom.csv", "\uFEFF" + HEADER + "\r\n" + row("0", "1") + "\r\n"));
        assertEquals(1, rows.size());
        assertEquals("r1", rows.getFirst().runId());
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nope.csv");
        ResultsInputException e = assertThrows(ResultsInputException.class, () -> reader.read(missing));
        assertEquals(missing + ": no such file", e.getMessage());
    }

    @Test
    void missingRequiredColumnsAreListed() throws Exception {
        Path file = csv("cols.csv", "run_id,kind,model_file\nr1,ruler,m\n");
        ResultsInputException e = assertThrows(ResultsInputException.class, () -> reader.read(file));
        assertTrue(e.getMessage().startsWith(file + ": missing required columns method, method_name, seed"),
                e.getMessage());
        assertTrue(e.getMessage().contains("decode_ms_mean"), e.getMessage());
    }

    @Test
    void unparsableNumberNamesFileLineAndColumn() throws Exception {
        Path file = csv("bad.csv", HEADER + "\n" + row("100", "12") + "\n" + row("100", "fast") + "\n");
        ResultsInputException e = assertThrows(ResultsInputException.class, () -> reader.read(file));
        assertEquals(file + ":3: column 12 'decode_ms_mean': cannot parse 'fast' as a number", e.getMessage());
    }

    @Test
    void lineNumbersCountPhysicalLinesAcrossQuotedNewlines() throws Exception {
        String header = HEADER + ",prediction";
        String multiline = row("100", "1") + ",\"first line\nsecond line\"";
        String bad = "r1,ruler,m,full,full,x,vt,1,0,100,1,1,1,";
        Path file = csv("multi.csv", header + "\n" + multiline + "\n" + bad + "\n");
        ResultsInputException e = assertThrows(ResultsInputException.class, () -> reader.read(file));
        assertEquals(file + ":4: column 6 'seed': cannot parse 'x' as an integer", e.getMessage());
    }

    @Test
    void shortRowIsReported() throws Exception {
        Path file = csv("short.csv", HEADER + "\nr1,ruler,m\n");
        ResultsInputException e = assertThrows(ResultsInputException.class, () -> reader.read(file));
        assertTrue(e.getMessage().startsWith(file + ":2: the row has 3 fields but the header has 13"), e.getMessage());
    }

    @Test
    void rulerRowNeedsAScoreAndPplRowNeedsNll() throws Exception {
        Path noScore = csv("noscore.csv", HEADER + "\n" + row("", "1") + "\n");
        assertEquals(noScore + ":2: column 10 'score': a ruler row needs a score",
                assertThrows(ResultsInputException.class, () -> reader.read(noScore)).getMessage());
        Path ppl = csv("ppl.csv", HEADER + ",nll_sum,tokens_scored\nr1,ppl,m,full,full,0,pg19,4096,0,,1,,,,100\n");
        assertEquals(ppl + ":2: column 14 'nll_sum': a ppl row needs nll_sum",
                assertThrows(ResultsInputException.class, () -> reader.read(ppl)).getMessage());
    }

    @Test
    void unknownKindIsSkippedWithAWarning() throws Exception {
        Path file = csv("kind.csv", HEADER + "\n" + row("100", "1").replace(",ruler,", ",energy,") + "\n"
                + row("100", "1") + "\n");
        List<ResultRow> rows = reader.read(file);
        assertEquals(1, rows.size());
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith(file + ":2: skipping row of unknown kind 'energy'"), warnings.getFirst());
    }

    @Test
    void emptyFileAndMalformedQuotingAreInputErrors() throws Exception {
        Path empty = csv("empty.csv", "");
        assertEquals(empty + ": empty file, expected a header row",
                assertThrows(ResultsInputException.class, () -> reader.read(empty)).getMessage());
        Path broken = csv("broken.csv", HEADER + "\nr1,\"ruler\"x,m,full,full,0,vt,1,0,100,1,1,1\n");
        assertTrue(assertThrows(ResultsInputException.class, () -> reader.read(broken)).getMessage()
                .startsWith(broken + ": malformed CSV"));
    }

    @Test
    void headerOnlyFileHasNoRows() throws Exception {
        assertTrue(reader.read(csv("header.csv", HEADER + "\n")).isEmpty());
    }

    @Test
    void aRepeatedSampleIsRefusedNamingBothPlaces() throws Exception {
        // two runs appending to one file: every row twice, which would narrow the intervals
        Path file = csv("twice.csv", HEADER + "\n" + row("100", "1") + "\n" + row("0", "1").replace("r1,", "r2,") + "\n");
        ResultsInputException e = assertThrows(ResultsInputException.class, () -> reader.read(file));
        assertTrue(e.getMessage().contains(file + ":3") && e.getMessage().contains(file + ":2")
                && e.getMessage().contains("rbench merge"), e.getMessage());
    }

    @Test
    void aSampleRepeatedAcrossFilesIsRefusedToo() throws Exception {
        Path a = csv("a.csv", HEADER + "\n" + row("100", "1") + "\n");
        Path b = csv("b.csv", HEADER + "\n" + row("100", "1").replace(",3,100,", ",4,100,") + "\n" + row("0", "1") + "\n");
        ResultsInputException e = assertThrows(ResultsInputException.class, () -> reader.readAll(List.of(a, b)));
        assertTrue(e.getMessage().contains(b + ":3") && e.getMessage().contains(a + ":2"), e.getMessage());
        assertEquals(2, reader.readAll(List.of(a, csv("c.csv", HEADER + "\n"
                + row("100", "1").replace(",7,", ",8,") + "\n"))).size(), "another seed is another sample");
    }
}
