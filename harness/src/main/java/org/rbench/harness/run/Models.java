package org.rbench.harness.run;

import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LibraryLocation;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Resolves model names in configs: a path, or {@code default} for the embedded model
 * (the GGUF committed under models/). Until a trained model is committed, {@code default}
 * is a random-weight model with the Llama-2 vocabulary, generated once into .cache/models,
 * and every caller is told that its accuracy means nothing.
 */
public final class Models {
    public static final String DEFAULT = "default";

    private Models() {
    }

    public record Resolved(Path path, boolean random) {
    }

    public static Resolved resolve(String name, PrintStream log) throws IOException {
        if (!name.equals(DEFAULT)) {
            Path p = Path.of(name);
            if (Files.isDirectory(p)) {
                throw new IOException(name + " is a directory, not a model file (give the path of a .gguf file)");
            }
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(name, null, "model file not found");
            }
            return new Resolved(p, false);
        }
        Path root = Checkout.root().orElseThrow(() -> new IllegalStateException("'default' model: not inside an rbench checkout; give a model path"));
        Path models = root.resolve("models");
        if (Files.isDirectory(models)) {
            try (Stream<Path> files = Files.list(models)) {
                List<Path> ggufs = files.filter(f -> f.toString().endsWith(".gguf")).sorted().toList();
                if (!ggufs.isEmpty()) {
                    return new Resolved(ggufs.getFirst(), false);
                }
            }
        }
        Path random = root.resolve(".cache/models/random-llama-spm.gguf");
        if (!Files.isRegularFile(random)) {
            Path vocab = LibraryLocation.sourceTree().orElseThrow(() -> new IllegalStateException(
                    "the llama.cpp source bundle is not installed (native/scripts/install-llamacpp.sh)"))
                    .resolve("models/ggml-vocab-llama-spm.gguf");
            log.println("rbench: generating a random-weight model with the Llama-2 vocabulary (first use)...");
            ModelSpec spec = new ModelSpec("llama", 32000, 256, 4, 4, 2, 64, 768, 16384, 500000, 1e-5,
                    GgmlType.F16, true, false, vocab, 7);
            RandomModelWriter.write(spec, random);
        }
        log.println("rbench: NOTE: no model in models/ (the embedded one is missing from this checkout); the 'default' model has RANDOM"
                + " weights, so its accuracy means nothing. Latency and attended rows are real.");
        return new Resolved(random, true);
    }
}
