package org.rbench.core.model;

import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlBackend;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.LlamaCpp;
import org.rbench.llamacpp.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's weights on a backend: one metadata-only ggml context with a tensor per GGUF
 * tensor the engine uses, one backend buffer holding all of them, filled from the
 * memory-mapped file. Validation happens before any native allocation.
 */
public final class ModelWeights implements AutoCloseable {
    private final HyperParameters hyperParameters;
    private final Path path;
    private final List<GgmlContext> contexts;
    private final BackendBuffer buffer;
    private final List<MemorySegment> repackedBuffers;
    private final Backend backend;
    private final Map<String, Tensor> byName;
    private final LayerWeights[] layers;

    private ModelWeights(HyperParameters hp, Path path, List<GgmlContext> contexts, BackendBuffer buffer,
                         List<MemorySegment> repackedBuffers, Backend backend, Map<String, Tensor> byName) {
        this.hyperParameters = hp;
        this.path = path;
        this.contexts = contexts;
        this.buffer = buffer;
        this.repackedBuffers = repackedBuffers;
        this.backend = backend;
        this.byName = byName;
        this.layers = new LayerWeights[hp.layers()];
        for (int l = 0; l < hp.layers(); l++) {
            String p = "blk." + l + ".";
            layers[l] = new LayerWeights(get(p + "attn_norm.weight"), get(p + "attn_q.weight"), get(p + "attn_k.weight"),
                    get(p + "attn_v.weight"), get(p + "attn_output.weight"), get(p + "attn_q.bias"), get(p + "attn_k.bias"),
                    get(p + "attn_v.bias"), get(p + "attn_output.bias"), get(p + "attn_q_norm.weight"),
                    get(p + "attn_k_norm.weight"), get(p + "ffn_norm.weight"), get(p + "ffn_gate.weight"),
                    get(p + "ffn_up.weight"), get(p + "ffn_down.weight"));
        }
    }

    /** Reads, validates and loads a GGUF model onto the backend, repacking weights as llama.cpp does. */
    public static ModelWeights load(Path path, Backend backend) {
        return load(path, backend, true);
    }

    /**
     * @param repack on a CPU backend, store matrix weights in the CPU's repacked layouts
     *               where it has kernels for them (llama.cpp's default; needed to match its
     *               speed and logits bit for bit)
     */
    public static ModelWeights load(Path path, Backend backend, boolean repack) {
        LlamaCpp.initialise();
        try (GgufFile file = GgufFile.open(path)) {
            return load(file, backend, repack);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model file " + path + ": " + e.getMessage(), e);
        }
    }

    /** Loads from an open file; the file may be closed afterwards (the data is copied). */
    public static ModelWeights load(GgufFile file, Backend backend, boolean repack) {
        HyperParameters hp = HyperParameters.from(file);
        List<GgufTensorInfo> infos = WeightCatalog.of(hp).validate(file);
        List<MemorySegment> extraTypes = repack ? CpuRepack.extraBufferTypes(backend) : List.of();
        // One context per buffer type: index 0 is the backend's default, then the extra types.
        List<List<GgufTensorInfo>> groups = new ArrayList<>();
        for (int i = 0; i <= extraTypes.size(); i++) {
            groups.add(new ArrayList<>());
        }
        for (GgufTensorInfo info : infos) {
            int group = 0;
            if (onlyMultiplied(info.name())) {
                for (int i = 0; i < extraTypes.size() && group == 0; i++) {
                    if (CpuRepack.supportsMatrixProduct(backend, extraTypes.get(i), info)) {
                        group = i + 1;
                    }
                }
            }
            groups.get(group).add(info);
        }
        List<GgmlContext> contexts = new ArrayList<>();
        List<MemorySegment> repacked = new ArrayList<>();
        BackendBuffer buffer = null;
        try {
            Map<String, Tensor> byName = new HashMap<>();
            for (int g = 0; g < groups.size(); g++) {
                if (groups.get(g).isEmpty()) {
                    continue;
                }
                GgmlContext ctx = GgmlContext.forMetadata(groups.get(g).size() + 1, 0);
                contexts.add(ctx);
                for (GgufTensorInfo info : groups.get(g)) {
                    byName.put(info.name(), ctx.newTensor(info.type(), info.ne()).name(info.name()));
                }
                if (g == 0) {
                    buffer = BackendBuffer.allocate(ctx, backend);
                } else {
                    MemorySegment b = GgmlBackend.ggml_backend_alloc_ctx_tensors_from_buft(ctx.address(), extraTypes.get(g - 1));
                    if (b.equals(MemorySegment.NULL)) {
                        throw new IllegalStateException("could not allocate repacked weights in "
                                + GgmlBackend.ggml_backend_buft_name(extraTypes.get(g - 1)).reinterpret(256).getString(0));
                    }
                    repacked.add(b);
                }
            }
            for (GgufTensorInfo info : infos) {
                byName.get(info.name()).write(file.data(info), 0);
            }
            return new ModelWeights(hp, file.path(), contexts, buffer, repacked, backend, Map.copyOf(byName));
        } catch (RuntimeException e) {
            repacked.forEach(GgmlBackend::ggml_backend_buffer_free);
            if (buffer != null) {
                buffer.close();
            }
            contexts.forEach(GgmlContext::close);
            throw e;
        }
    }

