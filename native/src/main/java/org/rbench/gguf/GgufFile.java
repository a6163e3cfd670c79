package org.rbench.gguf;

import org.rbench.llamacpp.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file read in Java: metadata, tensor infos, and the tensor data as slices of a
 * read-only memory mapping. Every length, count, type and offset is checked against the
 * file size before use, so a truncated or corrupt file gives a {@link GgufFormatException}
 * that names the byte offset and what was being read, never a native crash.
 *
 * <p>The mapping lives until {@link #close()}; tensor data segments are invalid after it.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    /** The largest dimension a tensor may have (as ggml's own GGUF reader would accept). */
    private static final long MAX_DIMENSION = 1L << 40;
    private static final long MAX_ALIGNMENT = 1L << 30;
    /** Characters of a key or name quoted in a message. */
    private static final int MAX_QUOTED = 120;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> tensorsByName;
    private final long dataOffset;
    private final int alignment;

    private GgufFile(Path path, Arena arena, MemorySegment file) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        Reader r = new Reader(file, path);
        if (file.byteSize() < 24) {
            throw new GgufFormatException(path + ": too short to be a GGUF file (" + file.byteSize() + " bytes)");
        }
        int magic = r.u32("magic");
        if (magic != MAGIC) {
            throw new GgufFormatException(path + ": not a GGUF file (magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(MAGIC) + " \"GGUF\")");
        }
        version = r.u32("version");
        if (version < 2 || version > 3) {
            throw new GgufFormatException(path + ": unsupported GGUF version " + Integer.toUnsignedString(version)
                    + " (2 and 3 are supported)");
        }
        long nTensors = r.u64("tensor count");
        long nKv = r.u64("metadata count");
        // Each metadata entry needs at least 12 bytes and each tensor info at least 28.
        if (nKv < 0 || nKv > r.remaining() / 12 || nTensors < 0 || nTensors > r.remaining() / 28) {
            throw new GgufFormatException(path + ": implausible counts (" + Long.toUnsignedString(nTensors)
                    + " tensors, " + Long.toUnsignedString(nKv)
                    + " metadata entries) for a file of " + file.byteSize() + " bytes: corrupt or truncated");
        }
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = r.string("metadata key #" + i);
            int typeId = r.u32("type of " + quoted(key));
            GgufType type = GgufType.of(typeId);
            if (type == null) {
                throw r.error("unknown metadata type " + typeId + " for key " + quoted(key));
            }
            if (kv.put(key, r.value(type, key)) != null) {
                throw r.error("duplicate metadata key " + quoted(key));
            }
        }
        metadata = Collections.unmodifiableMap(kv);
        alignment = alignment(kv.get("general.alignment"));
        List<long[]> shapes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<GgmlType> types = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        for (long i = 0; i < nTensors; i++) {
            String name = r.string("tensor name #" + i);
            String tensor = "tensor " + quoted(name);
            int nDims = r.u32("dimension count of " + tensor);
            if (nDims < 1 || nDims > 4) {
                throw r.error(tensor + " has " + Integer.toUnsignedString(nDims) + " dimensions (1 to 4 allowed)");
            }
            long[] ne = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                ne[d] = r.u64("dimension " + d + " of " + tensor);
                if (ne[d] <= 0 || ne[d] > MAX_DIMENSION) {
                    throw r.error(tensor + " has an invalid dimension " + d + " of " + Long.toUnsignedString(ne[d])
                            + " (1 to 2^40 allowed)");
                }
            }
            int typeId = r.u32("type of " + tensor);
            GgmlType type;
            try {
                type = GgmlType.of(typeId);
            } catch (IllegalArgumentException e) {
                throw r.error(tensor + " has an unsupported ggml type id " + Integer.toUnsignedString(typeId));
            }
            if (ne[0] % type.blockSize != 0) {
                throw r.error(tensor + ": row of " + ne[0] + " is not a multiple of the "
                        + type + " block size " + type.blockSize);
            }
            long offset = r.u64("data offset of " + tensor);
            if (offset < 0 || offset % alignment != 0) {
                throw r.error(tensor + " data offset " + Long.toUnsignedString(offset) + (offset < 0
                        ? " is beyond any file" : " is not aligned to " + alignment));
            }
            names.add(name);
            shapes.add(ne);
            types.add(type);
            offsets.add(offset);
        }
        long pos = r.position();
        dataOffset = (pos + alignment - 1) / alignment * alignment;
        List<GgufTensorInfo> infos = new ArrayList<>();
        Map<String, GgufTensorInfo> byName = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            GgmlType type = types.get(i);
            long[] ne = shapes.get(i);
            String tensor = "tensor " + quoted(names.get(i));
            long bytes = tensorBytes(tensor, type, ne);
            long start = dataOffset + offsets.get(i);
            if (start < dataOffset || bytes > file.byteSize() - start) {
                throw new GgufFormatException(path + ": " + tensor + " data [" + start + ", "
                        + (start + bytes) + ") lies outside the file of " + file.byteSize()
                        + " bytes: the file is truncated or corrupt");
            }
            GgufTensorInfo info = new GgufTensorInfo(names.get(i), type, ne, start, bytes);
            if (byName.put(info.name(), info) != null) {
                throw new GgufFormatException(path + ": duplicate tensor name " + quoted(info.name()));
            }
            infos.add(info);
        }
        tensors = List.copyOf(infos);
        tensorsByName = Map.copyOf(byName);
    }

    /** general.alignment: absent (32), or an integer power of two small enough for an int. */
    private int alignment(GgufValue align) {
        if (align == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (!align.type().isInteger()) {
            throw new GgufFormatException(path + ": general.alignment is " + align.type() + ", expected an integer");
        }
        long a = align.asLong();
        if (a <= 0 || a > MAX_ALIGNMENT || (a & (a - 1)) != 0) {
            throw new GgufFormatException(path + ": general.alignment " + Long.toUnsignedString(a)
                    + " is not a power of two from 1 to 2^30");
        }
        return (int) a;
    }

    /**
     * The tensor's bytes: the row size times the other dimensions. Each dimension is at most
     * 2^40, so four of them can overflow 64 bits; such a shape is corrupt, not a big tensor.
     */
    private long tensorBytes(String tensor, GgmlType type, long[] ne) {
        long bytes = type.rowSize(ne[0]);
        for (int d = 1; d < ne.length; d++) {
            if (Math.multiplyHigh(bytes, ne[d]) != 0 || bytes * ne[d] < 0) {
                throw new GgufFormatException(path + ": " + tensor + " of type " + type + " and shape "
                        + Arrays.toString(ne) + " would take more bytes than a file can hold (the size overflows"
                        + " 64 bits): its dimensions are corrupt");
            }
            bytes *= ne[d];
        }
        return bytes;
    }

    /**
     * A key or tensor name for a message: quoted, control characters escaped (a corrupt name
     * must not drive the terminal), and cut after {@value #MAX_QUOTED} characters.
     */
    static String quoted(String s) {
        StringBuilder sb = new StringBuilder("'");
        int n = Math.min(s.length(), MAX_QUOTED);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
                sb.append(String.format("\\x%02x", (int) c));
            } else if (c == '\\' || Character.getType(c) == Character.LINE_SEPARATOR
                    || Character.getType(c) == Character.PARAGRAPH_SEPARATOR || Character.getType(c) == Character.FORMAT) {
                sb.append(c == '\\' ? "\\\\" : String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('\'');
        if (s.length() > n) {
            sb.append(" (cut; ").append(s.length()).append(" characters)");
        }
        return sb.toString();
    }

    /** Opens and validates a GGUF file. */
    public static GgufFile open(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "model file not found");
        }
        if (Files.isDirectory(path)) {
            throw new GgufFormatException(path + " is a directory, not a GGUF file");
        }
        if (!Files.isRegularFile(path)) {
            throw new GgufFormatException(path + " is not a regular file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new GgufFile(path, arena, seg);
        } catch (RuntimeException | IOException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Validates bytes already in memory as a GGUF file named {@code name} (in messages): the
     * reader without the file system, for tests that check many files (the fuzz test).
     */
    static GgufFile parse(Path name, byte[] bytes) {
        Arena arena = Arena.ofConfined();
        try {
            MemorySegment seg = arena.allocate(Math.max(1, bytes.length)).asSlice(0, bytes.length);
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            return new GgufFile(name, arena, seg);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    public long dataOffset() {
        return dataOffset;
    }

    public long fileSize() {
        return file.byteSize();
    }

    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public List<GgufTensorInfo> tensors() {
        return tensors;
    }

    public Optional<GgufTensorInfo> tensor(String name) {
        return Optional.ofNullable(tensorsByName.get(name));
    }

    /** The tensor's bytes, a slice of the mapping (valid until close). */
    public MemorySegment data(GgufTensorInfo info) {
        return file.asSlice(info.fileOffset(), info.bytes());
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    public String getString(String key) {
        return string(key, require(key));
    }

    public Optional<String> findString(String key) {
        return get(key).map(v -> string(key, v));
    }

    private String string(String key, GgufValue v) {
        if (v.type() != GgufType.STRING) {
            throw new GgufFormatException(path + ": metadata " + quoted(key) + " is " + v.type() + ", expected a string");
        }
        return v.asString();
    }

    public long getLong(String key) {
        GgufValue v = require(key);
        if (!v.type().isInteger()) {
            throw new GgufFormatException(path + ": metadata " + quoted(key) + " is " + v.type() + ", expected an integer");
        }
        return v.asLong();
    }

    public Optional<Long> findLong(String key) {
        return get(key).map(v -> {
            if (!v.type().isInteger()) {
                throw new GgufFormatException(path + ": metadata " + quoted(key) + " is " + v.type() + ", expected an integer");
            }
            return v.asLong();
        });
    }

    public Optional<Double> findDouble(String key) {
        return get(key).map(v -> {
            if (!v.type().isInteger() && v.type() != GgufType.FLOAT32 && v.type() != GgufType.FLOAT64) {
                throw new GgufFormatException(path + ": metadata " + quoted(key) + " is " + v.type() + ", expected a number");
            }
            return v.asDouble();
        });
    }

    public GgufValue require(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            throw new GgufFormatException(path + ": required metadata key " + quoted(key) + " is missing");
        }
        return v;
    }

    /** general.architecture, or an error saying the file does not declare one. */
    public String architecture() {
        return getString("general.architecture");
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /** Bounds-checked little-endian reader over the mapped file. */
    private static final class Reader {
        private final MemorySegment seg;
        private final Path path;
        private long pos;

        Reader(MemorySegment seg, Path path) {
            this.seg = seg;
            this.path = path;
        }

        long position() {
            return pos;
        }

        long remaining() {
            return seg.byteSize() - pos;
        }

        GgufFormatException error(String what) {
            return new GgufFormatException(path + " at byte " + pos + ": " + what);
        }

        private void need(long n, String what) {
            if (n < 0 || n > remaining()) {
                throw new GgufFormatException(path + " at byte " + pos + ": truncated while reading " + what
                        + " (need " + Long.toUnsignedString(n) + " bytes, " + remaining() + " left)");
            }
        }

        int u32(String what) {
            need(4, what);
            int v = seg.get(U32, pos);
            pos += 4;
            return v;
        }

        long u64(String what) {
            need(8, what);
            long v = seg.get(U64, pos);
            pos += 8;
            return v;
        }

        String string(String what) {
            long len = u64("length of " + what);
            need(len, what);
            byte[] bytes = new byte[(int) len];
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, (int) len);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                // Vocabulary tokens may hold partial UTF-8 sequences (byte tokens); keep them lossy.
                return new String(bytes, StandardCharsets.UTF_8);
            }
        }

        GgufValue value(GgufType type, String key) {
            if (type == GgufType.ARRAY) {
                int elemId = u32("array element type of " + quoted(key));
                GgufType elem = GgufType.of(elemId);
                if (elem == null || elem == GgufType.ARRAY) {
                    throw error("unsupported array element type " + Integer.toUnsignedString(elemId) + " for key "
                            + quoted(key));
                }
                long n = u64("array length of " + quoted(key));
                long minBytes = elem == GgufType.STRING ? 8 : elem.size;
                if (n < 0 || n > remaining() / minBytes) {
                    throw error("array " + quoted(key) + " claims " + Long.toUnsignedString(n)
                            + " elements, more than the file holds");
                }
                List<Object> list = new ArrayList<>((int) n);
                for (long i = 0; i < n; i++) {
                    list.add(scalar(elem, key));
                }
                return new GgufValue(GgufType.ARRAY, Collections.unmodifiableList(list), elem);
            }
            return new GgufValue(type, scalar(type, key), null);
        }

        Object scalar(GgufType type, String key) {
            String what = "value of " + quoted(key);
            if (type == GgufType.STRING) {
                return string(what);
            }
            need(type.size, what);
            Object v = switch (type) {
                case UINT8 -> (long) Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, pos));
                case INT8 -> (long) seg.get(ValueLayout.JAVA_BYTE, pos);
                case UINT16 -> (long) Short.toUnsignedInt(seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, pos));
                case INT16 -> (long) seg.get(ValueLayout.JAVA_SHORT_UNALIGNED, pos);
                case UINT32 -> Integer.toUnsignedLong(seg.get(U32, pos));
                case INT32 -> (long) seg.get(U32, pos);
                case UINT64, INT64 -> seg.get(U64, pos);
                case FLOAT32 -> (double) seg.get(ValueLayout.JAVA_FLOAT_UNALIGNED, pos);
                case FLOAT64 -> seg.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, pos);
                case BOOL -> {
                    byte b = seg.get(ValueLayout.JAVA_BYTE, pos);
                    if (b != 0 && b != 1) {
                        throw error("invalid bool " + b + " for " + quoted(key));
                    }
                    yield b == 1;
                }
                default -> throw error("unexpected type " + type);
            };
            pos += type.size;
            return v;
        }
    }
}
