package org.rbench.gguf;

import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;

/** A tensor's entry in a GGUF file: name, type, shape (ne, innermost first), data offset. */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long fileOffset, long bytes) {
    public int dims() {
        return ne.length;
    }

    public long ne(int i) {
        return i < ne.length ? ne[i] : 1;
    }

    public long elements() {
        long n = 1;
        for (long x : ne) {
            n *= x;
        }
        return n;
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(ne);
    }
}
