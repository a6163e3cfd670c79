package org.rbench.core.model;

import org.rbench.llamacpp.GgmlContext;

/** How RoPE pairs the dimensions of a head (ggml's rope mode). */
public enum RopeType {
    /** Adjacent pairs (x0, x1), (x2, x3), ...: Llama. */
    NORMAL(GgmlContext.ROPE_NORMAL),
    /** First half with second half (x0, x_{d/2}), ...: GPT-NeoX, Qwen. */
    NEOX(GgmlContext.ROPE_NEOX);

    public final int ggmlMode;

    RopeType(int ggmlMode) {
        this.ggmlMode = ggmlMode;
    }
}
