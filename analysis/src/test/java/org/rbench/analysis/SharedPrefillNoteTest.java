package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kv_fill {@code prefill-shared}: the summary tables' s/ex. of such rows includes a prefill
 * shared by every method of the sample, and their notes and captions say so; rows whose
 * prefill was their method's own get no note.
 */
class SharedPrefillNoteTest {
    private final ResultsAggregator aggregator = new ResultsAggregator(0, 1);
    private final ReportTables tables = new ReportTables(aggregator);

    private static ResultRow row(String model, String method, int sample, String kvFill) {
        return TestRows.ruler(method, "vt", sample, 100).model(model).timing(1000, 10, 5).kvFill(kvFill).build();
    }

    private static List<ResultRow> sweep(String model, List<String> methods, String kvFill) {
        List<ResultRow> rows = new ArrayList<>();
        for (String m : methods) {
            for (int s = 0; s < 2; s++) {
                rows.add(row(model, m, s, m.startsWith("llamacpp") ? "prefill" : kvFill));
            }
        }
        return rows;
    }

    @Test
    void readsKvFill(@TempDir Path dir) throws Exception {
        String header = String.join(",", ResultsReader.REQUIRED_COLUMNS);
        String values = "r1,ruler,m.gguf,full,full,7,vt,4096,0,100,1000,5,10";
        ResultsReader reader = new ResultsReader(w -> { });
        Path shared = Files.writeString(dir.resolve("a.csv"), header + ",kv_fill\n" + values + ",prefill-shared\n");
        Path own = Files.writeString(dir.resolve("b.csv"), header + ",kv_fill\n" + values + ",prefill\n");
        Path older = Files.writeString(dir.resolve("c.csv"), header + "\n" + values + "\n");
        assertTrue(reader.read(shared).getFirst().sharedPrefill());
        assertFalse(reader.read(own).getFirst().sharedPrefill());
        assertEquals("", reader.read(older).getFirst().kvFill(), "a file without the column");
        assertFalse(reader.read(older).getFirst().sharedPrefill());
    }

    @Test
    void aGroupIsSharedWhenAnyOfItsRowsIs() {
        List<ResultRow> rows = List.of(row("m.gguf", "h2o:k=64", 0, "prefill"), row("m.gguf", "h2o:k=64", 1, "prefill-shared"),
                row("m.gguf", "full", 0, "prefill"));
        List<AccuracyRow> averages = aggregator.rulerAverages(rows);
        assertEquals(List.of(false, true), averages.stream().map(AccuracyRow::sharedPrefill).toList(),
                averages.stream().map(AccuracyRow::method).toList().toString());
    }

    @Test
    void theNoteAppearsOnlyWhereASharedRowIs() {
        List<String> methods = List.of("full", "h2o:k=64", "recycled:k=64,s=4", "llamacpp");
        List<ResultRow> rows = new ArrayList<>(sweep("a-shared.gguf", methods, "prefill-shared"));
        rows.addAll(sweep("b-own.gguf", methods, "prefill"));
        List<AccuracyRow> averages = aggregator.rulerAverages(rows);
        String md = tables.summaryMarkdown(averages);
        String sectionA = md.substring(md.indexOf("## a-shared.gguf"), md.indexOf("## b-own.gguf"));
        String sectionB = md.substring(md.indexOf("## b-own.gguf"));
        String note = "Shared prefill: the s/ex. of every method but " + MethodLabel.of("llamacpp")
                + " includes one prefill shared by every method of the sample, with the statistics all of them ask for;"
                + " `prefill: own` in the run config times each method's own.";
        assertTrue(sectionA.contains(note), sectionA);
        assertFalse(sectionB.contains("Shared prefill"), sectionB);
        assertEquals(1, md.split("Shared prefill", -1).length - 1, "one note per shared table: " + md);

        String tex = tables.summaryLatex(averages);
        List<String> captions = tex.lines().filter(l -> l.contains("\\caption{")).toList();
        assertEquals(4, captions.size(), tex);
        for (String c : captions) {
            assertEquals(c.contains("a-shared"), c.contains("Shared prefill: the s/ex. of every method but"), c);
        }
        assertTrue(tex.contains("`prefill: own' in the run config"), tex);

        String perTask = tables.perTaskMarkdown(aggregator.rulerPerTask(rows), averages);
        assertFalse(perTask.contains("Shared prefill"), "no s/ex. in the per-task tables");
    }

    @Test
    void theNoteNamesTheFewerSide() {
        List<ResultRow> all = sweep("m.gguf", List.of("full", "h2o:k=64"), "prefill-shared");
        assertTrue(tables.summaryMarkdown(aggregator.rulerAverages(all)).contains("the s/ex. of every method includes"));
        List<ResultRow> one = new ArrayList<>(sweep("m.gguf", List.of("full", "llamacpp", "llamacpp-shift:k=64"), "prefill"));
        one.replaceAll(r -> r.method().equals("full") ? row("m.gguf", "full", r.sampleIndex(), "prefill-shared") : r);
        assertTrue(tables.summaryMarkdown(aggregator.rulerAverages(one))
                .contains("the s/ex. of " + MethodLabel.of("full") + " includes one prefill"));
        assertFalse(tables.summaryMarkdown(aggregator.rulerAverages(sweep("m.gguf", List.of("full", "h2o:k=64"), "prefill")))
                .contains("Shared prefill"));
    }
}
