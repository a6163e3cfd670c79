package org.rbench.core.model;

import org.rbench.gguf.GgufTensorInfo;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.GgmlBackend;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.NativeLibraries;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The CPU backend's "extra" buffer types, which store weights in a layout its matrix
 * kernels read faster (on AVX2: Q4_0 and Q4_K interleaved 8x8). llama.cpp puts every
 * weight that only feeds matrix products into the first extra buffer type that supports
 * it; doing the same is needed both for its speed and for identical logits, since the
 * repacked kernels sum in a different order.
 *
 * <p>Whether a buffer type takes a tensor is asked the way llama.cpp's loader asks it:
 * a dummy mul_mat whose weight sits in an empty buffer of that type, passed to
 * ggml_backend_dev_supports_op. The two functions this needs are not in the native
 * module's bindings, so they are looked up here.
 */
final class CpuRepack {
    /** sizeof(void*) offset of ggml_tensor.buffer in the pinned release (see Tensor). */
    private static final long OFF_BUFFER = 8;
    private static final MethodHandle SUPPORTS_OP = NativeLibraries.load().function("ggml_backend_dev_supports_op",
            FunctionDescriptor.of(ValueLayout.JAVA_BOOLEAN, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle BUFT_ALLOC = NativeLibraries.load().function("ggml_backend_buft_alloc_buffer",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

    private CpuRepack() {
    }

    /** The backend's extra buffer types (empty for GPU backends and CPUs without repacked kernels). */
    static List<MemorySegment> extraBufferTypes(Backend backend) {
        List<MemorySegment> out = new ArrayList<>();
        if (!backend.isCpu()) {
            return out;
        }
        MemorySegment reg = GgmlBackend.ggml_backend_dev_backend_reg(backend.device());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fn = GgmlBackend.ggml_backend_reg_get_proc_address(reg, arena.allocateFrom("ggml_backend_dev_get_extra_bufts"));
            if (fn.equals(MemorySegment.NULL)) {
                return out;
            }
            MethodHandle get = NativeLibraries.functionAt(fn, FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MemorySegment list = ((MemorySegment) get.invokeExact(backend.device())).reinterpret(8L * 64);
            for (int i = 0; i < 64; i++) {
                MemorySegment buft = list.getAtIndex(ValueLayout.ADDRESS, i);
                if (buft.equals(MemorySegment.NULL)) {
                    break;
                }
                out.add(buft);
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
        return out;
    }

    /** Whether the backend can multiply with {@code weight} stored in a buffer of type {@code buft}. */
    static boolean supportsMatrixProduct(Backend backend, MemorySegment buft, GgufTensorInfo weight) {
        try (GgmlContext ctx = GgmlContext.forMetadata(4, 0)) {
            Tensor w = ctx.newTensor(weight.type(), weight.ne());
            Tensor b = ctx.newTensor(GgmlType.F32, weight.ne(0), 512);
            Tensor op = ctx.mulMat(w, b);
            MemorySegment dummy = (MemorySegment) BUFT_ALLOC.invokeExact(buft, 0L);
            if (dummy.equals(MemorySegment.NULL)) {
                return false;
            }
            try {
                w.address().set(ValueLayout.ADDRESS, OFF_BUFFER, dummy);
                return (boolean) SUPPORTS_OP.invokeExact(backend.device(), op.address());
            } finally {
                w.address().set(ValueLayout.ADDRESS, OFF_BUFFER, MemorySegment.NULL);
                GgmlBackend.ggml_backend_buffer_free(dummy);
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }
}
