package org.rbench.core.model;

import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.gguf.GgufType;
import org.rbench.gguf.GgufValue;

import java.util.Locale;
import java.util.Optional;

/**
 * The sizes and constants of a model, read from GGUF metadata the way llama.cpp reads
 * them (same keys, same defaults), and checked for consistency.
 *
 * @param architecture        the graph family
 * @param embedding           n_embd, the width of the residual stream
 * @param layers              n_layer
 * @param heads               query heads
 * @param kvHeads             key/value heads (GQA: heads is a multiple of it)
 * @param headDim             key and value length per head ({arch}.attention.key_length,
 *                            default embedding / heads; Qwen 3 differs from that default)
 * @param feedForward         n_ff of the SwiGLU feed-forward
 * @param contextLength       the context the model was trained for; the engine's cache may not exceed it
 * @param vocabSize           rows of the token embedding and of the logits
 * @param rmsEps              epsilon of every RMS norm
 * @param ropeTheta           RoPE frequency base
 * @param ropeFreqScale       1 / linear RoPE scaling factor (1 when unscaled)
 * @param ropeOriginalContext context the RoPE was trained at (YaRN's n_ctx_orig; passed to ggml as is)
 * @param ropeFrequencyFactors whether the file has a rope_freqs tensor (Llama 3.1+ scaling)
 */
