package org.rbench.llamacpp;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufFormatException;
import org.rbench.gguf.GgufWriter;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input of every kind is a clear Java exception; the JVM (this test's fork) stays up. */
class BadInputTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void makeModel() throws Exception {
        model = dir.resolve("tiny.gguf");
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32).withContextLength(512), model);
    }

    @Test
    void missingLibraryFolder() {
        NativeLibraryException e = assertThrows(NativeLibraryException.class,
                () -> NativeLibraries.openForTest(dir.resolve("no-such-dir")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void folderWithoutTheLibraries() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty-lib"));
        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> NativeLibraries.openForTest(empty));
        assertTrue(e.getMessage().contains("No libggml-base shared library"), e.getMessage());
    }

    @Test
    void aFileThatIsNotALibrary() throws Exception {
        Path fake = Files.createDirectories(dir.resolve("fake-lib"));
        for (String n : new String[] {"libggml-base.so", "libggml.so", "libllama.so"}) {
            Files.writeString(fake.resolve(n), "not an ELF file");
        }
        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> NativeLibraries.openForTest(fake));
        assertTrue(e.getMessage().contains("Cannot load"), e.getMessage());
    }

    @Test
    void layoutMismatchIsDetected() {
        LayoutCheck.Result wrong = LayoutCheck.runAssuming(72, 152);
        assertFalse(wrong.ok());
        assertTrue(wrong.summary().contains("sizeof(llama_model_params)=72"), wrong.summary());
        assertTrue(wrong.summary().contains("sizeof(llama_context_params)=152"), wrong.summary());
        NativeLibraryException e = assertThrows(NativeLibraryException.class, () -> LayoutCheck.verify(wrong));
        assertTrue(e.getMessage().contains("do not match the bindings"), e.getMessage());
        assertTrue(LayoutCheck.run().ok());
    }

    @Test
    void truncatedModel() throws Exception {
        Path cut = dir.resolve("cut.gguf");
        byte[] bytes = Files.readAllBytes(model);
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> LlamaModel.load(cut, LlamaModel.Options.full()));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void wrongMagic() throws Exception {
        Path bad = dir.resolve("magic.gguf");
        byte[] bytes = Files.readAllBytes(model);
        bytes[1] = 'X';
        Files.write(bad, bytes);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> LlamaModel.load(bad, LlamaModel.Options.full()));
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
    }

    @Test
    void unknownArchitecture() throws Exception {
        Path odd = dir.resolve("odd.gguf");
        try (GgufFile src = GgufFile.open(model)) {
            GgufWriter w = new GgufWriter();
            src.metadata().forEach((k, v) -> w.put(k.replace("llama.", "frobnicator."), v));
            w.putString("general.architecture", "frobnicator");
            w.addTensor("token_embd.weight", new long[] {4, 4}, new float[16]);
            w.write(odd);
        }
        NativeCallException e = assertThrows(NativeCallException.class, () -> LlamaModel.load(odd, LlamaModel.Options.full()));
        assertTrue(e.getMessage().contains("frobnicator"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown model architecture"), e.getMessage());
    }

    @Test
    void outOfRangeTokenIds() {
        try (LlamaModel m = LlamaModel.load(model, LlamaModel.Options.full());
             LlamaContext ctx = new LlamaContext(m, new LlamaContext.Options(64, 32, 1, false, GgmlType.F16))) {
            assertThrows(IllegalArgumentException.class, () -> ctx.decode(new int[] {1, 512}, false));
            assertThrows(IllegalArgumentException.class, () -> ctx.decode(new int[] {-1}, false));
            // A no_vocab model has no tokenizer: llama.cpp would abort on any text call.
            assertThrows(IllegalStateException.class, () -> m.vocabulary().piece(3, false));
            assertThrows(IllegalStateException.class, () -> m.vocabulary().detokenize(new int[] {3}, false, false));
            assertThrows(IllegalStateException.class, () -> m.vocabulary().tokenize("hello", true, false));
            assertThrows(IllegalArgumentException.class, () -> ctx.decode(new int[0], false));
            assertThrows(IllegalArgumentException.class, () -> ctx.decode(new int[ctx.contextSize() + 1], false));
            float[][] ok = ctx.decode(new int[] {1, 2, 3}, false);
            assertTrue(Float.isFinite(ok[0][0]));
        }
    }

    @Test
    void outOfRangeTokenIdsWithAVocabulary() {
        Path vocab = LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf");
        try (LlamaModel m = LlamaModel.load(vocab, LlamaModel.Options.vocabularyOnly())) {
            assertThrows(IllegalArgumentException.class, () -> m.vocabulary().piece(32000, false));
            assertThrows(IllegalArgumentException.class, () -> m.vocabulary().detokenize(new int[] {3, -7}, false, false));
            assertTrue(m.vocabulary().piece(450, false).length() > 0);
        }
    }

    @Test
    void aFullMetadataPoolIsAnExceptionNotAnAbort() {
        try (GgmlContext ctx = GgmlContext.forMetadata(2, 0)) {
            Tensor a = ctx.newTensor(GgmlType.F32, 4, 4);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                Tensor t = a;
                for (int i = 0; i < 100; i++) {
                    t = ctx.mulMat(a, t); // ggml itself would abort once its pool is exhausted
                }
            });
            assertTrue(e.getMessage().contains("full"), e.getMessage());
        }
    }

    @Test
    void contextLongerThanTheModels() {
        try (LlamaModel m = LlamaModel.load(model, LlamaModel.Options.full())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new LlamaContext(m, new LlamaContext.Options(4096, 32, 1, false, GgmlType.F16)));
            assertTrue(e.getMessage().contains("longer than the model's 512"), e.getMessage());
        }
    }

    @Test
    void unknownBackendName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.open("vulcan", 1));
        assertTrue(e.getMessage().contains("Available"), e.getMessage());
    }
}
