package org.rbench.gguf;

import org.rbench.llamacpp.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Writes GGUF v3 files in Java. Metadata keeps insertion order; tensor data is produced
 * by a callback that fills the tensor's region of the memory-mapped output directly, so
 * multi-gigabyte random models are written without holding them in the heap.
 * The file is written to a temporary name and moved into place when complete, so a
 * failed write never leaves a half-written model behind.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<PendingTensor> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    private record PendingTensor(String name, GgmlType type, long[] ne, long bytes, Consumer<MemorySegment> fill) {
    }

    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("metadata key must not be empty");
        }
        if (key.equals("general.alignment")) {
            long a = value.asLong();
            if (a <= 0 || (a & (a - 1)) != 0) {
                throw new IllegalArgumentException("general.alignment must be a power of two: " + a);
            }
            alignment = (int) a;
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValue.string(value));
    }

    public GgufWriter putU32(String key, long value) {
        return put(key, GgufValue.u32(value));
    }

    public GgufWriter putF32(String key, double value) {
        return put(key, GgufValue.f32(value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValue.bool(value));
    }

    /** Copies every metadata entry of {@code source} whose key starts with {@code prefix}. */
    public GgufWriter copyMetadata(GgufFile source, String prefix) {
        source.metadata().forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                put(k, v);
            }
        });
        return this;
    }

    /**
     * Adds a tensor; {@code fill} receives exactly the tensor's bytes (ne[0] innermost,
     * the ggml layout) to write into.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] ne, Consumer<MemorySegment> fill) {
        if (name.getBytes(StandardCharsets.UTF_8).length >= 64) {
            throw new IllegalArgumentException("tensor name too long (63 bytes max): " + name);
        }
        if (ne.length < 1 || ne.length > 4) {
            throw new IllegalArgumentException("tensor '" + name + "' must have 1 to 4 dimensions");
        }
        long bytes = type.rowSize(ne[0]);
        for (int i = 1; i < ne.length; i++) {
            bytes = Math.multiplyExact(bytes, ne[i]);
        }
        for (PendingTensor t : tensors) {
            if (t.name.equals(name)) {
                throw new IllegalArgumentException("duplicate tensor name " + name);
            }
        }
        tensors.add(new PendingTensor(name, type, ne.clone(), bytes, fill));
        return this;
    }

    /** Adds an F32 tensor from values. */
    public GgufWriter addTensor(String name, long[] ne, float[] values) {
        long n = Arrays.stream(ne).reduce(1, (a, b) -> a * b);
        if (n != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + n + " elements, got " + values.length);
        }
        return addTensor(name, GgmlType.F32, ne, seg -> MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length));
    }

    public void write(Path path) throws IOException {
        byte[] header = header();
        long dataStart = align(header.length);
        long[] offsets = new long[tensors.size()];
        long cursor = 0;
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = cursor;
            cursor = align(cursor + tensors.get(i).bytes);
        }
        // Re-create the header now that offsets are known (same length: offsets are fixed-size).
        header = header(offsets);
        long total = dataStart + cursor;
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        Path tmp = Files.createTempFile(dir, path.getFileName().toString(), ".partial");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING); Arena arena = Arena.ofShared()) {
                ch.write(ByteBuffer.wrap(header), 0);
                if (total > dataStart) {
                    MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                    for (int i = 0; i < tensors.size(); i++) {
                        PendingTensor t = tensors.get(i);
                        t.fill.accept(out.asSlice(dataStart + offsets[i], t.bytes));
                    }
                    out.force();
                } else {
                    ch.truncate(total);
                }
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private long align(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private byte[] header() {
        return header(new long[tensors.size()]);
    }

    private byte[] header(long[] offsets) {
        Out o = new Out();
        o.u32(GgufFile.MAGIC);
        o.u32(3);
        o.u64(tensors.size());
        o.u64(metadata.size());
        metadata.forEach((k, v) -> {
            o.string(k);
            o.u32(v.type().id);
            if (v.type() == GgufType.ARRAY) {
                o.u32(v.elementType().id);
                o.u64(v.asList().size());
                for (Object e : v.asList()) {
                    o.scalar(v.elementType(), e);
                }
            } else {
                o.scalar(v.type(), v.value());
            }
        });
        for (int i = 0; i < tensors.size(); i++) {
            PendingTensor t = tensors.get(i);
            o.string(t.name);
            o.u32(t.ne.length);
            for (long n : t.ne) {
                o.u64(n);
            }
            o.u32(t.type.id);
            o.u64(offsets[i]);
        }
        return o.bytes();
    }

    private static final class Out {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(int n) {
            if (buf.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n))
                        .order(ByteOrder.LITTLE_ENDIAN);
                buf.flip();
                bigger.put(buf);
                buf = bigger;
            }
        }

        void u32(long v) {
            ensure(4);
            buf.putInt((int) v);
        }

        void u64(long v) {
            ensure(8);
            buf.putLong(v);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            ensure(b.length);
            buf.put(b);
        }

        void scalar(GgufType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> { ensure(1); buf.put((byte) (long) (Long) v); }
                case UINT16, INT16 -> { ensure(2); buf.putShort((short) (long) (Long) v); }
                case UINT32, INT32 -> u32((Long) v);
                case UINT64, INT64 -> u64((Long) v);
                case FLOAT32 -> { ensure(4); buf.putFloat((float) (double) (Double) v); }
                case FLOAT64 -> { ensure(8); buf.putDouble((Double) v); }
                case BOOL -> { ensure(1); buf.put((byte) (((Boolean) v) ? 1 : 0)); }
                case STRING -> string((String) v);
                default -> throw new IllegalArgumentException("cannot write " + type);
            }
        }

        byte[] bytes() {
            return Arrays.copyOf(buf.array(), buf.position());
        }
    }
}
