package org.rbench.core.model;

import java.util.Arrays;
import java.util.Locale;

/**
 * The transformer families the engine builds graphs for. Mistral 7B is published in GGUF
 * as architecture {@code llama}, so it needs no entry of its own.
 */
public enum Architecture {
    /** Llama 2 and 3.x (Llama 3 RoPE scaling comes as a rope_freqs tensor), Mistral. */
    LLAMA("llama", RopeType.NORMAL, false),
    /** Qwen 2 / 2.5: biases on the Q, K and V projections, NEOX RoPE. */
    QWEN2("qwen2", RopeType.NEOX, false),
    /** Qwen 3: RMS norm of each query and key head before RoPE, NEOX RoPE. */
    QWEN3("qwen3", RopeType.NEOX, true);

    /** The value of general.architecture. */
    public final String ggufName;
    public final RopeType ropeType;
    /** Whether the architecture needs attn_q_norm / attn_k_norm tensors. */
    public final boolean queryKeyNorm;

    Architecture(String ggufName, RopeType ropeType, boolean queryKeyNorm) {
        this.ggufName = ggufName;
        this.ropeType = ropeType;
        this.queryKeyNorm = queryKeyNorm;
    }

    /** The architecture named by general.architecture, or a clear error listing the supported ones. */
    public static Architecture fromGguf(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        for (Architecture a : values()) {
            if (a.ggufName.equals(n)) {
                return a;
            }
        }
        throw new UnsupportedModelException("unsupported model architecture '" + name + "': the engine supports "
                + Arrays.stream(values()).map(a -> a.ggufName).toList()
                + " (Mistral GGUFs use 'llama')");
    }
}
