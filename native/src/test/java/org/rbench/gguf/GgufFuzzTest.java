package org.rbench.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.llamacpp.GgmlType;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded mutation fuzzing of the GGUF reader: valid files are mutated (bits flipped, bytes,
 * u32 and u64 fields overwritten with boundary values, spans cut, inserted or repeated, the
 * file truncated) and every mutant must either load, with every metadata value, tensor
 * info and tensor slice readable through the public API, or fail with a
 * {@link GgufFormatException} whose message has no raw control byte. Any other exception,
 * a hang (the whole run has a time limit) or a JVM crash (the reader runs in the test JVM)
 * fails the test.
 *
 * <p>Each mutant is made from its own seeded generator, so a failure names the one mutant
 * that reproduces it. {@code -Drbench.gguf.fuzz.mutants=N} (default 3000, about a second)
 * runs more, {@code -Drbench.gguf.fuzz.seed=S} others: e.g.
 * {@code ./mvnw -o -pl native test -Dtest=GgufFuzzTest -Drbench.gguf.fuzz.mutants=300000}.
 */
class GgufFuzzTest {
    private static final int MUTANTS = Integer.getInteger("rbench.gguf.fuzz.mutants", 3000);
    private static final long SEED = Long.getLong("rbench.gguf.fuzz.seed", 20261203L);

    private static final int[] INTS = {0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 33, 64, 255, 256, 65535, 0x7fffffff,
            0x80000000, 0xffffffff, 0xfffffffe};
    private static final long[] LONGS = {0, 1, 2, 4, 8, 31, 32, 64, 255, 1L << 31, (1L << 32) - 1, 1L << 32, 1L << 40,
            (1L << 40) + 1, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, -1, -32, Long.MAX_VALUE - 31, 0x7fffffffffffffe0L};

    @TempDir
    Path dir;

    @Test
    void everyMutantLoadsOrFailsWithAGgufFormatException() throws Exception {
        List<Seed> seeds = seedFiles();
        Path file = Path.of("mutant.gguf"); // named in messages; parsed in memory
        assertTimeoutPreemptively(Duration.ofSeconds(30 + MUTANTS / 100), () -> {
            for (int i = 0; i < MUTANTS; i++) {
                Random random = new Random(SEED * 1_000_003L + i);
                Seed seed = seeds.get(random.nextInt(seeds.size()));
                List<String> applied = new ArrayList<>();
                byte[] mutant = mutate(seed, random, applied);
                try (GgufFile g = GgufFile.parse(file, mutant)) {
                    readEverything(g);
                } catch (GgufFormatException expected) {
                    String m = expected.getMessage();
                    if (m == null || m.isBlank() || m.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                        fail(describe(i, applied) + ": unclear message: " + m);
                    }
                } catch (Throwable t) {
                    throw new AssertionError(describe(i, applied) + ": " + t, t);
                }
            }
        });
    }

    private static String describe(int mutant, List<String> applied) {
        return "mutant " + mutant + " (seed " + SEED + ") " + applied;
    }

    /** Everything a caller can ask a loaded file; a GgufFormatException from a typed getter is a clear answer. */
    private static void readEverything(GgufFile g) {
        g.version();
        g.alignment();
        g.dataOffset();
        for (Map.Entry<String, GgufValue> e : g.metadata().entrySet()) {
            GgufValue v = e.getValue();
            String key = e.getKey();
            v.toString();
            switch (v.type()) {
                case STRING -> g.getString(key);
                case ARRAY -> v.asList().size();
                case FLOAT32, FLOAT64 -> g.findDouble(key);
                case BOOL -> v.value();
                default -> {
                    g.getLong(key);
                    g.findDouble(key);
                }
            }
            expectClear(() -> g.getString(key));
            expectClear(() -> g.getLong(key));
        }
        expectClear(g::architecture);
        for (GgufTensorInfo t : g.tensors()) {
            t.toString();
            t.elements();
            g.tensor(t.name()).orElseThrow();
            var data = g.data(t);
            if (data.byteSize() > 0) {
                data.get(ValueLayout.JAVA_BYTE, 0);
                data.get(ValueLayout.JAVA_BYTE, data.byteSize() - 1);
            }
        }
    }

    private static void expectClear(Runnable call) {
        try {
            call.run();
        } catch (GgufFormatException clear) {
            // a typed getter on a value of another type, or a missing key: the reader's own answer
        }
    }

