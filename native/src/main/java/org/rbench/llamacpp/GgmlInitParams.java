package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@code struct ggml_init_params { size_t mem_size; void * mem_buffer; bool no_alloc; }},
 * passed by value to {@code ggml_init}.
 */
public final class GgmlInitParams {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("mem_size"),
            ADDRESS.withName("mem_buffer"),
            JAVA_BOOLEAN.withName("no_alloc"),
            MemoryLayout.paddingLayout(7));

    private static final MethodHandle GGML_INIT = NativeLibraries.load()
            .function("ggml_init", FunctionDescriptor.of(ADDRESS, LAYOUT));

    private GgmlInitParams() {
    }

    /** ggml_init; returns NULL when the memory pool cannot be allocated. */
    public static MemorySegment ggml_init(long memSize, MemorySegment memBuffer, boolean noAlloc) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(LAYOUT);
            params.set(JAVA_LONG, 0, memSize);
            params.set(ADDRESS, 8, memBuffer);
            params.set(JAVA_BOOLEAN, 16, noAlloc);
            return (MemorySegment) GGML_INIT.invokeExact(params);
        } catch (Throwable t) {
            throw Bindings.rethrow(t);
        }
    }
}
