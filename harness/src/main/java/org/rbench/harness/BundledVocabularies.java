package org.rbench.harness;

import org.rbench.llamacpp.LibraryLocation;

import java.nio.file.Files;
import java.nio.file.Path;

/** Lets users name a vocabulary of the llama.cpp bundle (llama-bpe, llama-spm, qwen2...) instead of a file. */
final class BundledVocabularies {
    private BundledVocabularies() {
    }

    /** The path itself if it exists, else the bundle's ggml-vocab-NAME.gguf if that exists, else the path. */
    static Path resolve(Path pathOrName) {
        if (Files.exists(pathOrName) || pathOrName.getNameCount() != 1) {
            return pathOrName;
        }
        return LibraryLocation.sourceTree()
                .map(src -> src.resolve("models").resolve("ggml-vocab-" + pathOrName + ".gguf"))
                .filter(Files::isRegularFile)
                .orElse(pathOrName);
    }
}
