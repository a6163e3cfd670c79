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
 * <p>The settings are ggml's defaults ({@code ggml_threadpool_params_init}, llama-bench's:
 * normal priority, no CPU mask, not strict, polling level 50: workers spin a while after a graph
 * before they sleep, so the next step finds them awake). Two pools in one process (the engine's
 * and stock llama_decode's, taking turns in {@code bench}) would spin against each other, so
 * each is paused when its decode ends ({@link #pause}). On this project's 2-core machine at 2
 * threads, 5 alternating rounds of {@code bench} at 2K (docs/results/2026-12-04-two-threads-cpu.md)
 * gave the engine 0.56-0.82x of llama-bench this way against 0.57-0.64x with polling level 0 and
 * no pausing, and stock llama_decode 0.62-0.79x against 0.60-0.66x. The functions are the CPU
 * backend's, found through its registry as llama.cpp finds them (the CPU backend may be a library
 * loaded at run time).
 */
public final class CpuThreadpool implements AutoCloseable {
    /**
     * Bytes reserved for {@code struct ggml_threadpool_params}: a bool per possible thread
     * (GGML_MAX_N_THREADS, 512 in the pinned ggml.h), then three 4-byte fields (threads, priority, poll) and two bools, 528
     * bytes; the rest is a margin, the struct is only ever filled and read by ggml.
     */
    private static final long PARAMS_BYTES = 1024;
    /** Offsets in {@code struct ggml_threadpool_params}: after the 512-bool CPU mask, n_threads, prio, poll. */
    static final long N_THREADS_OFFSET = 512;
    static final long POLL_OFFSET = 520;
    /** ggml's polling level for our pools (0: no polling, 100: aggressive), ggml's and llama-bench's default. */
    public static final int POLL = 50;

    /**
     * A CPU backend kept for {@link #pause} alone: ggml pauses the pool a CPU backend switches
     * away from (ggml_backend_cpu_set_threadpool), and ggml_threadpool_pause itself is not among
     * the functions the CPU backend's registry offers.
     */
    private static Backend pauser;

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
        return create(threads, POLL);
    }

    /** A pool of {@code threads} threads that poll at level {@code poll} (0-100) between graphs. */
    public static CpuThreadpool create(int threads, int poll) {
        if (poll < 0 || poll > 100) {
            throw new IllegalArgumentException("polling level must be 0-100: " + poll);
        }
        if (threads <= 0) {
            throw new IllegalArgumentException("threads must be positive: " + threads);
        }
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle create = cpuFunction("ggml_threadpool_new", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MethodHandle free = cpuFunction("ggml_threadpool_free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            MemorySegment params = params(arena, threads, poll);
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

    /**
     * ggml's default parameters for {@code threads} threads with the polling level set. The
     * offsets are checked against what ggml's initialiser wrote (n_threads, and its default
     * poll of 50), so a layout that moved fails here rather than misconfiguring the pool.
     */
    static MemorySegment params(Arena arena, int threads, int poll) {
        MemorySegment params = arena.allocate(PARAMS_BYTES, 8);
        Ggml.ggml_threadpool_params_init(params, threads);
        int seenThreads = params.get(ValueLayout.JAVA_INT, N_THREADS_OFFSET);
        int seenPoll = params.get(ValueLayout.JAVA_INT, POLL_OFFSET);
        if (seenThreads != threads || seenPoll != 50) {
            throw new NativeCallException("struct ggml_threadpool_params is not laid out as expected (n_threads "
                    + seenThreads + " for " + threads + ", poll " + seenPoll + " for ggml's default 50)");
        }
        params.set(ValueLayout.JAVA_INT, POLL_OFFSET, poll);
        return params;
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
        setThreadpool(cpuBackend.address(), address());
    }

    /**
     * Puts the workers to sleep now rather than after their polling time: a pool whose user is
     * done with it for a while (a decode that ended) stops taking a core from the next user,
     * another pool of the process included. The next graph computed on it wakes it (ggml's
     * kickoff resumes a paused pool).
     */
    public void pause() {
        synchronized (CpuThreadpool.class) {
            if (pauser == null) {
                pauser = Backends.open("cpu", 1);
            }
            setThreadpool(pauser.address(), address());
            setThreadpool(pauser.address(), MemorySegment.NULL); // switching away pauses it
        }
    }

    /** ggml_backend_cpu_set_threadpool, looked up once (a decode's end pauses a pool through it). */
    private static final class SetThreadpool {
        static final MethodHandle HANDLE = cpuFunction("ggml_backend_cpu_set_threadpool",
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    }

    private static void setThreadpool(MemorySegment cpuBackend, MemorySegment pool) {
        try {
            SetThreadpool.HANDLE.invokeExact(cpuBackend, pool);
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
