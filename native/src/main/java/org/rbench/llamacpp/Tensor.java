package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A read-only view of a native {@code struct ggml_tensor}. ggml has no accessors for the
 * shape, strides or type, so they are read from the struct at the offsets below, which
 * {@link LayoutCheck} verifies against the loaded library. Data moves through
 * ggml_backend_tensor_set/get, with bounds checked here first.
 */
public final class Tensor {
    /** sizeof(struct ggml_tensor) in the pinned release. */
    public static final long SIZE = 336;
    static final long OFF_TYPE = 0;
    static final long OFF_BUFFER = 8;
    static final long OFF_NE = 16;
    static final long OFF_NB = 48;
    static final long OFF_OP = 80;
    static final long OFF_FLAGS = 148;
    static final long OFF_SRC = 152;
    /** GGML_MAX_SRC: the sources an op may have (the source pointers between OFF_SRC and OFF_VIEW_SRC). */
    public static final int MAX_SOURCES = 10;
    static final long OFF_VIEW_SRC = 232;
    static final long OFF_VIEW_OFFS = 240;
    static final long OFF_DATA = 248;
    static final long OFF_NAME = 256;
    static final int MAX_NAME = 64;

    private final MemorySegment struct;
    /**
     * The context whose pool holds this struct (null when not known: a pointer from a raw call).
     * Once it is closed, the struct and the memory a graph allocator gave the tensor may be gone,
     * and a copy through them could crash the process: data transfers check it first.
     */
    private final GgmlContext owner;

    Tensor(MemorySegment pointer) {
        this(pointer, null);
    }

    Tensor(MemorySegment pointer, GgmlContext owner) {
        if (pointer == null || pointer.equals(MemorySegment.NULL)) {
            throw new NativeCallException("ggml returned a NULL tensor." + NativeLog.tail(3));
        }
        this.struct = pointer.reinterpret(SIZE);
        this.owner = owner;
    }

    /** Wraps a tensor pointer obtained from a raw call. */
    public static Tensor of(MemorySegment pointer) {
        return new Tensor(pointer);
    }

    public MemorySegment address() {
        return struct;
    }

    public GgmlType type() {
        return GgmlType.of(struct.get(ValueLayout.JAVA_INT, OFF_TYPE));
    }

    public long ne(int dim) {
        return struct.get(ValueLayout.JAVA_LONG, OFF_NE + 8L * dim);
    }

    public long nb(int dim) {
        return struct.get(ValueLayout.JAVA_LONG, OFF_NB + 8L * dim);
    }

    /**
     * Rewrites this tensor's element type and the size of dim 0 to {@code ne0} (its row keeps
     * its bytes; nb[0] becomes the new element size). Only for a view made for it:
     * {@link GgmlContext#bitcast}.
     */
    void retype(GgmlType type, long ne0) {
        struct.set(ValueLayout.JAVA_INT, OFF_TYPE, type.id);
        struct.set(ValueLayout.JAVA_LONG, OFF_NE, ne0);
        struct.set(ValueLayout.JAVA_LONG, OFF_NB, type.typeSize);
    }

    public long[] shape() {
        return new long[] {ne(0), ne(1), ne(2), ne(3)};
    }

    public long elements() {
        return ne(0) * ne(1) * ne(2) * ne(3);
    }

    /** Bytes spanned by the tensor (ggml_nbytes semantics for any strides). */
    public long bytes() {
        GgmlType t = type();
        long n = t.rowSize(ne(0));
        if (t.blockSize == 1) {
            n = t.typeSize;
            for (int i = 0; i < 4; i++) {
                n += (ne(i) - 1) * nb(i);
            }
            return n;
        }
        for (int i = 1; i < 4; i++) {
            n += (ne(i) - 1) * nb(i);
        }
        return n;
    }

    public boolean isContiguous() {
        GgmlType t = type();
        long expected = t.typeSize;
        if (nb(0) != expected) {
            return false;
        }
        expected = t.rowSize(ne(0));
        for (int i = 1; i < 4; i++) {
            if (ne(i) != 1 && nb(i) != expected) {
                return false;
            }
            expected *= ne(i);
        }
        return true;
    }

    /**
     * ggml_is_contiguous_n(n), step for step: packed in every dimension above {@code n} from the
     * end of dimension n (the dimensions 1 to n may be strided; above n a dimension of 1 never
     * breaks it).
     */
    public boolean isContiguousAbove(int n) {
        GgmlType t = type();
        long next = t.typeSize;
        if (ne(0) != t.blockSize && nb(0) != next) {
            return false;
        }
        next *= ne(0) / t.blockSize;
        for (int i = 1; i < 4; i++) {
            if (i > n) {
                if (ne(i) != 1 && nb(i) != next) {
                    return false;
                }
                next *= ne(i);
            } else {
                next = ne(i) * nb(i);
            }
        }
        return true;
    }

