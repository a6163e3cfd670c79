package org.rbench.core.model;

import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufTensorInfo;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which tensors a model of given hyper-parameters needs, with their shapes and allowed
 * types, and the check of a GGUF file against that list. Everything is validated here,
 * in Java, because a wrong shape reaching ggml would fail an assert and abort the JVM.
 */
public final class WeightCatalog {
    /** Types ggml can multiply (and gather rows of) as the weight operand. */
    public static final Set<GgmlType> MATRIX_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
            GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ3_XXS, GgmlType.IQ1_S, GgmlType.IQ4_NL, GgmlType.IQ3_S,
            GgmlType.IQ2_S, GgmlType.IQ4_XS, GgmlType.IQ1_M, GgmlType.TQ1_0, GgmlType.TQ2_0, GgmlType.MXFP4);
    /** Norm weights, biases and RoPE factors are added or multiplied element-wise in F32. */
    public static final Set<GgmlType> VECTOR_TYPES = EnumSet.of(GgmlType.F32);

    /** One expected tensor. */
    public record Entry(String name, long[] shape, boolean matrix, boolean required) {
        Set<GgmlType> allowedTypes() {
            return matrix ? MATRIX_TYPES : VECTOR_TYPES;
        }
    }

    private final List<Entry> entries;

    private WeightCatalog(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** The tensors of llama / qwen2 / qwen3 models (names as llama.cpp's loader uses them). */
    public static WeightCatalog of(HyperParameters hp) {
        long d = hp.embedding();
        List<Entry> e = new ArrayList<>();
        e.add(new Entry("token_embd.weight", new long[] {d, hp.vocabSize()}, true, true));
        e.add(new Entry("output_norm.weight", new long[] {d}, false, true));
        e.add(new Entry("output.weight", new long[] {d, hp.vocabSize()}, true, false));
        e.add(new Entry("output.bias", new long[] {hp.vocabSize()}, false, false));
        e.add(new Entry("rope_freqs.weight", new long[] {hp.headDim() / 2}, false, false));
        boolean qkNorm = hp.architecture().queryKeyNorm;
        for (int l = 0; l < hp.layers(); l++) {
            String p = "blk." + l + ".";
            e.add(new Entry(p + "attn_norm.weight", new long[] {d}, false, true));
            e.add(new Entry(p + "attn_q.weight", new long[] {d, hp.queryDim()}, true, true));
            e.add(new Entry(p + "attn_k.weight", new long[] {d, hp.kvDim()}, true, true));
            e.add(new Entry(p + "attn_v.weight", new long[] {d, hp.kvDim()}, true, true));
            e.add(new Entry(p + "attn_output.weight", new long[] {hp.queryDim(), d}, true, true));
            e.add(new Entry(p + "attn_q.bias", new long[] {hp.queryDim()}, false, false));
            e.add(new Entry(p + "attn_k.bias", new long[] {hp.kvDim()}, false, false));
            e.add(new Entry(p + "attn_v.bias", new long[] {hp.kvDim()}, false, false));
            e.add(new Entry(p + "attn_output.bias", new long[] {d}, false, false));
            e.add(new Entry(p + "attn_q_norm.weight", new long[] {hp.headDim()}, false, qkNorm));
            e.add(new Entry(p + "attn_k_norm.weight", new long[] {hp.headDim()}, false, qkNorm));
            e.add(new Entry(p + "ffn_norm.weight", new long[] {d}, false, true));
            e.add(new Entry(p + "ffn_gate.weight", new long[] {d, hp.feedForward()}, true, true));
            e.add(new Entry(p + "ffn_up.weight", new long[] {d, hp.feedForward()}, true, true));
            e.add(new Entry(p + "ffn_down.weight", new long[] {hp.feedForward(), d}, true, true));
        }
        return new WeightCatalog(e);
    }

    /**
     * Checks presence, shape and type of every tensor the engine will use and returns the
     * GGUF entries found, in catalog order (absent optional tensors are left out).
     */
    public List<GgufTensorInfo> validate(GgufFile file) {
        String where = file.path().getFileName() + ": ";
        if (file.tensor("blk.0.attn_qkv.weight").isPresent() && file.tensor("blk.0.attn_q.weight").isEmpty()) {
            throw new UnsupportedModelException(where + "fused attn_qkv weights are not supported (separate attn_q/k/v are)");
        }
        List<GgufTensorInfo> found = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Entry entry : entries) {
            Optional<GgufTensorInfo> info = file.tensor(entry.name());
            if (info.isEmpty()) {
                if (entry.required()) {
                    missing.add(entry.name());
                }
                continue;
            }
            GgufTensorInfo t = info.get();
            if (!sameShape(entry.shape(), t.ne())) {
                throw new InvalidModelException(where + "tensor " + entry.name() + " has shape " + Arrays.toString(t.ne())
                        + ", expected " + Arrays.toString(entry.shape()) + " from the metadata");
            }
            if (!entry.allowedTypes().contains(t.type())) {
                throw new UnsupportedModelException(where + "tensor " + entry.name() + " has type " + t.type()
                        + ", which the engine cannot use here (allowed: " + entry.allowedTypes() + ")");
            }
            found.add(t);
        }
        if (!missing.isEmpty()) {
            throw new InvalidModelException(where + "missing tensors " + (missing.size() > 8
                    ? missing.subList(0, 8) + " and " + (missing.size() - 8) + " more" : missing));
        }
        return found;
    }

    private static boolean sameShape(long[] expected, long[] actual) {
        int n = Math.max(expected.length, actual.length);
        for (int i = 0; i < n; i++) {
            long e = i < expected.length ? expected[i] : 1;
            long a = i < actual.length ? actual[i] : 1;
            if (e != a) {
                return false;
            }
        }
        return true;
    }
}