    /** Weights that feed only matrix products (not the token embedding, which is gathered). */
    private static boolean onlyMultiplied(String name) {
        return name.equals("output.weight") || name.startsWith("blk.") && name.endsWith(".weight")
                && (name.contains(".attn_q.") || name.contains(".attn_k.") || name.contains(".attn_v.")
                || name.contains(".attn_output.") || name.contains(".ffn_gate.") || name.contains(".ffn_up.")
                || name.contains(".ffn_down."));
    }

    /** Weight tensors stored in a repacked CPU layout (for reports). */
    public long repackedBytes() {
        long n = 0;
        for (MemorySegment b : repackedBuffers) {
            n += GgmlBackend.ggml_backend_buffer_get_size(b);
        }
        return n;
    }

    private Tensor get(String name) {
        return byName.get(name);
    }

    public HyperParameters hyperParameters() {
        return hyperParameters;
    }

    public Path path() {
        return path;
    }

    public Backend backend() {
        return backend;
    }

    public Tensor tokenEmbedding() {
        return get("token_embd.weight");
    }

    public Tensor outputNorm() {
        return get("output_norm.weight");
    }

    /** The LM head; the token embedding when the model ties them. */
    public Tensor output() {
        Tensor out = get("output.weight");
        return out != null ? out : tokenEmbedding();
    }

    public boolean tiedOutput() {
        return get("output.weight") == null;
    }

    /** Null unless the model has one. */
    public Tensor outputBias() {
        return get("output.bias");
    }

    /** Llama 3 RoPE frequency factors, or null. */
    public Tensor ropeFrequencies() {
        return get("rope_freqs.weight");
    }

    /**
     * {@code t} {@code [headDim, heads, n]} rotated by RoPE at {@code positions} (I32 {@code [n]}),
     * as this model rotates its queries and keys: its frequency factors and scaling, ext_factor 0
     * (no YaRN), attn_factor 1, beta 32/1 (llama.cpp's values for these models).
     */
    public Tensor rope(GgmlContext ctx, Tensor t, Tensor positions) {
        HyperParameters hp = hyperParameters();
        return ctx.ropeExt(t, positions, ropeFrequencies(), hp.headDim(), hp.ropeType().ggmlMode, hp.ropeOriginalContext(),
                hp.ropeTheta(), hp.ropeFreqScale(), 0f, 1f, 32f, 1f);
    }

    public LayerWeights layer(int index) {
        return layers[index];
    }

    /** Bytes of weight data on the backend. */
    public long bytes() {
        return (buffer == null ? 0 : buffer.size()) + repackedBytes();
    }

    @Override
    public void close() {
        repackedBuffers.forEach(GgmlBackend::ggml_backend_buffer_free);
        if (buffer != null) {
            buffer.close();
        }
        contexts.forEach(GgmlContext::close);
    }
}
