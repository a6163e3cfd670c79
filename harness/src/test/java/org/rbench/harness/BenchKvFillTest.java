package org.rbench.harness;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench's kv_fill: a real prefill that computed statistics a method did not ask for is marked as shared for it. */
class BenchKvFillTest {
    private static String printed;

    private static List<CSVRecord> bench(Path dir, String methods, String fill) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        if (!Files.exists(model)) {
            TinyModel.write(model);
        }
        Path csv = dir.resolve(methods.replaceAll("[^a-z0-9]", "_") + "-" + fill + ".csv");
        CliRun.Result r = CliRun.run("bench", "--model", model.toString(), "--backend", "cpu", "--threads", "1", "--fill", fill,
                "--ctx", "64", "--tokens", "2", "--repeats", "1", "--warmup", "0", "--methods", methods, "--out", csv.toString());
        assertEquals(0, r.code(), r.err());
        printed = r.out();
        try (CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(Files.newBufferedReader(csv))) {
            return p.getRecords();
        }
    }

    @Test
    void aPrefillServingSeveralEngineMethodsIsShared(@TempDir Path dir) throws Exception {
        for (CSVRecord row : bench(dir, "full,h2o:k=8,llamacpp", "prefill")) {
            // the prefill computed H2O's column sums: full attention's time is not its own, H2O's is
            String want = row.get("method").equals("full") ? "prefill-shared" : "prefill";
            assertEquals(want, row.get("kv_fill"), row.get("method"));
        }
        assertTrue(printed.contains("prefill ms: the engine's methods share one prefill"), printed);
        assertTrue(printed.contains("start ms"), printed);
        for (CSVRecord row : bench(dir, "full,llamacpp", "prefill")) {
            assertEquals("prefill", row.get("kv_fill"), row.get("method") + ": the only engine method has its own prefill");
            // an engine method's policy start is timed (full attention's builds nothing: a few microseconds)
            assertEquals(row.get("method").equals("llamacpp"), row.get("start_ms").isEmpty(), row.get("method"));
            // the CPU computes each step before its launch returns: nothing is queued ahead there
            assertEquals(row.get("method").equals("llamacpp") ? "" : "0", row.get("steps_queued_ahead"), row.get("method"));
            // the CPU backend has no flash attention that writes its logits: a second product gives the probabilities
            assertEquals(row.get("method").equals("llamacpp") ? "" : "0", row.get("flash_scores"), row.get("method"));
        }
        assertFalse(printed.contains("share one prefill"), printed);
        for (CSVRecord row : bench(dir, "full,h2o:k=8", "synthetic")) {
            assertEquals("synthetic", row.get("kv_fill"), row.get("method"));
        }
    }
}