    /** Source {@code i} of this op (ggml_tensor.src[i]), or null. */
    public Tensor source(int i) {
        java.util.Objects.checkIndex(i, MAX_SOURCES);
        MemorySegment src = struct.get(ValueLayout.ADDRESS, OFF_SRC + 8L * i);
        return src.equals(MemorySegment.NULL) ? null : new Tensor(src);
    }

    /** Sets source {@code i} of this op (null clears it): for an op whose backend reads a source ggml's builder does not set. */
    void setSource(int i, Tensor t) {
        java.util.Objects.checkIndex(i, MAX_SOURCES);
        struct.set(ValueLayout.ADDRESS, OFF_SRC + 8L * i, t == null ? MemorySegment.NULL : t.address());
    }

    /** The tensor a view's data belongs to (ggml keeps the root, not the chain), or null for a tensor that is no view. */
    public Tensor viewSource() {
        MemorySegment src = struct.get(ValueLayout.ADDRESS, OFF_VIEW_SRC);
        // the source usually lives in a longer-lived context than the view (a cache): its owner is not known here
        return src.equals(MemorySegment.NULL) ? null : new Tensor(src);
    }

    /** A view's byte offset into {@link #viewSource()} (0 for a tensor that is no view). */
    public long viewOffset() {
        return struct.get(ValueLayout.JAVA_LONG, OFF_VIEW_OFFS);
    }

    public boolean isTransposed() {
        return nb(0) > nb(1);
    }

    public boolean hasBuffer() {
        return !buffer().equals(MemorySegment.NULL);
    }

    /** The backend buffer holding the tensor's data (NULL when none). */
    MemorySegment buffer() {
        return struct.get(ValueLayout.ADDRESS, OFF_BUFFER);
    }

    /** Whether the tensor's memory (a view's: its source's) is in a buffer of type {@code bufferType}. */
    boolean inBufferOfType(MemorySegment bufferType) {
        Tensor owner = viewSource() != null ? viewSource() : this;
        MemorySegment buf = owner.buffer();
        return !buf.equals(MemorySegment.NULL) && GgmlBackend.ggml_backend_buffer_get_type(buf).equals(bufferType);
    }

    public MemorySegment data() {
        return struct.get(ValueLayout.ADDRESS, OFF_DATA);
    }

    public String name() {
        return struct.asSlice(OFF_NAME, MAX_NAME).getString(0);
    }

    /** The operation that computes this tensor, by ggml's name for it ("NONE" for a leaf, "ROPE", "SET_ROWS" ...). */
    public String opName() {
        return Ggml.ggml_op_name(struct.get(ValueLayout.JAVA_INT, OFF_OP)).reinterpret(64).getString(0);
    }

