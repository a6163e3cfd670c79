package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * A ggml CPU threadpool that lives as long as its owner: the worker threads are made once and
 * wait between graphs (polling for a while, then asleep), as llama-bench runs them. Without one,
 * ggml's CPU backend makes a disposable pool for every graph it computes, starting and joining
 * its worker threads each time: a cost of every decode step that llama-bench does not pay.
 *
 * <p>The settings are ggml's defaults ({@code ggml_threadpool_params_init}), which are
 * llama-bench's: polling level 50, normal priority, no CPU mask, not strict. The functions are
 * the CPU backend's, found through its registry as llama.cpp finds them (the CPU backend may be
 * a library loaded at run time).
 */
public final class CpuThreadpool implements AutoCloseable {
    /**
     * Bytes reserved for {@code struct ggml_threadpool_params}: a bool per possible thread
     * (GGML_MAX_N_THREADS, 512 in the pinned ggml.h), then three 4-byte fields (threads, priority, poll) and two bools, 528
     * bytes; the rest is a margin, the struct is only ever filled and read by ggml.
     */
    private static final long PARAMS_BYTES = 1024;

    private final int threads;
    private final MethodHandle free;
    private MemorySegment pool;

    private CpuThreadpool(int threads, MemorySegment pool, MethodHandle free) {
        this.threads = threads;
        this.pool = pool;
        this.free = free;
    }

    /**
     * A pool of {@code threads} threads (the caller's thread counts as one of them).
     *
     * @throws NativeCallException when this build has no CPU backend with threadpools or ggml refuses
     */
    public static CpuThreadpool create(int threads) {
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle create = cpuFunction("ggml_threadpool_new", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MethodHandle free = cpuFunction("ggml_threadpool_free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            MemorySegment params = arena.allocate(PARAMS_BYTES, 8);
            Ggml.ggml_threadpool_params_init(params, threads);
            MemorySegment pool = (MemorySegment) create.invokeExact(params);
            if (pool.equals(MemorySegment.NULL)) {
                throw new NativeCallException("ggml_threadpool_new failed for " + threads + " threads." + NativeLog.tail(3));
            }
            return new CpuThreadpool(threads, pool, free);
        } catch (NativeCallException e) {
            throw e;
        } catch (Throwable t) {
            throw Bindings.rethrow(t);
        }
    }

    public int threads() {
        return threads;
    }

    public MemorySegment address() {
        if (pool == null) {
            throw new IllegalStateException("threadpool is closed");
        }
        return pool;
    }

    /** Makes the CPU backend {@code cpuBackend} compute its graphs on this pool. */
    public void attachTo(Backend cpuBackend) {
        MethodHandle set = cpuFunction("ggml_backend_cpu_set_threadpool",
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        try {
            set.invokeExact(cpuBackend.address(), address());
        } catch (Throwable t) {
            throw Bindings.rethrow(t);
        }
    }

    /** Frees the pool; whatever computed on it must not compute again (free it after its backend or context). */
    @Override
    public void close() {
        if (pool != null) {
            try {
                free.invokeExact(pool);
            } catch (Throwable t) {
                throw Bindings.rethrow(t);
            } finally {
                pool = null;
            }
        }
    }

    /** A function of the CPU backend's registry ({@code ggml_backend_reg_get_proc_address}). */
    private static MethodHandle cpuFunction(String name, FunctionDescriptor descriptor) {
        MemorySegment reg = cpuRegistry();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fn = GgmlBackend.ggml_backend_reg_get_proc_address(reg, arena.allocateFrom(name));
            if (fn.equals(MemorySegment.NULL)) {
                throw new NativeCallException("the CPU backend of this llama.cpp build has no " + name);
            }
            return NativeLibraries.functionAt(fn, descriptor);
        }
    }

    private static MemorySegment cpuRegistry() {
        long n = GgmlBackend.ggml_backend_reg_count();
        for (long i = 0; i < n; i++) {
            MemorySegment reg = GgmlBackend.ggml_backend_reg_get(i);
            if (Bindings.string(GgmlBackend.ggml_backend_reg_name(reg)).equalsIgnoreCase("CPU")) {
                return reg;
            }
        }
        throw new NativeCallException("this llama.cpp build has no CPU backend");
    }
}
