package org.rbench.core.generate;

import org.junit.jupiter.api.Test;
import org.rbench.core.ModelSession;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.Greedy;
import org.rbench.core.reference.LlamaReference;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.ModelSpec;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GeneratorTest {

    private static Path withVocabulary() {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        return TestModels.spec("tiny-llama-spm", ModelSpec.preset("tiny-llama", GgmlType.F16).withVocabulary(vocab));
    }

    @Test
    void streamsTheSameGreedyTokensAsLlamaCpp() {
        Path model = withVocabulary();
        try (ModelSession s = ModelSession.open(model, "cpu", 1, EngineOptions.defaults(128));
             LlamaReference ref = new LlamaReference(model, 128, 64, 1, true, GgmlType.F16)) {
            List<Integer> streamed = new ArrayList<>();
            StringBuilder streamedText = new StringBuilder();
            GenerationResult r = s.generator().generate("The quick brown fox", GenerationOptions.maxTokens(12).ignoringEndOfGeneration(),
                    new FullAttention(), (i, token, text) -> {
                        assertEquals(streamed.size(), i);
                        streamed.add(token);
                        streamedText.append(text);
                    });
            assertEquals(StopReason.TOKEN_LIMIT, r.stopReason());
            assertEquals(12, r.tokens().length);
            assertArrayEquals(r.tokens(), streamed.stream().mapToInt(Integer::intValue).toArray());
            assertEquals(r.text(), streamedText.toString());
            assertEquals(11, r.decode().steps(), "the last token is not fed back");

            int[] prompt = s.vocabulary().tokenize("The quick brown fox", true, true);
            float[] logits = ref.prefill(prompt, false)[0];
            int[] expected = new int[12];
            for (int i = 0; i < 12; i++) {
                expected[i] = Greedy.argmax(logits);
                if (i < 11) {
                    logits = ref.step(expected[i]);
                }
            }
            assertArrayEquals(expected, r.tokens());
        }
    }

    @Test
    void stopsAtAStopStringAndCutsIt() {
        Path model = withVocabulary();
        try (ModelSession s = ModelSession.open(model, "cpu", 1, EngineOptions.defaults(128))) {
            GenerationResult free = s.generator().generate("Once upon", GenerationOptions.maxTokens(10).ignoringEndOfGeneration(),
                    new FullAttention(), null);
            String text = free.text();
            assertFalse(text.isEmpty());
            // Pick a stop string from the middle of what greedy decoding produces anyway.
            String stop = text.substring(text.length() / 2, text.length() / 2 + 1);
            GenerationResult cut = s.generator().generate("Once upon", GenerationOptions.maxTokens(10).ignoringEndOfGeneration()
                    .withStopStrings(stop), new FullAttention(), null);
            assertEquals(StopReason.STOP_STRING, cut.stopReason());
            assertEquals(text.substring(0, text.indexOf(stop)), cut.text());
        }
    }

    @Test
    void stopsWhenTheContextIsFull() {
        try (ModelSession s = ModelSession.open(TestModels.preset("tiny-llama", GgmlType.F32), "cpu", 1, EngineOptions.defaults(16))) {
            GenerationResult r = s.generator().generate(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, GenerationOptions.maxTokens(100));
            assertEquals(StopReason.CONTEXT_FULL, r.stopReason());
            assertEquals(7, r.tokens().length);
            assertEquals("", r.text());
            assertTrue(r.prefill().nanos() > 0);
        }
    }

    @Test
    void utf8PiecesAreJoinedAcrossTokens() {
        Utf8Stream u = new Utf8Stream();
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
        assertEquals("a", u.append(new byte[] {'a', euro[0]}));
        assertEquals("", u.append(new byte[] {euro[1]}));
        assertEquals("€b", u.append(new byte[] {euro[2], 'b'}));
    }
}
