package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same seed gives byte-identical files; different seeds differ. */
class DeterminismTest {

    @Test
    void sameSeedGivesByteIdenticalFilesAndOtherSeedsDiffer(@TempDir Path dir) throws IOException {
        for (RulerTask task : RulerTask.values()) {
            Path a = dir.resolve(task.id() + "-a.jsonl");
            Path b = dir.resolve(task.id() + "-b.jsonl");
            Path c = dir.resolve(task.id() + "-c.jsonl");
            // Fresh generators: nothing is shared but the inputs.
            SampleWriter.writeSamples(TestData.generator(ApproximateTokenizer.bpeLike()).generateAll(task, 4096, 3, 42), a);
            SampleWriter.writeSamples(TestData.generator(ApproximateTokenizer.bpeLike()).generateAll(task, 4096, 3, 42), b);
            SampleWriter.writeSamples(TestData.generator(ApproximateTokenizer.bpeLike()).generateAll(task, 4096, 3, 43), c);
            assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), task.id());
            assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)), task.id());
        }
    }

    @Test
    void aSampleDoesNotDependOnWhichSamplesCameBefore() {
        RulerGenerator inOrder = TestData.generator(ApproximateTokenizer.spmLike());
        List<Sample> samples = inOrder.generateAll(RulerTask.NIAH_MULTIKEY_1, 4096, 4, 7);
        RulerGenerator alone = TestData.generator(ApproximateTokenizer.spmLike());
        assertEquals(samples.get(3), alone.generate(RulerTask.NIAH_MULTIKEY_1, 4096, 3, 7));
        assertNotEquals(samples.get(2).input(), samples.get(3).input(), "samples differ from each other");
    }

    @Test
    void theJsonLinesHaveTheReferenceFields(@TempDir Path dir) throws IOException {
        Sample sample = TestData.generator(ApproximateTokenizer.spmLike()).generate(RulerTask.QA_1, 4096, 0, 42);
        Path file = dir.resolve("qa.jsonl");
        SampleWriter.writeSamples(List.of(sample), file);
        String line = Files.readString(file);
        assertEquals(1, line.lines().count());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
        assertEquals(List.of("index", "input", "outputs", "length", "answer_prefix", "task", "seed", "target_length",
                "tokens_to_generate", "metric", "answer_spans"), iterable(json.fieldNames()));
        assertEquals(sample.input(), json.get("input").asText());
        assertEquals(" Answer:", json.get("answer_prefix").asText());
        assertEquals("qa_1", json.get("task").asText());
        assertEquals("string_match_part", json.get("metric").asText());
        assertEquals(sample.length(), json.get("length").asInt());
    }

    @Test
    void tokenIdsAreThePromptAndTheReferenceCompletion(@TempDir Path dir) throws IOException {
        Tokenizer tokenizer = ApproximateTokenizer.bpeLike();
        Sample sample = TestData.generator(tokenizer).generate(RulerTask.NIAH_SINGLE_1, 4096, 0, 42);
        Path file = dir.resolve("ids.jsonl");
        SampleWriter.writeTokenIds(List.of(sample), tokenizer, file);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(file));
        assertEquals(sample.length() - sample.tokensToGenerate(), json.get("input_ids").size());
        assertEquals(tokenizer.encode(" " + sample.outputs().getFirst()).length, json.get("output_ids").size());
        assertEquals(tokenizer.encode(sample.prompt())[5], json.get("input_ids").get(5).asInt());
    }

    private static List<String> iterable(java.util.Iterator<String> names) {
        List<String> out = new java.util.ArrayList<>();
        names.forEachRemaining(out::add);
        return out;
    }
}
