package org.rbench.harness;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PerplexityRunTest {
    @TempDir
    Path dir;

    @Test
    void teacherForcedPerplexityPerMethodFromASweep() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        Path model = dir.resolve("m.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withVocabulary(vocab), model);
        Path text = dir.resolve("text.txt");
        Files.writeString(text, "It was the best of times, it was the worst of times. ".repeat(200));
        Path cfg = dir.resolve("ppl.yaml");
        Files.writeString(cfg, """
                kind: ppl
                models: [%s]
                methods: [full, "recycled:k=512,s=4", "streamingllm:k=32"]
                tasks: [%s]
                lengths: [200]
                samples: 2
                max_tokens: 40
                backend: cpu
                threads: 1
                """.formatted(model, text));
        Path out = dir.resolve("ppl.csv");
        assertEquals(0, Main.run("run", cfg.toString(), "--out", out.toString()));
        Map<String, Double> nll = new HashMap<>();
        try (var r = Files.newBufferedReader(out)) {
            for (CSVRecord rec : CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
                assertEquals("ppl", rec.get("kind"));
                assertEquals("40", rec.get("tokens_scored"));
                nll.merge(rec.get("method"), Double.parseDouble(rec.get("nll_sum")), Double::sum);
            }
        }
        assertEquals(3, nll.size());
        assertEquals(nll.get("full"), nll.get("recycled:k=512,s=4"), 1e-2 * Math.abs(nll.get("full")),
                "a budget covering the document gives full attention's perplexity");
        assertTrue(Math.abs(nll.get("full") - nll.get("streamingllm:k=32")) > 1e-3, "a 32-token window changes it");
        List<String> rows = Files.readAllLines(out);
        assertEquals(1 + 6, rows.size(), "2 documents x 3 methods");
    }
}
