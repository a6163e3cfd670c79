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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resolves model names in configs: a path, or the name of an embedded model (a GGUF committed
 * under models/): {@code default}, the model every command uses unless told otherwise, and
 * {@code recycled-tuned}, the default model fine-tuned to decode as Recycled Attention does
 * (models/README.md). Without its file, {@code default} is a random-weight model with the
 * Llama-2 vocabulary, generated once into .cache/models, and every caller is told that its
 * accuracy means nothing.
 */
public final class Models {
    public static final String DEFAULT = "default";
    public static final String RECYCLED_TUNED = "recycled-tuned";

    /** Embedded models by name: their files under models/. */
    public static final Map<String, String> EMBEDDED = embedded();

    private static Map<String, String> embedded() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(DEFAULT, "rbench-longctx-run10-q8_0.gguf");
        m.put(RECYCLED_TUNED, "rbench-longctx-run15-recycled-q8_0.gguf");
        return Collections.unmodifiableMap(m);
    }

    private Models() {
    }

    public record Resolved(Path path, boolean random) {
    }

    public static Resolved resolve(String name, PrintStream log) throws IOException {
        if (!EMBEDDED.containsKey(name)) {
            return resolve(name, log, null);
        }
        Path root = Checkout.root().orElseThrow(() -> new IllegalStateException(
                "'" + name + "' model: not inside an rbench checkout; give a model path"));
        return resolve(name, log, root);
    }

    /** Whether this checkout holds the embedded model {@code name}'s file. */
    public static boolean isEmbeddedPresent(String name) {
        String file = EMBEDDED.get(name);
        return file != null && Checkout.root().map(r -> Files.isRegularFile(r.resolve("models").resolve(file))).orElse(false);
    }

    static Resolved resolve(String name, PrintStream log, Path root) throws IOException {
        if (!EMBEDDED.containsKey(name)) {
            Path p = Path.of(name);
            if (Files.isDirectory(p)) {
                throw new IOException(name + " is a directory, not a model file (give the path of a .gguf file)");
            }
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(name, null, "model file not found (or an embedded model's name: "
                        + String.join(", ", EMBEDDED.keySet()) + ")");
            }
            return new Resolved(p, false);
        }
        Path file = root.resolve("models").resolve(EMBEDDED.get(name));
        if (Files.isRegularFile(file)) {
            return new Resolved(file, false);
        }
        if (!name.equals(DEFAULT)) {
            throw new NoSuchFileException(file.toString(), null, "the embedded model '" + name + "' is missing from this checkout");
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
        log.println("rbench: NOTE: " + file + " is missing from this checkout; the 'default' model has RANDOM"
                + " weights, so its accuracy means nothing. Latency and attended rows are real.");
        return new Resolved(random, true);
    }
}
