package org.rbench.llamacpp;

import org.rbench.gguf.GgufFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * A model loaded by libllama (llama_model). The file is validated in Java first
 * ({@link GgufFile}: magic, version, truncation, tensor bounds), so a corrupt file gives
 * a {@link org.rbench.gguf.GgufFormatException}; anything libllama itself rejects (an
 * architecture it does not know, a missing tensor) gives a {@link NativeCallException}
 * carrying libllama's own log lines.
 */
public final class LlamaModel implements AutoCloseable {
    private MemorySegment model;
    private final Path path;
    private final Vocabulary vocabulary;

    private LlamaModel(MemorySegment model, Path path) {
        this.model = model;
        this.path = path;
        this.vocabulary = new Vocabulary(this, Llama.llama_model_get_vocab(model));
    }

    /** Options for loading: vocabulary only, and how many layers to offload to a GPU. */
    public record Options(boolean vocabOnly, int gpuLayers) {
        public static Options full() {
            return new Options(false, 0);
        }

        /** Every layer offloaded to the GPU (llama.cpp clamps the count to the model's layers). */
        public static Options allOnGpu() {
            return new Options(false, 999);
        }

        public static Options vocabularyOnly() {
            return new Options(true, 0);
        }
    }

    public static LlamaModel load(Path path, Options options) {
        LlamaCpp.initialise();
        String arch;
        try (GgufFile gguf = GgufFile.open(path)) {
            arch = gguf.findString("general.architecture").orElse(null);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read model file " + path + ": " + e.getMessage(), e);
        }
        if (arch == null) {
            throw new IllegalArgumentException(path + ": GGUF file has no general.architecture; not a model file");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = LlamaParams.modelDefaults(arena);
            params.set(ValueLayout.JAVA_BOOLEAN, LlamaParams.MP_VOCAB_ONLY, options.vocabOnly());
            params.set(ValueLayout.JAVA_INT, LlamaParams.MP_N_GPU_LAYERS, options.gpuLayers());
            NativeLog.clear();
            MemorySegment m = Llama.llama_model_load_from_file_raw(arena.allocateFrom(path.toString()), params);
            if (m.equals(MemorySegment.NULL)) {
                throw new NativeCallException("llama.cpp could not load " + path + " (architecture '" + arch + "')."
                        + NativeLog.tail(4));
            }
            return new LlamaModel(m, path);
        }
    }

    public MemorySegment address() {
        if (model == null) {
            throw new IllegalStateException("model is closed");
        }
        return model;
    }

    public Path path() {
        return path;
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** A metadata value as a string (any type, formatted by llama.cpp), or null if absent. */
    public String metadata(String key) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            int n = Llama.llama_model_meta_val_str(address(), arena.allocateFrom(key), buf, buf.byteSize());
            return n < 0 ? null : buf.getString(0);
        }
    }

    public String description() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            Llama.llama_model_desc(address(), buf, buf.byteSize());
            return buf.getString(0);
        }
    }

    public long parameterCount() {
        return Llama.llama_model_n_params(address());
    }

    /** The model's built-in chat template, or null if it has none. */
    public String chatTemplate() {
        return Bindings.string(Llama.llama_model_chat_template(address(), MemorySegment.NULL));
    }

    @Override
    public void close() {
        if (model != null) {
            Llama.llama_model_free(model);
            model = null;
        }
    }
}
