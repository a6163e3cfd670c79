package org.rbench.llamacpp;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The by-value structs of llama.h for the pinned release (x86-64 / arm64 LP64 layout):
 * {@code llama_model_params} (80 bytes), {@code llama_context_params} (160 bytes) and
 * {@code llama_batch} (56 bytes). {@link LayoutCheck} verifies them against the loaded
 * library's defaults at start-up.
 */
public final class LlamaParams {
    private LlamaParams() {
    }

    public static final StructLayout MODEL_PARAMS = MemoryLayout.structLayout(
            ADDRESS.withName("devices"),
            ADDRESS.withName("tensor_buft_overrides"),
            JAVA_INT.withName("n_gpu_layers"),
            JAVA_INT.withName("split_mode"),
            JAVA_INT.withName("load_mode"),
            JAVA_INT.withName("lazy_mode"),
            JAVA_INT.withName("main_gpu"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("tensor_split"),
            ADDRESS.withName("progress_callback"),
            ADDRESS.withName("progress_callback_user_data"),
            ADDRESS.withName("kv_overrides"),
            JAVA_BOOLEAN.withName("vocab_only"),
            JAVA_BOOLEAN.withName("check_tensors"),
            JAVA_BOOLEAN.withName("use_extra_bufts"),
            JAVA_BOOLEAN.withName("no_host"),
            JAVA_BOOLEAN.withName("no_alloc"),
            JAVA_BOOLEAN.withName("load_mtp"),
            MemoryLayout.paddingLayout(2));

    // llama_model_params field offsets
    public static final long MP_N_GPU_LAYERS = 16;
    public static final long MP_VOCAB_ONLY = 72;
    public static final long MP_CHECK_TENSORS = 73;
    public static final long MP_USE_EXTRA_BUFTS = 74;

    public static final StructLayout CONTEXT_PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("n_ctx"),
            JAVA_INT.withName("n_batch"),
            JAVA_INT.withName("n_ubatch"),
            JAVA_INT.withName("n_seq_max"),
            JAVA_INT.withName("n_rs_seq"),
            JAVA_INT.withName("n_outputs_max"),
            JAVA_INT.withName("n_outputs_max_per_seq"),
            JAVA_INT.withName("n_threads"),
            JAVA_INT.withName("n_threads_batch"),
            JAVA_INT.withName("ctx_type"),
            JAVA_INT.withName("rope_scaling_type"),
            JAVA_INT.withName("pooling_type"),
            JAVA_INT.withName("attention_type"),
            JAVA_INT.withName("flash_attn_type"),
            JAVA_FLOAT.withName("rope_freq_base"),
            JAVA_FLOAT.withName("rope_freq_scale"),
            JAVA_FLOAT.withName("yarn_ext_factor"),
            JAVA_FLOAT.withName("yarn_attn_factor"),
            JAVA_FLOAT.withName("yarn_beta_fast"),
            JAVA_FLOAT.withName("yarn_beta_slow"),
            JAVA_INT.withName("yarn_orig_ctx"),
            JAVA_FLOAT.withName("defrag_thold"),
            ADDRESS.withName("cb_eval"),
            ADDRESS.withName("cb_eval_user_data"),
            JAVA_INT.withName("type_k"),
            JAVA_INT.withName("type_v"),
            ADDRESS.withName("abort_callback"),
            ADDRESS.withName("abort_callback_data"),
            JAVA_BOOLEAN.withName("embeddings"),
            JAVA_BOOLEAN.withName("offload_kqv"),
            JAVA_BOOLEAN.withName("no_perf"),
            JAVA_BOOLEAN.withName("op_offload"),
            JAVA_BOOLEAN.withName("swa_full"),
            JAVA_BOOLEAN.withName("kv_unified"),
            MemoryLayout.paddingLayout(2),
            ADDRESS.withName("samplers"),
            JAVA_LONG.withName("n_samplers"),
            ADDRESS.withName("ctx_other"));

    // llama_context_params field offsets
    public static final long CP_N_CTX = 0;
    public static final long CP_N_BATCH = 4;
    public static final long CP_N_UBATCH = 8;
    public static final long CP_N_SEQ_MAX = 12;
    public static final long CP_N_THREADS = 28;
    public static final long CP_N_THREADS_BATCH = 32;
    public static final long CP_FLASH_ATTN_TYPE = 52;
    public static final long CP_TYPE_K = 104;
    public static final long CP_TYPE_V = 108;
    public static final long CP_EMBEDDINGS = 128;
    public static final long CP_OFFLOAD_KQV = 129;
    public static final long CP_NO_PERF = 130;

    public static final StructLayout BATCH = MemoryLayout.structLayout(
            JAVA_INT.withName("n_tokens"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("token"),
            ADDRESS.withName("embd"),
            ADDRESS.withName("pos"),
            ADDRESS.withName("n_seq_id"),
            ADDRESS.withName("seq_id"),
            ADDRESS.withName("logits"));

    private static final NativeLibraries LIBS = NativeLibraries.load();
    private static final MethodHandle MODEL_DEFAULTS = LIBS.function("llama_model_default_params",
            FunctionDescriptor.of(MODEL_PARAMS));
    private static final MethodHandle CONTEXT_DEFAULTS = LIBS.function("llama_context_default_params",
            FunctionDescriptor.of(CONTEXT_PARAMS));

    /** llama_model_default_params(), written into memory from the allocator. */
    public static MemorySegment modelDefaults(SegmentAllocator allocator) {
        try {
            return (MemorySegment) MODEL_DEFAULTS.invokeExact(allocator);
        } catch (Throwable t) {
            throw Bindings.rethrow(t);
        }
    }

    /** llama_context_default_params(), written into memory from the allocator. */
    public static MemorySegment contextDefaults(SegmentAllocator allocator) {
        try {
            return (MemorySegment) CONTEXT_DEFAULTS.invokeExact(allocator);
        } catch (Throwable t) {
            throw Bindings.rethrow(t);
        }
    }
}