    public Tensor name(String name) {
        byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length >= MAX_NAME) {
            throw new IllegalArgumentException("Tensor name longer than " + (MAX_NAME - 1) + " bytes: " + name);
        }
        try (Arena arena = Arena.ofConfined()) {
            Ggml.ggml_set_name(struct, arena.allocateFrom(name));
        }
        return this;
    }

    /** Marks the tensor as a graph input (its data is set before each compute). */
    public Tensor input() {
        Ggml.ggml_set_input(struct);
        return this;
    }

    /** Marks the tensor as a graph output (the allocator must not reuse its memory). */
    public Tensor output() {
        Ggml.ggml_set_output(struct);
        return this;
    }

    /** GGML_TENSOR_FLAG_OUTPUT (ggml.h): set by {@link #output}. */
    private static final int FLAG_OUTPUT = 2;

    /** Whether the tensor is marked as a graph output ({@link #output}). */
    public boolean isOutput() {
        return (struct.get(ValueLayout.JAVA_INT, OFF_FLAGS) & FLAG_OUTPUT) != 0;
    }

    // ---- data transfer (backend tensors) ----

    /**
     * Copies {@code src} into the tensor at byte {@code offset}; inside a {@link QueuedUploads#run}
     * the copy is queued on the GPU backend's stream instead (src may be reused at once either way).
     */
    public void write(MemorySegment src, long offset) {
        checkRange(offset, src.byteSize());
        QueuedUploads queued = QueuedUploads.active();
        if (queued != null && queued.write(this, src, offset)) {
            return;
        }
        GgmlBackend.ggml_backend_tensor_set(struct, src, offset, src.byteSize());
    }

    /** Copies bytes of the tensor from byte {@code offset} into {@code dst}. */
    public void read(MemorySegment dst, long offset) {
        checkRange(offset, dst.byteSize());
        GgmlBackend.ggml_backend_tensor_get(struct, dst, offset, dst.byteSize());
    }

    public void setFloats(float[] values) {
        requireAlive();
        requireType(GgmlType.F32);
        requireLength(values.length);
        // through the thread's staging buffer (pinned on a GPU): no allocation, no zero-filling,
        // and a DMA upload; ggml_backend_tensor_set has copied it all when it returns
        MemorySegment seg = HostScratch.take(4L * values.length);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
        write(seg, 0);
    }

    public void setInts(int[] values) {
        requireAlive();
        requireType(GgmlType.I32);
        requireLength(values.length);
        MemorySegment seg = HostScratch.take(4L * values.length); // see setFloats
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_INT, 0, values.length);
        write(seg, 0);
    }

    /** Sets every element of an I32 tensor to {@code value}. */
    public void fillInts(int value) {
        requireAlive();
        requireType(GgmlType.I32);
        long n = elements();
        MemorySegment seg = HostScratch.take(4L * n); // see setFloats
        for (long i = 0; i < n; i++) {
            seg.setAtIndex(ValueLayout.JAVA_INT, i, value);
        }
        write(seg, 0);
    }

    /** Sets every element to the row index {@code value}, checked as {@link #setIndices} checks each. */
    public void fillIndex(int value, long bound) {
        requireIndex(value, bound, -1);
        fillInts(value);
    }

    /**
     * Sets row indices for get_rows / set_rows, checking each lies in [0, bound): an
     * out-of-range index would trip an assert inside the kernel and abort the process.
     */
    public void setIndices(int[] values, long bound) {
        requireAlive();
        for (int i = 0; i < values.length; i++) {
            requireIndex(values[i], bound, i);
        }
        setInts(values);
    }

    /** An index outside [0, bound) would trip a kernel's assert: refused here ({@code at}: its place, -1 for none). */
    private void requireIndex(int value, long bound, int at) {
        if (value < 0 || value >= bound) {
            throw new IndexOutOfBoundsException("Row index " + value + (at >= 0 ? " at " + at : "") + " is outside [0, "
                    + bound + ") for tensor '" + name() + "'");
        }
    }

    /** F16 data from floats (converted in Java). */
    public void setHalfs(float[] values) {
        requireAlive();
        requireType(GgmlType.F16);
        requireLength(values.length);
        MemorySegment seg = HostScratch.take(2L * values.length); // see setFloats
        for (int i = 0; i < values.length; i++) {
            seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(values[i]));
        }
        write(seg, 0);
    }

    /** All elements as floats (F32, F16 or I32 tensors; contiguous). */
    public float[] getFloats() {
        requireAlive();
        requireContiguous();
        GgmlType t = type();
        int n = Math.toIntExact(elements());
        float[] out = new float[n];
        MemorySegment seg = HostScratch.take((long) n * t.typeSize);
        read(seg, 0);
        switch (t) {
            case F32 -> MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, out, 0, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.float16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT, i));
                }
            }
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = seg.getAtIndex(ValueLayout.JAVA_INT, i);
                }
            }
            default -> throw new IllegalArgumentException("getFloats on a " + t + " tensor");
        }
        return out;
    }

    public int[] getInts() {
        requireAlive();
        requireType(GgmlType.I32);
        requireContiguous();
        int n = Math.toIntExact(elements());
        int[] out = new int[n];
        MemorySegment seg = HostScratch.take(4L * n);
        read(seg, 0);
        MemorySegment.copy(seg, ValueLayout.JAVA_INT, 0, out, 0, n);
        return out;
    }

    /** Whether the context that made this tensor is still open (true when that context is not known). */
    public boolean alive() {
        return owner == null || !owner.isClosed();
    }

    private void requireAlive() {
        if (!alive()) {
            // the struct itself is in the freed pool: nothing of it (not even its name) is read
            throw new IllegalStateException("a tensor of a closed ggml context was read or written: its memory is gone"
                    + " (read a graph's outputs before the graph and its allocator are closed)");
        }
    }

    /** Checks that {@code size} bytes from the start may be read (an async copy's caller checks before queuing it). */
    void requireReadable(long size) {
        checkRange(0, size);
    }

    private void checkRange(long offset, long size) {
        requireAlive();
        if (!hasBuffer() && data().equals(MemorySegment.NULL)) {
            throw new IllegalStateException("Tensor '" + name() + "' has no memory yet: allocate its context"
                    + " on a backend (or the graph) before reading or writing it.");
        }
        long total = bytes();
        if (offset < 0 || size < 0 || offset + size > total) {
            throw new IndexOutOfBoundsException("Access of " + size + " bytes at offset " + offset
                    + " is outside tensor '" + name() + "' of " + total + " bytes");
        }
    }

    private void requireType(GgmlType expected) {
        if (type() != expected) {
            throw new IllegalArgumentException("Tensor '" + name() + "' is " + type() + ", not " + expected);
        }
    }

    private void requireLength(int n) {
        if (n != elements()) {
            throw new IllegalArgumentException("Tensor '" + name() + "' " + Arrays.toString(shape()) + " has "
                    + elements() + " elements, got " + n + " values");
        }
    }

    private void requireContiguous() {
        if (!isContiguous()) {
            throw new IllegalArgumentException("Tensor '" + name() + "' is not contiguous");
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + name() + " " + type() + " " + Arrays.toString(shape()) + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && t.struct.address() == struct.address();
    }

    @Override
    public int hashCode() {
        return Long.hashCode(struct.address());
    }
}
