import org.rbench.gguf.GgufFile;
import org.rbench.gguf.GgufWriter;
import org.rbench.llamacpp.Ggml;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Writes the trained model as a llama GGUF: the trainer's F16 tensors (manifest.json +
 * weights.NNN, GGUF names, PyTorch [out, in] = ggml ne [in, out], no permutation because
 * training used interleaved RoPE), matrices converted to TYPE by ggml's own quantiser, norms
 * F32, the tokenizer.* metadata copied from the Llama-2 SPM vocabulary GGUF.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp 'harness/target/lib/*' training/ExportGguf.java \
 *      WEIGHTS_DIR VOCAB.gguf OUT.gguf [Q8_0|F16|F32] [NAME]
 * </pre>
 * RBENCH_LLAMACPP_DIR must name the llama.cpp libraries (for quantisation).
 */
public final class ExportGguf {
    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: ExportGguf WEIGHTS_DIR VOCAB.gguf OUT.gguf [Q8_0|F16|F32] [NAME]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Path vocab = Path.of(args[1]);
        Path out = Path.of(args[2]);
        GgmlType type = GgmlType.valueOf(args.length > 3 ? args[3] : "Q8_0");
        String name = args.length > 4 ? args[4] : "rbench-longctx-22m";
        JsonNode man = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        JsonNode cfg = man.get("config");
        ByteBuffer data = readPieces(dir, man);
        LlamaCpp.initialise();

        String a = "llama";
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", a);
        w.putString("general.name", name);
        w.putString("general.description", "rbench's embedded long-context model: trained from scratch by training/train.py on "
                + "RULER-style tasks (the suite's generators, training seeds >= 1000), multi-query associative recall and "
                + "public-domain State of the Union text; " + man.get("steps").asLong() + " steps, "
                + man.get("tokens").asLong() + " tokens. See models/README.md.");
        w.putU32("general.file_type", switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q8_0 -> 7;
            default -> throw new IllegalArgumentException("type " + type);
        });
        int d = cfg.get("d_model").asInt();
        int headDim = cfg.get("head_dim").asInt();
        w.putU32(a + ".context_length", cfg.get("max_len").asInt());
        w.putU32(a + ".embedding_length", d);
        w.putU32(a + ".block_count", cfg.get("layers").asInt());
        w.putU32(a + ".feed_forward_length", cfg.get("ffn").asInt());
        w.putU32(a + ".attention.head_count", cfg.get("heads").asInt());
        w.putU32(a + ".attention.head_count_kv", cfg.get("kv_heads").asInt());
        w.putF32(a + ".attention.layer_norm_rms_epsilon", cfg.get("eps").asDouble());
        w.putF32(a + ".rope.freq_base", cfg.get("rope_theta").asDouble());
        w.putU32(a + ".rope.dimension_count", headDim);
        w.putU32(a + ".attention.key_length", headDim);
        w.putU32(a + ".attention.value_length", headDim);
        try (GgufFile v = GgufFile.open(vocab)) {
            w.copyMetadata(v, "tokenizer.");
            int n = v.require("tokenizer.ggml.tokens").asList().size();
            if (n != cfg.get("vocab").asInt()) {
                throw new IllegalArgumentException("vocabulary has " + n + " tokens, the model " + cfg.get("vocab"));
            }
        }
        for (JsonNode t : man.get("tensors")) {
            String tn = t.get("name").asText();
            long[] ne = new long[t.get("ne").size()];
            for (int i = 0; i < ne.length; i++) {
                ne[i] = t.get("ne").get(i).asLong();
            }
            float[] values = values(data, t);
            if (ne.length == 1) {
                w.addTensor(tn, ne, values);
                continue;
            }
            int cols = (int) ne[0];
            int rows = (int) ne[1];
            w.addTensor(tn, type, ne, seg -> encode(type, values, rows, cols, seg));
        }
        w.write(out);
        System.out.printf("wrote %s (%s, %d tensors, %.1f MB)%n", out, type, man.get("tensors").size(), Files.size(out) / 1e6);
    }

    private static ByteBuffer readPieces(Path dir, JsonNode man) throws IOException {
        long total = man.get("total_bytes").asLong();
        ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(total)).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode p : man.get("pieces")) {
            all.put(Files.readAllBytes(dir.resolve(p.asText())));
        }
        if (all.position() != total) {
            throw new IOException("weights pieces hold " + all.position() + " bytes, manifest says " + total);
        }
        return all.flip();
    }

    private static float[] values(ByteBuffer data, JsonNode t) {
        long n = 1;
        for (JsonNode x : t.get("ne")) {
            n *= x.asLong();
        }
        float[] v = new float[Math.toIntExact(n)];
        int off = t.get("offset").asInt();
        switch (t.get("dtype").asText()) {
            case "f16" -> {
                for (int i = 0; i < v.length; i++) {
                    v[i] = Float.float16ToFloat(data.getShort(off + 2 * i));
                }
            }
            case "f32" -> {
                for (int i = 0; i < v.length; i++) {
                    v[i] = data.getFloat(off + 4 * i);
                }
            }
            default -> throw new IllegalArgumentException("dtype " + t.get("dtype"));
        }
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw new IllegalArgumentException("non-finite weight in " + t.get("name"));
            }
        }
        return v;
    }

    private static void encode(GgmlType type, float[] values, int rows, int cols, MemorySegment out) {
        switch (type) {
            case F32 -> MemorySegment.copy(values, 0, out, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
            case F16 -> {
                for (int i = 0; i < values.length; i++) {
                    out.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, Float.floatToFloat16(values[i]));
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
}
