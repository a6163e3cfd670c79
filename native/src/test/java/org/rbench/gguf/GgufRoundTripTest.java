package org.rbench.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.llamacpp.GgmlType;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GgufRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void metadataAndTensorsSurviveAWriteAndRead() throws Exception {
        Path file = dir.resolve("rt.gguf");
        float[] values = {1.5f, -2f, 3.25f, 0f, 7f, 8f};
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "llama")
                .putU32("llama.block_count", 3)
                .putF32("llama.rope.freq_base", 500000)
                .putBool("flag", true)
                .put("i64", GgufValue.of(GgufType.INT64, -5L))
                .put("u8", GgufValue.of(GgufType.UINT8, 250))
                .put("f64", GgufValue.of(GgufType.FLOAT64, 0.125))
                .put("strings", GgufValue.array(GgufType.STRING, List.of("a", "bé", "")))
                .put("ints", GgufValue.array(GgufType.INT32, List.of(1, -2, 3)))
                .addTensor("t.f32", new long[] {3, 2}, values)
                .addTensor("t.i8", GgmlType.I8, new long[] {5}, seg -> {
                    for (int i = 0; i < 5; i++) {
                        seg.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 3));
                    }
                });
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(3, f.version());
            assertEquals("llama", f.architecture());
            assertEquals(3, f.getLong("llama.block_count"));
            assertEquals(500000.0, f.findDouble("llama.rope.freq_base").orElseThrow(), 0);
            assertEquals(true, f.require("flag").value());
            assertEquals(-5L, f.getLong("i64"));
            assertEquals(250L, f.getLong("u8"));
            assertEquals(0.125, f.require("f64").asDouble(), 0);
            assertEquals(List.of("a", "bé", ""), f.require("strings").asList());
            assertEquals(List.of(1L, -2L, 3L), f.require("ints").asList());
            assertEquals(List.of("general.architecture", "llama.block_count", "llama.rope.freq_base", "flag", "i64",
                    "u8", "f64", "strings", "ints"), List.copyOf(f.metadata().keySet()));
            GgufTensorInfo t = f.tensor("t.f32").orElseThrow();
            assertArrayEquals(new long[] {3, 2}, t.ne());
            assertEquals(GgmlType.F32, t.type());
            assertEquals(0, (t.fileOffset() - f.dataOffset()) % 32);
            assertArrayEquals(values, f.data(t).toArray(ValueLayout.JAVA_FLOAT));
            GgufTensorInfo b = f.tensor("t.i8").orElseThrow();
            assertArrayEquals(new byte[] {0, 3, 6, 9, 12}, f.data(b).toArray(ValueLayout.JAVA_BYTE));
        }
    }
}