    private static byte[] mutate(Seed seed, Random random, List<String> applied) {
        byte[] b = seed.bytes().clone();
        int header = seed.headerEnd();
        int count = 1 + random.nextInt(4);
        for (int m = 0; m < count && b.length > 0; m++) {
            // most mutations hit the header, where everything the reader checks lives
            int at = random.nextInt(10) < 8 ? random.nextInt(Math.min(header, b.length)) : random.nextInt(b.length);
            switch (random.nextInt(8)) {
                case 0 -> {
                    int bit = random.nextInt(8);
                    b[at] ^= (byte) (1 << bit);
                    applied.add("flip bit " + bit + " at " + at);
                }
                case 1 -> {
                    byte v = (byte) new int[] {0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a}[random.nextInt(7)];
                    b[at] = v;
                    applied.add("byte " + (v & 0xff) + " at " + at);
                }
                case 2 -> {
                    int v = INTS[random.nextInt(INTS.length)];
                    if (at + 4 <= b.length) {
                        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
                        applied.add("u32 " + Integer.toUnsignedString(v) + " at " + at);
                    }
                }
                case 3 -> {
                    long v = LONGS[random.nextInt(LONGS.length)];
                    if (at + 8 <= b.length) {
                        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
                        applied.add("u64 " + Long.toUnsignedString(v) + " at " + at);
                    }
                }
                case 4 -> {
                    b = Arrays.copyOf(b, at);
                    applied.add("truncate to " + at);
                }
                case 5 -> {
                    int n = Math.min(1 + random.nextInt(16), b.length - at);
                    byte[] cut = new byte[b.length - n];
                    System.arraycopy(b, 0, cut, 0, at);
                    System.arraycopy(b, at + n, cut, at, b.length - at - n);
                    b = cut;
                    applied.add("delete " + n + " at " + at);
                }
                case 6 -> {
                    byte[] extra = new byte[1 + random.nextInt(16)];
                    random.nextBytes(extra);
                    b = insert(b, at, extra);
                    applied.add("insert " + extra.length + " random bytes at " + at);
                }
                default -> {
                    int n = Math.min(1 + random.nextInt(32), b.length - at);
                    b = insert(b, at, Arrays.copyOfRange(b, at, at + n));
                    applied.add("repeat " + n + " bytes at " + at);
                }
            }
        }
        return b;
    }

    private static byte[] insert(byte[] b, int at, byte[] extra) {
        byte[] out = new byte[b.length + extra.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(extra, 0, out, at, extra.length);
        System.arraycopy(b, at, out, at + extra.length, b.length - at);
        return out;
    }

    /** A valid file and where its tensor data starts (everything before is header). */
    private record Seed(byte[] bytes, int headerEnd) {
    }

    /** Valid files covering every metadata type, arrays, several tensor types and shapes, and a non-default alignment. */
    private List<Seed> seedFiles() throws Exception {
        List<GgufWriter> writers = List.of(
                new GgufWriter()
                        .putString("general.architecture", "llama")
                        .putString("general.name", "fuzz seed")
                        .putU32("llama.context_length", 2048)
                        .putU32("llama.block_count", 2)
                        .putF32("llama.rope.freq_base", 10000)
                        .putBool("llama.flag", true)
                        .put("u8", GgufValue.of(GgufType.UINT8, 7))
                        .put("i8", GgufValue.of(GgufType.INT8, -7))
                        .put("u16", GgufValue.of(GgufType.UINT16, 700))
                        .put("i16", GgufValue.of(GgufType.INT16, -700))
                        .put("i32", GgufValue.of(GgufType.INT32, -70000))
                        .put("u64", GgufValue.of(GgufType.UINT64, 1L << 33))
                        .put("i64", GgufValue.of(GgufType.INT64, -(1L << 33)))
                        .put("f64", GgufValue.of(GgufType.FLOAT64, 0.5))
                        .put("tokenizer.ggml.tokens", GgufValue.array(GgufType.STRING, List.of("<s>", "a", "bé", "")))
                        .put("tokenizer.ggml.scores", GgufValue.array(GgufType.FLOAT32, List.of(0.0, -1.0, -2.0, -3.0)))
                        .put("tokenizer.ggml.token_type", GgufValue.array(GgufType.INT32, List.of(3, 1, 1, 1)))
                        .put("flags", GgufValue.array(GgufType.BOOL, List.of(true, false)))
                        .addTensor("token_embd.weight", new long[] {8, 4}, new float[32])
                        .addTensor("blk.0.attn_q.weight", GgmlType.Q8_0, new long[] {32, 2}, seg -> { })
                        .addTensor("blk.0.attn_norm.weight", GgmlType.F16, new long[] {8}, seg -> { })
                        .addTensor("four.d", new long[] {2, 2, 2, 2}, new float[16]),
                new GgufWriter()
                        .putU32("general.alignment", 64)
                        .putString("general.architecture", "qwen2")
                        .addTensor("a", new long[] {4}, new float[4])
                        .addTensor("b", new long[] {4, 3, 2}, new float[24]),
                new GgufWriter().addTensor("only", new long[] {1}, new float[1]));
        List<Seed> seeds = new ArrayList<>();
        for (int i = 0; i < writers.size(); i++) {
            Path f = dir.resolve("seed-" + i + ".gguf");
            writers.get(i).write(f);
            try (GgufFile g = GgufFile.open(f)) {
                readEverything(g);
                seeds.add(new Seed(Files.readAllBytes(f), (int) g.dataOffset()));
            }
        }
        return seeds;
    }
}
