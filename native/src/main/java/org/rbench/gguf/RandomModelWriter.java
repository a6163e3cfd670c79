package org.rbench.gguf;

import org.rbench.llamacpp.Ggml;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Writes a llama-family GGUF model with random weights for a {@link ModelSpec}: the
 * tensor names, shapes and metadata keys libllama expects, deterministic by seed.
 * Matrices are uniform with standard deviation 1/sqrt(fan_in) (so activations keep their
 * scale through the layers), norms are near 1, and quantised types are produced by
 * ggml's own quantiser. Rows are generated in parallel chunks, each with its own seeded
 * generator, so the output does not depend on thread scheduling.
 */
public final class RandomModelWriter {
    private static final int ROWS_PER_CHUNK = 64;

    private RandomModelWriter() {
    }

    public static void write(ModelSpec spec, Path out) throws IOException {
        GgmlType wt = spec.weightType();
        if (wt.isQuantized() || wt == GgmlType.F16 || wt == GgmlType.BF16) {
            if (wt.isQuantized()) {
                LlamaCpp.initialise();
                if (Ggml.ggml_quantize_requires_imatrix(wt.id)) {
                    throw new IllegalArgumentException(wt + " needs an importance matrix; choose F32, F16, BF16, Q8_0, Q4_K, Q6_K...");
                }
            }
        } else if (wt != GgmlType.F32) {
            throw new IllegalArgumentException("unsupported weight type " + wt);
        }
        String a = spec.architecture();
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", a);
        w.putString("general.name", "rbench random " + a + " " + spec.layers() + "L d" + spec.embedding());
        w.putU32("general.file_type", fileType(wt));
        w.putU32(a + ".context_length", spec.contextLength());
        w.putU32(a + ".embedding_length", spec.embedding());
        w.putU32(a + ".block_count", spec.layers());
        w.putU32(a + ".feed_forward_length", spec.feedForward());
        w.putU32(a + ".attention.head_count", spec.heads());
        w.putU32(a + ".attention.head_count_kv", spec.kvHeads());
        w.putF32(a + ".attention.layer_norm_rms_epsilon", spec.rmsEps());
        w.putF32(a + ".rope.freq_base", spec.ropeTheta());
        w.putU32(a + ".rope.dimension_count", spec.headDim());
        w.putU32(a + ".attention.key_length", spec.headDim());
        w.putU32(a + ".attention.value_length", spec.headDim());
        int vocab = spec.vocabSize();
        if (spec.vocabularyFrom() != null) {
            try (GgufFile v = GgufFile.open(spec.vocabularyFrom())) {
                w.copyMetadata(v, "tokenizer.");
                vocab = v.require("tokenizer.ggml.tokens").asList().size();
            }
        } else {
            w.putString("tokenizer.ggml.model", "no_vocab");
            w.putU32(a + ".vocab_size", vocab);
        }
        int d = spec.embedding();
        int qDim = spec.heads() * spec.headDim();
        int kvDim = spec.kvHeads() * spec.headDim();
        int ff = spec.feedForward();
        long seed = spec.seed();
        int[] index = {0};
        java.util.function.IntSupplier next = () -> index[0]++;

        matrix(w, "token_embd.weight", wt, d, vocab, 1.0, seed, next.getAsInt());
        vector(w, "output_norm.weight", d, 1.0, 0.1, seed, next.getAsInt());
        if (!spec.tiedOutput()) {
            matrix(w, "output.weight", wt, d, vocab, 1.0 / Math.sqrt(d), seed, next.getAsInt());
        }
        if (spec.llama3Rope()) {
            float[] factors = llama3RopeFactors(spec.headDim(), spec.ropeTheta(), 8.0, 1.0, 4.0, 8192);
            w.addTensor("rope_freqs.weight", new long[] {factors.length}, factors);
        }
        for (int l = 0; l < spec.layers(); l++) {
            String p = "blk." + l + ".";
            vector(w, p + "attn_norm.weight", d, 1.0, 0.1, seed, next.getAsInt());
            matrix(w, p + "attn_q.weight", wt, d, qDim, 1.0 / Math.sqrt(d), seed, next.getAsInt());
            matrix(w, p + "attn_k.weight", wt, d, kvDim, 1.0 / Math.sqrt(d), seed, next.getAsInt());
            matrix(w, p + "attn_v.weight", wt, d, kvDim, 1.0 / Math.sqrt(d), seed, next.getAsInt());
            matrix(w, p + "attn_output.weight", wt, qDim, d, 1.0 / Math.sqrt(qDim), seed, next.getAsInt());
            if (spec.qkvBias()) {
                vector(w, p + "attn_q.bias", qDim, 0.0, 0.1, seed, next.getAsInt());
                vector(w, p + "attn_k.bias", kvDim, 0.0, 0.1, seed, next.getAsInt());
                vector(w, p + "attn_v.bias", kvDim, 0.0, 0.1, seed, next.getAsInt());
            }
            if (spec.qkNorm()) {
                vector(w, p + "attn_q_norm.weight", spec.headDim(), 1.0, 0.1, seed, next.getAsInt());
                vector(w, p + "attn_k_norm.weight", spec.headDim(), 1.0, 0.1, seed, next.getAsInt());
            }
            vector(w, p + "ffn_norm.weight", d, 1.0, 0.1, seed, next.getAsInt());
            matrix(w, p + "ffn_gate.weight", wt, d, ff, 1.0 / Math.sqrt(d), seed, next.getAsInt());
            matrix(w, p + "ffn_up.weight", wt, d, ff, 1.0 / Math.sqrt(d), seed, next.getAsInt());
            matrix(w, p + "ffn_down.weight", wt, ff, d, 1.0 / Math.sqrt(ff), seed, next.getAsInt());
        }
        w.write(out);
    }

