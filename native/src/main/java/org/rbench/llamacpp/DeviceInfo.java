package org.rbench.llamacpp;

/** One ggml backend device: its registry (cpu, cuda, metal...), name, description, memory. */
public record DeviceInfo(String registry, String name, String description, Kind kind, long freeBytes, long totalBytes) {
    public enum Kind { CPU, GPU, IGPU, ACCEL, META, UNKNOWN }

    static Kind kindOf(int type) {
        Kind[] kinds = Kind.values();
        return type >= 0 && type < kinds.length - 1 ? kinds[type] : Kind.UNKNOWN;
    }
}
