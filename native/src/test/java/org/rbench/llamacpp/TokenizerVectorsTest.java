package org.rbench.llamacpp;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * llama.cpp's own tokenizer test vectors from the source bundle (models/ggml-vocab-*.gguf.inp
 * and .out, as tests/test-tokenizer-0.cpp reads them: no special tokens added or parsed).
 */
class TokenizerVectorsTest {
    @ParameterizedTest
    @ValueSource(strings = {"llama-bpe", "llama-spm", "qwen2"})
    void bundleVectorsTokenizeExactly(String name) throws IOException {
        Path models = LibraryLocation.sourceTree().orElseThrow(() -> new AssertionError(
                "llama.cpp source tree not installed; run native/scripts/install-llamacpp.sh")).resolve("models");
        Path gguf = models.resolve("ggml-vocab-" + name + ".gguf");
        String[] inputs = Files.readString(models.resolve(gguf.getFileName() + ".inp"), StandardCharsets.UTF_8)
                .split("\n__ggml_vocab_test__\n", -1);
        String[] outputs = Files.readString(models.resolve(gguf.getFileName() + ".out"), StandardCharsets.UTF_8)
                .split("\n", -1);
        assertTrue(outputs.length >= inputs.length, "fewer expected outputs than inputs");
        try (LlamaModel model = LlamaModel.load(gguf, LlamaModel.Options.vocabularyOnly())) {
            Vocabulary vocab = model.vocabulary();
            int checked = 0;
            for (int i = 0; i < inputs.length; i++) {
                String expected = outputs[i].strip();
                int[] want = expected.isEmpty() ? new int[0]
                        : Arrays.stream(expected.split("\\s+")).mapToInt(Integer::parseInt).toArray();
                int[] got = vocab.tokenize(inputs[i], false, false);
                assertEquals(Arrays.toString(want), Arrays.toString(got), name + " vector " + i + ": '" + inputs[i] + "'");
                checked++;
            }
            assertTrue(checked > 20, "only " + checked + " vectors checked");
        }
    }
}
