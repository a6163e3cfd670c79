package org.rbench.llamacpp;

import java.util.OptionalLong;

/**
 * {@code GGML_CUDA_FA_GQA_MMA_KV=N}: in the suite's CUDA build, a decoded token's flash attention over an
 * unquantized cache with GQA and N or more KV rows runs ggml-cuda's tensor-core kernel, which reads each K/V row
 * once for all of a KV head's query heads, where stock ggml-cuda runs the vector kernel
 * (native/patches/ggml-cuda-fa-gqa-mma-decode.diff; a refresh's logits come from it too). Unset, stock's choice.
 *
 * <p>The kernel reads the variable once per process, so every row a run writes shares it, and rows name it
 * ({@code fa_tensor_core_from}). It makes full attention faster at long contexts (native/README.md), which changes
 * what every sparse method is compared with. A value the patch would silently ignore (not a whole
 * number) is refused here rather than measured as stock's choice.
 */
public final class TensorCoreDecode {
    /** The environment variable the patched ggml-cuda reads. */
    public static final String VARIABLE = "GGML_CUDA_FA_GQA_MMA_KV";

    private TensorCoreDecode() {
    }

    /**
     * The rows from which the tensor-core kernel runs, for the variable's {@code value}: empty for null or blank
     * (stock's choice, as the patch reads them).
     *
     * @throws IllegalArgumentException for anything but the digits of a whole number of rows
     */
    public static OptionalLong fromRows(String value) {
        if (value == null || value.isBlank()) {
            return OptionalLong.empty();
        }
        // digits alone: what the patch's strtoll reads whole and as this same number (it would read " 5" or "+5" too,
        // but ignore "5 "; refusing all three keeps the two readings equal)
        if (!value.matches("[0-9]{1,18}")) {
            throw new IllegalArgumentException(VARIABLE + "=" + value + ": give the number of KV rows from which a decoded"
                    + " token's flash attention runs the tensor-core kernel (a whole number, 0 for every decode), or unset"
                    + " it for stock ggml-cuda's choice");
        }
        return OptionalLong.of(Long.parseLong(value));
    }

    /** {@link #fromRows} of this process's environment. */
    public static OptionalLong fromEnvironment() {
        return fromRows(System.getenv(VARIABLE));
    }
}
