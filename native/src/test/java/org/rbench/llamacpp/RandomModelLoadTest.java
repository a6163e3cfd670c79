package org.rbench.llamacpp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rbench.gguf.GgufFile;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;

import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generated models of every supported variant load in libllama and decode to finite logits. */
class RandomModelLoadTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1} gqa={2}/{3} hd={4}")
    @CsvSource({
            "tiny-llama, F32, 4, 2, 64",
            "tiny-llama, F16, 4, 4, 64",
            "tiny-llama, Q8_0, 4, 1, 64",
            "tiny-llama3, F16, 2, 1, 128",
            "tiny-qwen2, F32, 4, 2, 64",
            "tiny-qwen3, Q8_0, 4, 2, 128",
            "tiny-mistral, F16, 4, 1, 64",
    })
    void loadsAndDecodesFiniteLogits(String preset, GgmlType type, int heads, int kvHeads, int headDim) throws Exception {
        ModelSpec base = ModelSpec.preset(preset, type);
        ModelSpec spec = base.architecture().equals("qwen3") ? base : base.withHeads(heads, kvHeads, headDim);
        Path file = dir.resolve(preset + ".gguf");
        RandomModelWriter.write(spec, file);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(RandomModelWriter.tensorNames(spec).size()
                    + (spec.qkvBias() ? 3 * spec.layers() : 0) + (spec.qkNorm() ? 2 * spec.layers() : 0), g.tensors().size());
        }
        try (LlamaModel model = LlamaModel.load(file, LlamaModel.Options.full());
             LlamaContext ctx = new LlamaContext(model, new LlamaContext.Options(256, 64, 2, false, GgmlType.F32))) {
            int[] prompt = IntStream.range(0, 40).map(i -> (i * 37 + 11) % spec.vocabSize()).toArray();
            float[][] logits = ctx.decode(prompt, true);
            assertEquals(prompt.length, logits.length);
            for (float[] row : logits) {
                assertEquals(spec.vocabSize(), row.length);
                for (float x : row) {
                    assertTrue(Float.isFinite(x), "non-finite logit");
                }
            }
            float spread = 0;
            for (float x : logits[39]) {
                spread = Math.max(spread, Math.abs(x - logits[39][0]));
            }
            assertTrue(spread > 1e-3, "logits are constant: the weights did not load");
        }
    }

    @Test
    void modelWithABundleVocabularyTokenizes() throws Exception {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        Path file = dir.resolve("spm.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F16).withVocabulary(vocab), file);
        try (LlamaModel model = LlamaModel.load(file, LlamaModel.Options.full())) {
            Vocabulary v = model.vocabulary();
            assertEquals(32000, v.size());
            assertEquals(Vocabulary.Type.SPM, v.type());
            int[] ids = v.tokenize("Hello world", true, false);
            assertEquals(v.bos(), ids[0]);
            assertEquals("Hello world", v.detokenize(ids, true, false).strip());
        }
    }
}