    /**
     * Llama 3.1 RoPE frequency factors (scale factor 8, low/high frequency factors 1/4,
     * original context 8192): long wavelengths are slowed by the factor, short ones kept,
     * the band between interpolated smoothly.
     */
    public static float[] llama3RopeFactors(int headDim, double theta, double factor, double lowFreqFactor,
                                            double highFreqFactor, int originalContext) {
        float[] out = new float[headDim / 2];
        double lowWavelen = originalContext / lowFreqFactor;
        double highWavelen = originalContext / highFreqFactor;
        for (int i = 0; i < out.length; i++) {
            double freq = 1.0 / Math.pow(theta, 2.0 * i / headDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                out[i] = 1f;
            } else if (wavelen > lowWavelen) {
                out[i] = (float) factor;
            } else {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                out[i] = (float) (1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return out;
    }

    private static int fileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case Q4_K -> 15;
            case Q6_K -> 18;
            case BF16 -> 32;
            default -> 0;
        };
    }

    private static void vector(GgufWriter w, String name, int n, double center, double spread, long seed, int tensorIndex) {
        SplittableRandom r = new SplittableRandom(mix(seed, tensorIndex, 0));
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (center + spread * (2 * r.nextDouble() - 1));
        }
        w.addTensor(name, new long[] {n}, v);
    }

    /** A [cols, rows] matrix (ggml order: ne0 = cols = fan-in) of the given type. */
    private static void matrix(GgufWriter w, String name, GgmlType type, int cols, int rows, double std, long seed,
                               int tensorIndex) {
        double half = std * Math.sqrt(3.0);
        long rowBytes = type.rowSize(cols);
        w.addTensor(name, type, new long[] {cols, rows}, dst -> {
            int chunks = (rows + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
            IntStream.range(0, chunks).parallel().forEach(c -> {
                int r0 = c * ROWS_PER_CHUNK;
                int nr = Math.min(ROWS_PER_CHUNK, rows - r0);
                SplittableRandom r = new SplittableRandom(mix(seed, tensorIndex, c + 1));
                float[] buf = new float[nr * cols];
                for (int i = 0; i < buf.length; i++) {
                    buf[i] = (float) (half * (2 * r.nextDouble() - 1));
                }
                MemorySegment out = dst.asSlice(r0 * rowBytes, nr * rowBytes);
                encode(type, buf, nr, cols, out);
            });
        });
    }

    private static void encode(GgmlType type, float[] values, int rows, int cols, MemorySegment out) {
        switch (type) {
            case F32 -> MemorySegment.copy(values, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    out.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, Float.floatToFloat16(values[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < values.length; i++) {
                    int bits = Float.floatToRawIntBits(values[i]);
                    int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
                    out.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, (short) (rounded >>> 16));
                }
            }
            default -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
                    MemorySegment dst = arena.allocate(out.byteSize(), 64);
                    long written = Ggml.ggml_quantize_chunk(type.id, src, dst, 0, rows, cols, MemorySegment.NULL);
                    if (written != out.byteSize()) {
                        throw new IllegalStateException("quantiser wrote " + written + " bytes, expected " + out.byteSize());
                    }
                    out.copyFrom(dst);
                }
            }
        }
    }

    private static long mix(long seed, int tensor, int chunk) {
        long h = seed * 0x9E3779B97F4A7C15L + tensor * 0xBF58476D1CE4E5B9L + chunk * 0x94D049BB133111EBL;
        h ^= h >>> 31;
        return h;
    }

    /** Names of the tensors a spec produces, for tests and messages. */
    public static List<String> tensorNames(ModelSpec spec) {
        java.util.ArrayList<String> names = new java.util.ArrayList<>(List.of("token_embd.weight", "output_norm.weight"));
        if (!spec.tiedOutput()) {
            names.add("output.weight");
        }
        if (spec.llama3Rope()) {
            names.add("rope_freqs.weight");
        }
        for (int l = 0; l < spec.layers(); l++) {
            for (String t : List.of("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")) {
                names.add("blk." + l + "." + t + ".weight");
            }
        }
        return names;
    }
}
