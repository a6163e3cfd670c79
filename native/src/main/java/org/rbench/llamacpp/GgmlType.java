package org.rbench.llamacpp;

import java.util.Arrays;

/**
 * ggml tensor types of the pinned release, with their block geometry. The geometry is
 * kept in Java so that GGUF files can be validated without calling into native code;
 * {@link LayoutCheck} compares it with ggml_blck_size / ggml_type_size at start-up.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24),
    Q8_0(8, 32, 34), Q8_1(9, 32, 36), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144),
    Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292), IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98), IQ1_S(19, 256, 50), IQ4_NL(20, 32, 18), IQ3_S(21, 256, 110), IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136), I8(24, 1, 1), I16(25, 1, 2), I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8),
    IQ1_M(29, 256, 56), BF16(30, 1, 2), TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17);

    public final int id;
    public final int blockSize;
    public final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    /** The type with this ggml id, or an exception naming the id. */
    public static GgmlType of(int id) {
        GgmlType t = id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
        if (t == null) {
            throw new IllegalArgumentException("Unknown ggml tensor type id " + id
                    + " (known: " + Arrays.toString(values()) + ")");
        }
        return t;
    }

    public boolean isQuantized() {
        return blockSize > 1 || this == MXFP4;
    }

    /** Bytes of a row of {@code n} elements; {@code n} must be a multiple of the block size. */
    public long rowSize(long n) {
        if (n % blockSize != 0) {
            throw new IllegalArgumentException("A row of " + n + " elements is not a multiple of the "
                    + name() + " block size " + blockSize);
        }
        return n / blockSize * typeSize;
    }
}