public record HyperParameters(Architecture architecture, int embedding, int layers, int heads, int kvHeads, int headDim,
                              int feedForward, int contextLength, int vocabSize, float rmsEps, float ropeTheta,
                              float ropeFreqScale, int ropeOriginalContext, boolean ropeFrequencyFactors) {

    public HyperParameters {
        require(embedding > 0, "embedding_length must be positive, got " + embedding);
        require(layers > 0, "block_count must be positive, got " + layers);
        require(heads > 0, "attention.head_count must be positive, got " + heads);
        require(kvHeads > 0 && heads % kvHeads == 0,
                "attention.head_count (" + heads + ") must be a positive multiple of attention.head_count_kv (" + kvHeads + ")");
        require(headDim > 0 && headDim % 2 == 0, "the head dimension must be positive and even, got " + headDim);
        require(feedForward > 0, "feed_forward_length must be positive, got " + feedForward);
        require(contextLength > 0, "context_length must be positive, got " + contextLength);
        require(vocabSize > 0, "the vocabulary size must be positive, got " + vocabSize);
        require(rmsEps > 0 && Float.isFinite(rmsEps), "attention.layer_norm_rms_epsilon must be positive, got " + rmsEps);
        require(ropeTheta > 0 && Float.isFinite(ropeTheta), "rope.freq_base must be positive, got " + ropeTheta);
        require(ropeFreqScale > 0 && Float.isFinite(ropeFreqScale), "the RoPE frequency scale must be positive, got " + ropeFreqScale);
    }

    public RopeType ropeType() {
        return architecture.ropeType;
    }

    /** Width of all query heads together (n_head * head_dim). */
    public int queryDim() {
        return heads * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return heads / kvHeads;
    }

    /** The softmax scale 1/sqrt(head_dim) used by these architectures. */
    /** Bytes of one position's keys (or values) over every KV head, in a cache of {@code cacheType}. */
    public long kvRowBytes(org.rbench.llamacpp.GgmlType cacheType) {
        return kvHeads * cacheType.rowSize(headDim);
    }

    public float attentionScale() {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * Reads and validates the hyper-parameters of a GGUF model. Errors name the file and
     * the key; unsupported features (an unknown architecture, per-layer head counts, YaRN
     * or LongRoPE scaling) are {@link UnsupportedModelException}s.
     */
    public static HyperParameters from(GgufFile file) {
        String where = file.path().getFileName() + ": ";
        String archName = file.findString("general.architecture").orElseThrow(() ->
                new InvalidModelException(where + "no general.architecture: not a model file"));
        Architecture arch;
        try {
            arch = Architecture.fromGguf(archName);
        } catch (UnsupportedModelException e) {
            throw new UnsupportedModelException(where + e.getMessage());
        }
        String p = arch.ggufName + ".";
        Keys k = new Keys(file, where);
        int embedding = k.requiredInt(p + "embedding_length");
        int layers = k.requiredInt(p + "block_count");
        int heads = k.requiredInt(p + "attention.head_count");
        int kvHeads = k.optionalInt(p + "attention.head_count_kv").orElse(heads);
        int feedForward = k.requiredInt(p + "feed_forward_length");
        int contextLength = k.requiredInt(p + "context_length");
        if (heads <= 0) {
            throw new InvalidModelException(where + "attention.head_count must be positive, got " + heads);
        }
        if (embedding % heads != 0 && k.optionalInt(p + "attention.key_length").isEmpty()) {
            throw new InvalidModelException(where + "attention.key_length is missing and embedding_length " + embedding
                    + " is not a multiple of attention.head_count " + heads);
        }
        int headDim = k.optionalInt(p + "attention.key_length").orElse(embedding / heads);
        int valueDim = k.optionalInt(p + "attention.value_length").orElse(headDim);
        if (valueDim != headDim) {
            throw new UnsupportedModelException(where + "attention.value_length " + valueDim
                    + " differs from attention.key_length " + headDim + "; the engine needs them equal");
        }
        int ropeDims = k.optionalInt(p + "rope.dimension_count").orElse(headDim);
        if (ropeDims != headDim) {
            throw new UnsupportedModelException(where + "rope.dimension_count " + ropeDims
                    + " differs from the head dimension " + headDim + " (partial RoPE is not supported)");
        }
        float rmsEps = (float) k.requiredDouble(p + "attention.layer_norm_rms_epsilon");
        float theta = k.optionalDouble(p + "rope.freq_base").orElse(10000.0).floatValue();
        String scaling = file.findString(p + "rope.scaling.type").orElse("none").toLowerCase(Locale.ROOT);
        double factor = k.optionalDouble(p + "rope.scaling.factor")
                .or(() -> k.optionalDouble(p + "rope.scale_linear")).orElse(0.0);
        float freqScale = switch (scaling) {
            case "none" -> 1f;
            case "linear" -> factor == 0 ? 1f : (float) (1.0 / factor);
            default -> throw new UnsupportedModelException(where + "RoPE scaling '" + scaling
                    + "' is not supported (none and linear are; Llama 3 scaling comes as rope_freqs.weight)");
        };
        int ropeOriginal = k.optionalInt(p + "rope.scaling.original_context_length").orElse(contextLength);
        int vocab = vocabularySize(file, k, p, where);
        boolean ropeFreqs = file.tensor("rope_freqs.weight").isPresent();
        try {
            return new HyperParameters(arch, embedding, layers, heads, kvHeads, headDim, feedForward, contextLength, vocab,
                    rmsEps, theta, freqScale, ropeOriginal, ropeFreqs);
        } catch (InvalidModelException e) {
            throw new InvalidModelException(where + e.getMessage());
        }
    }

    /** tokenizer.ggml.tokens length, else {arch}.vocab_size, else the token embedding's rows. */
    private static int vocabularySize(GgufFile file, Keys k, String p, String where) {
        Optional<GgufValue> tokens = file.get("tokenizer.ggml.tokens");
        if (tokens.isPresent() && tokens.get().type() == GgufType.ARRAY) {
            return tokens.get().asList().size();
        }
        Optional<Integer> declared = k.optionalInt(p + "vocab_size");
        if (declared.isPresent()) {
            return declared.get();
        }
        GgufTensorInfo embd = file.tensor("token_embd.weight").orElseThrow(() -> new InvalidModelException(where
                + "no vocabulary size: tokenizer.ggml.tokens, " + p + "vocab_size and token_embd.weight are all missing"));
        return Math.toIntExact(embd.ne(1));
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new InvalidModelException(message);
        }
    }

    /** Typed metadata access with messages that name the file and key. */
    private record Keys(GgufFile file, String where) {
        Optional<Integer> optionalInt(String key) {
            Optional<GgufValue> v = file.get(key);
            if (v.isEmpty()) {
                return Optional.empty();
            }
            if (v.get().type() == GgufType.ARRAY) {
                throw new UnsupportedModelException(where + key + " is an array (per-layer values are not supported)");
            }
            if (!v.get().type().isInteger()) {
                throw new InvalidModelException(where + key + " is " + v.get().type() + ", expected an integer");
            }
            long x = v.get().asLong();
            if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) {
                throw new InvalidModelException(where + key + " = " + x + " is out of range");
            }
            return Optional.of((int) x);
        }

        int requiredInt(String key) {
            return optionalInt(key).orElseThrow(() -> new InvalidModelException(where + "required metadata " + key + " is missing"));
        }

        Optional<Double> optionalDouble(String key) {
            Optional<GgufValue> v = file.get(key);
            if (v.isEmpty()) {
                return Optional.empty();
            }
            GgufType t = v.get().type();
            if (!t.isInteger() && t != GgufType.FLOAT32 && t != GgufType.FLOAT64) {
                throw new InvalidModelException(where + key + " is " + t + ", expected a number");
            }
            return Optional.of(v.get().asDouble());
        }

        double requiredDouble(String key) {
            return optionalDouble(key).orElseThrow(() -> new InvalidModelException(where + "required metadata " + key + " is missing"));
        }
    }
}
