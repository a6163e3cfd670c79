package org.rbench.llamacpp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Start-up self-check that the struct layouts these bindings assume match the loaded
 * library: the ggml_tensor field offsets (read through a tensor ggml made), each
 * {@link GgmlType}'s block geometry, and the size and defaults of the by-value llama.h
 * structs. Struct sizes are measured, not assumed: the by-value returns are written into
 * a larger buffer filled with a canary pattern, and any byte written past the size the
 * bindings expect is a mismatch.
 */
public final class LayoutCheck {
    private static final int SLACK = 512;
    private static final byte CANARY = (byte) 0xA5;

    private LayoutCheck() {
    }

    public record Result(List<String> passed, List<String> failed) {
        public boolean ok() {
            return failed.isEmpty();
        }

        public String summary() {
            return ok() ? "OK (" + passed.size() + " checks)" : "FAILED: " + String.join("; ", failed);
        }
    }

    /** Runs all checks; never throws for a mismatch (see {@link #verify()}). */
    public static Result run() {
        return runAssuming(LlamaParams.MODEL_PARAMS.byteSize(), LlamaParams.CONTEXT_PARAMS.byteSize());
    }

    /** The checks with the by-value struct sizes given (tests use wrong sizes to see a mismatch caught). */
    static Result runAssuming(long modelParamsSize, long contextParamsSize) {
        NativeLibraries.load();
        List<String> passed = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        checkTensor(passed, failed);
        checkTypes(passed, failed);
        checkModelParams(modelParamsSize, passed, failed);
        checkContextParams(contextParamsSize, passed, failed);
        return new Result(List.copyOf(passed), List.copyOf(failed));
    }

    /** Runs the checks and throws a {@link NativeLibraryException} on any mismatch. */
    public static Result verify() {
        return verify(run());
    }

    static Result verify(Result r) {
        if (!r.ok()) {
            throw new NativeLibraryException("The loaded llama.cpp libraries do not match the bindings ("
                    + NativeLibraries.load().location().directory() + "): " + r.summary()
                    + ". Use the pinned build (native/scripts/install-llamacpp.sh).");
        }
        return r;
    }

    private static void expect(boolean ok, String what, List<String> passed, List<String> failed) {
        (ok ? passed : failed).add(what);
    }

    private static void checkTensor(List<String> passed, List<String> failed) {
        try (GgmlContext ctx = GgmlContext.forMetadata(12, 0)) {
            Tensor t = ctx.newTensor(GgmlType.F16, 8, 5, 3);
            expect(t.type() == GgmlType.F16, "ggml_tensor.type@0", passed, failed);
            expect(t.ne(0) == 8 && t.ne(1) == 5 && t.ne(2) == 3 && t.ne(3) == 1, "ggml_tensor.ne@16", passed, failed);
            expect(t.nb(0) == 2 && t.nb(1) == 16 && t.nb(2) == 80 && t.nb(3) == 240, "ggml_tensor.nb@48", passed, failed);
            t.name("layout-check");
            MemorySegment namePtr = Ggml.ggml_get_name(t.address());
            expect(namePtr.address() == t.address().address() + Tensor.OFF_NAME && t.name().equals("layout-check"),
                    "ggml_tensor.name@256", passed, failed);
            Tensor s = ctx.scale(t, 2f);
            MemorySegment src0 = s.address().get(ValueLayout.ADDRESS, Tensor.OFF_SRC);
            expect(src0.address() == t.address().address(), "ggml_tensor.src@152", passed, failed);
            expect(s.address().get(ValueLayout.JAVA_INT, Tensor.OFF_OP) != 0, "ggml_tensor.op@80", passed, failed);
            Tensor m = ctx.mulMat(t, t);
            expect(m.address().get(ValueLayout.JAVA_INT, Tensor.OFF_OP) == GgmlContext.OP_MUL_MAT,
                    "GGML_OP_MUL_MAT=" + GgmlContext.OP_MUL_MAT, passed, failed);
            Tensor v = ctx.view(t, new long[] {8, 5}, new long[] {16}, 80);
            MemorySegment viewSrc = v.address().get(ValueLayout.ADDRESS, Tensor.OFF_VIEW_SRC);
            long viewOffs = v.address().get(ValueLayout.JAVA_LONG, Tensor.OFF_VIEW_OFFS);
            expect(viewSrc.address() == t.address().address() && viewOffs == 80, "ggml_tensor.view_src@232,view_offs@240",
                    passed, failed);
            Tensor q = ctx.newTensor(GgmlType.F32, 8, 1, 3);
            Tensor fa = ctx.flashAttnExt(q, t, t, null, 1f, 0f, 0f);
            expect(fa.address().get(ValueLayout.JAVA_INT, Tensor.OFF_OP) == GgmlContext.OP_FLASH_ATTN_EXT,
                    "GGML_OP_FLASH_ATTN_EXT=" + GgmlContext.OP_FLASH_ATTN_EXT, passed, failed);
            expect(Ggml.ggml_tensor_overhead() >= Tensor.SIZE && Ggml.ggml_tensor_overhead() <= Tensor.SIZE + 64,
                    "sizeof(ggml_tensor)=" + Tensor.SIZE + " (overhead " + Ggml.ggml_tensor_overhead() + ")", passed, failed);
            expect(Ggml.ggml_nbytes(t.address()) == t.bytes(), "ggml_nbytes", passed, failed);
        }
    }

