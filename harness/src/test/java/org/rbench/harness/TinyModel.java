package org.rbench.harness;

import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.io.IOException;
import java.nio.file.Path;

/** The CLI tests' model: a random tiny llama (F32) with the Llama-2 vocabulary of the pinned source tree. */
final class TinyModel {
    private TinyModel() {
    }

    /** Writes it to {@code file}; returns {@code file}. */
    static Path write(Path file) throws IOException {
        RandomModelWriter.write(ModelSpec.preset("tiny-llama", GgmlType.F32)
                .withVocabulary(LibraryLocation.sourceTree().orElseThrow().resolve("models/ggml-vocab-llama-spm.gguf")), file);
        return file;
    }
}
