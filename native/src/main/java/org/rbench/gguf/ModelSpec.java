package org.rbench.gguf;

import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of a llama-family model for {@link RandomModelWriter}: architecture, sizes,
 * attention variant and weight type. Presets give real models' shapes (for latency work
 * without downloading weights) and tiny shapes (for tests).
 *
 * @param architecture   llama (also Mistral's GGUF architecture), qwen2 (QKV bias) or qwen3 (Q/K RMS norm)
 * @param llama3Rope     write Llama-3 RoPE frequency factors (rope_freqs.weight)
 * @param vocabularyFrom a vocabulary GGUF whose tokenizer.* metadata is copied, or null
 *                       for no vocabulary (tokenizer.ggml.model = no_vocab, vocabSize dummy tokens)
 */
public record ModelSpec(String architecture, int vocabSize, int embedding, int layers, int heads, int kvHeads,
                        int headDim, int feedForward, int contextLength, double ropeTheta, double rmsEps,
                        GgmlType weightType, boolean tiedOutput, boolean llama3Rope, Path vocabularyFrom, long seed) {

    public ModelSpec {
        if (!Map.of("llama", 1, "qwen2", 1, "qwen3", 1).containsKey(architecture)) {
            throw new IllegalArgumentException("unsupported architecture '" + architecture
                    + "' (llama, qwen2, qwen3; Mistral models are GGUF architecture llama)");
        }
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a positive multiple of KV heads (" + kvHeads + ")");
        }
        if (headDim <= 0 || headDim % 2 != 0 || embedding <= 0 || layers <= 0 || feedForward <= 0 || vocabSize <= 0) {
            throw new IllegalArgumentException("sizes must be positive and the head dim even");
        }
        if (contextLength <= 0) {
            throw new IllegalArgumentException("the context length must be positive, got " + contextLength);
        }
        if (!architecture.equals("qwen3") && headDim * heads != embedding) {
            throw new IllegalArgumentException(architecture + " needs head_dim * heads == embedding ("
                    + headDim + " * " + heads + " != " + embedding + ")");
        }
    }

    public boolean qkvBias() {
        return architecture.equals("qwen2");
    }

    public boolean qkNorm() {
        return architecture.equals("qwen3");
    }

    /** Named presets: real models' shapes and tiny test shapes. */
    public static ModelSpec preset(String name, GgmlType type) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "llama-3.1-8b" -> new ModelSpec("llama", 128256, 4096, 32, 32, 8, 128, 14336, 131072, 500000, 1e-5,
                    type, false, true, null, 1);
            case "llama-3.2-1b" -> new ModelSpec("llama", 128256, 2048, 16, 32, 8, 64, 8192, 131072, 500000, 1e-5,
                    type, true, true, null, 1);
            case "qwen2-7b" -> new ModelSpec("qwen2", 152064, 3584, 28, 28, 4, 128, 18944, 32768, 1000000, 1e-6,
                    type, false, false, null, 1);
            // Small enough for long contexts on a laptop CPU, large enough that decoding is not all overhead.
            case "bench-512" -> new ModelSpec("llama", 32000, 512, 8, 8, 2, 64, 1536, 32768, 500000, 1e-5,
                    type, false, false, null, 1);
            case "tiny-llama" -> new ModelSpec("llama", 512, 256, 2, 4, 2, 64, 512, 4096, 10000, 1e-5,
                    type, false, false, null, 1);
            case "tiny-llama3" -> new ModelSpec("llama", 512, 256, 2, 4, 2, 64, 512, 4096, 500000, 1e-5,
                    type, true, true, null, 1);
            case "tiny-qwen2" -> new ModelSpec("qwen2", 512, 256, 2, 4, 2, 64, 512, 4096, 1000000, 1e-6,
                    type, false, false, null, 1);
            case "tiny-qwen3" -> new ModelSpec("qwen3", 512, 256, 2, 4, 2, 128, 512, 4096, 1000000, 1e-6,
                    type, true, false, null, 1);
            // Mistral 7B is published in GGUF as architecture "llama" (GQA 4:1, theta 1e6).
            case "tiny-mistral" -> new ModelSpec("llama", 512, 256, 2, 4, 1, 64, 512, 4096, 1000000, 1e-5,
                    type, false, false, null, 1);
            default -> throw new IllegalArgumentException("unknown model preset '" + name + "' (llama-3.1-8b, llama-3.2-1b,"
                    + " qwen2-7b, bench-512, tiny-llama, tiny-llama3, tiny-qwen2, tiny-qwen3, tiny-mistral)");
        };
    }

    public ModelSpec withVocabulary(Path vocabGguf) {
        return new ModelSpec(architecture, vocabSize, embedding, layers, heads, kvHeads, headDim, feedForward,
                contextLength, ropeTheta, rmsEps, weightType, tiedOutput, llama3Rope, vocabGguf, seed);
    }

    public ModelSpec withSeed(long newSeed) {
        return new ModelSpec(architecture, vocabSize, embedding, layers, heads, kvHeads, headDim, feedForward,
                contextLength, ropeTheta, rmsEps, weightType, tiedOutput, llama3Rope, vocabularyFrom, newSeed);
    }

    public ModelSpec withLayers(int n) {
        return new ModelSpec(architecture, vocabSize, embedding, n, heads, kvHeads, headDim, feedForward,
                contextLength, ropeTheta, rmsEps, weightType, tiedOutput, llama3Rope, vocabularyFrom, seed);
    }

    public ModelSpec withContextLength(int n) {
        return new ModelSpec(architecture, vocabSize, embedding, layers, heads, kvHeads, headDim, feedForward,
                n, ropeTheta, rmsEps, weightType, tiedOutput, llama3Rope, vocabularyFrom, seed);
    }

    public ModelSpec withWeightType(GgmlType t) {
        return new ModelSpec(architecture, vocabSize, embedding, layers, heads, kvHeads, headDim, feedForward,
                contextLength, ropeTheta, rmsEps, t, tiedOutput, llama3Rope, vocabularyFrom, seed);
    }

    public ModelSpec withHeads(int h, int kv, int hd) {
        return new ModelSpec(architecture, vocabSize, hd * h, layers, h, kv, hd, feedForward,
                contextLength, ropeTheta, rmsEps, weightType, tiedOutput, llama3Rope, vocabularyFrom, seed);
    }
}