    private static void checkTypes(List<String> passed, List<String> failed) {
        List<String> bad = new ArrayList<>();
        for (GgmlType t : GgmlType.values()) {
            long blck = Ggml.ggml_blck_size(t.id);
            long size = Ggml.ggml_type_size(t.id);
            String name = Bindings.string(Ggml.ggml_type_name(t.id));
            if (blck != t.blockSize || size != t.typeSize || name == null || !name.equalsIgnoreCase(t.name())) {
                bad.add(t + " (library: " + name + " " + blck + "/" + size + ")");
            }
        }
        expect(bad.isEmpty(), bad.isEmpty() ? "ggml type geometry (" + GgmlType.values().length + " types)" : "ggml types " + bad, passed, failed);
    }

    /** An allocator that hands out the start of a canary-filled region larger than asked. */
    private static MemorySegment canaryRegion(Arena arena, long size) {
        MemorySegment region = arena.allocate(size + SLACK, 16);
        region.fill(CANARY);
        return region;
    }

    private static boolean untouchedAfter(MemorySegment region, long size) {
        for (long i = size; i < region.byteSize(); i++) {
            if (region.get(ValueLayout.JAVA_BYTE, i) != CANARY) {
                return false;
            }
        }
        return true;
    }

    private static void checkModelParams(long size, List<String> passed, List<String> failed) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = canaryRegion(arena, size);
            // The library writes its full struct at the start of the region, whatever size we assumed.
            SegmentAllocator alloc = (bytes, align) -> region.asSlice(0, bytes);
            MemorySegment p = LlamaParams.modelDefaults(alloc);
            expect(untouchedAfter(region, size), "sizeof(llama_model_params)=" + size, passed, failed);
            expect(p.get(ValueLayout.JAVA_INT, LlamaParams.MP_N_GPU_LAYERS) == -1
                            && !p.get(ValueLayout.JAVA_BOOLEAN, LlamaParams.MP_VOCAB_ONLY)
                            && p.get(ValueLayout.JAVA_BOOLEAN, LlamaParams.MP_USE_EXTRA_BUFTS),
                    "llama_model_params defaults (n_gpu_layers@16=-1, vocab_only@72=false, use_extra_bufts@74=true)",
                    passed, failed);
        }
    }

    private static void checkContextParams(long size, List<String> passed, List<String> failed) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment region = canaryRegion(arena, size);
            SegmentAllocator alloc = (bytes, align) -> region.asSlice(0, bytes);
            MemorySegment p = LlamaParams.contextDefaults(alloc);
            expect(untouchedAfter(region, size), "sizeof(llama_context_params)=" + size, passed, failed);
            boolean ok = p.get(ValueLayout.JAVA_INT, LlamaParams.CP_N_CTX) == 512
                    && p.get(ValueLayout.JAVA_INT, LlamaParams.CP_N_BATCH) == 2048
                    && p.get(ValueLayout.JAVA_INT, LlamaParams.CP_N_UBATCH) == 512
                    && p.get(ValueLayout.JAVA_INT, LlamaParams.CP_N_SEQ_MAX) == 1
                    && p.get(ValueLayout.JAVA_INT, LlamaParams.CP_FLASH_ATTN_TYPE) == -1
                    && p.get(ValueLayout.JAVA_INT, LlamaParams.CP_TYPE_K) == GgmlType.F16.id
                    && p.get(ValueLayout.JAVA_INT, LlamaParams.CP_TYPE_V) == GgmlType.F16.id
                    && p.get(ValueLayout.JAVA_BOOLEAN, LlamaParams.CP_OFFLOAD_KQV);
            expect(ok, "llama_context_params defaults (n_ctx@0, n_batch@4, n_ubatch@8, flash_attn_type@52, type_k@104, offload_kqv@129)",
                    passed, failed);
        }
    }
}
