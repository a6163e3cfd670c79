package org.rbench.core.model;

import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.LlamaCpp;
import org.rbench.llamacpp.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
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
    private final GgmlContext context;
    private final BackendBuffer buffer;
    private final Backend backend;
    private final Map<String, Tensor> byName;
    private final LayerWeights[] layers;

    private ModelWeights(HyperParameters hp, Path path, GgmlContext context, BackendBuffer buffer, Backend backend,
                         Map<String, Tensor> byName) {
        this.hyperParameters = hp;
        this.path = path;
        this.context = context;
        this.buffer = buffer;
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

    /** Reads, validates and loads a GGUF model onto the backend. */
    public static ModelWeights load(Path path, Backend backend) {
        LlamaCpp.initialise();
        try (GgufFile file = GgufFile.open(path)) {
            return load(file, backend);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model file " + path + ": " + e.getMessage(), e);
        }
    }

    /** Loads from an open file; the file may be closed afterwards (the data is copied). */
    public static ModelWeights load(GgufFile file, Backend backend) {
        HyperParameters hp = HyperParameters.from(file);
        List<GgufTensorInfo> infos = WeightCatalog.of(hp).validate(file);
        GgmlContext ctx = GgmlContext.forMetadata(infos.size() + 1, 0);
        BackendBuffer buffer = null;
        try {
            Map<String, Tensor> byName = new HashMap<>();
            for (GgufTensorInfo info : infos) {
                byName.put(info.name(), ctx.newTensor(info.type(), info.ne()).name(info.name()));
            }
            buffer = BackendBuffer.allocate(ctx, backend);
            for (GgufTensorInfo info : infos) {
                byName.get(info.name()).write(file.data(info), 0);
            }
            return new ModelWeights(hp, file.path(), ctx, buffer, backend, Map.copyOf(byName));
        } catch (RuntimeException e) {
            if (buffer != null) {
                buffer.close();
            }
            ctx.close();
            throw e;
        }
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

    public LayerWeights layer(int index) {
        return layers[index];
    }

    /** Bytes of weight data on the backend. */
    public long bytes() {
        return buffer.size();
    }

    @Override
    public void close() {
        buffer.close();
        context.close();
    }
}
