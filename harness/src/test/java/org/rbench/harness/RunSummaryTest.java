package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code rbench run} ends as the demo does: the report written beside the CSV, its table printed, both paths named. */
class RunSummaryTest {
    @TempDir
    Path dir;

    private Path tinyModel() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        Path model = dir.resolve("tiny.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withVocabulary(vocab), model);
        return model;
    }

    @Test
    void aRulerSweepEndsWithItsSummaryTableAndReportPath() throws Exception {
        Path cfg = Files.writeString(dir.resolve("sweep.yaml"), """
                models: [%s]
                methods: [full, "streamingllm:k=64"]
                tasks: [vt]
                lengths: [1024]
                samples: 1
                max_tokens: 4
                backend: cpu
                threads: 1
                """.formatted(tinyModel()));
        Path csv = dir.resolve("out/sweep.csv");
        CliRun.Result r = CliRun.run("run", cfg.toString(), "--out", csv.toString());
        assertEquals(0, r.code(), r.err());
        Path report = dir.resolve("out/sweep-report");
        assertTrue(Files.isRegularFile(report.resolve("summary.md")), "report written beside the CSV: " + r.out());
        String table = Files.readString(report.resolve("summary.md")).strip();
        assertTrue(r.out().contains(table), "the summary table is printed: " + r.out());
        String tail = r.out().strip();
        assertTrue(tail.endsWith("Tables and plots: " + report + " (summary.md, per_task.md, plots/*.png)"), r.out());
        assertTrue(r.out().contains("Results: " + csv), r.out());

        CliRun.Result again = CliRun.run("run", cfg.toString(), "--out", csv.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains(table), "a finished sweep prints its table again: " + again.out());
    }

    @Test
    void aPerplexitySweepEndsWithItsPerplexityTable() throws Exception {
        Path text = Files.writeString(dir.resolve("text.txt"), "It was the best of times, it was the worst of times. ".repeat(100));
        Path cfg = Files.writeString(dir.resolve("ppl.yaml"), """
                kind: ppl
                models: [%s]
                methods: [full]
                tasks: [%s]
                lengths: [120]
                samples: 1
                max_tokens: 20
                backend: cpu
                threads: 1
                """.formatted(tinyModel(), text));
        Path csv = dir.resolve("ppl.csv");
        CliRun.Result r = CliRun.run("run", cfg.toString(), "--out", csv.toString());
        assertEquals(0, r.code(), r.err());
        Path report = dir.resolve("ppl-report");
        String table = Files.readString(report.resolve("ppl.md")).strip();
        assertTrue(r.out().contains(table), r.out());
        assertTrue(r.out().strip().endsWith("Tables and plots: " + report + " (ppl.md)"), r.out());
    }

    @Test
    void theCoverageSummaryKeepsEveryModelsTableAndDropsTheStepTables() {
        String md = "# Answer coverage\n\nintro\n\n## a.gguf\n\n| t1 |\n\n### niah at 2K\n\n| steps a |\n\n"
                + "## b.gguf\n\n| t2 |\n\n### vt at 2K\n\n| steps b |\n";
        String kept = SweepSummary.withoutSubsections(md);
        org.junit.jupiter.api.Assertions.assertEquals("# Answer coverage\n\nintro\n\n## a.gguf\n\n| t1 |\n\n## b.gguf\n\n| t2 |\n",
                kept);
    }
}
