package org.rbench.core.engine;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The causal KQ masks of an engine's passes, kept in one block of host memory that lives
 * as long as the engine. A mask {@code [keyRows, queries]} for queries at positions
 * {@code start, start + 1, ...} is 0 where query i may see key j ({@code j <= start + i})
 * and -inf elsewhere (later positions and padding rows); F16 for flash attention, F32
 * otherwise, as llama.cpp.
 *
 * <p>Why a persistent block: at long contexts the mask is large (131K keys x 512 queries
 * is 128 MiB in F16) while only a band of it differs from one micro-batch to the next.
 * Building it afresh per pass cost a fresh allocation (page faults, zeroing), a full fill
 * and a copy. Here every element outside the -inf runs is always 0, so moving from one
 * mask to the next only clears the previous runs and writes the new ones: about
 * {@code queries x (queries + padding)} elements instead of {@code keyRows x queries}.
 *
 * <p>On the CPU the block is a backend tensor and a pass's mask is a view of it (no copy
 * at all); on a GPU the block is pinned host memory (as llama.cpp's inputs) and a pass's
 * mask is a graph input filled from it in one transfer. Either way {@link #update} runs just before the graph
 * computes, so graphs that share the block (kept for reuse) each see their own mask.
 */
final class CausalMask implements AutoCloseable {
    /** -inf in F16. */
    static final short HALF_NEGATIVE_INFINITY = (short) 0xFC00;

    private final GgmlType type;
    private final long elementBytes;
    private final boolean backendReadsBlock;
    private final GgmlContext context;
    /** Holds the block in backend or pinned memory; null when {@link #hostArena} does. */
    private final BackendBuffer buffer;
    private final Arena hostArena;
    private final Tensor block;
    private final MemorySegment memory;
    /** -inf repeated over the longest run a mask can have (every key row masked). */
    private final MemorySegment maskedRun;
    private final long maxElements;

    /** The mask the block holds now ({@code heldQueries == 0}: all zeros). */
    private int heldStart;
    private int heldQueries;
    private int heldKeyRows;

    /**
     * A block for masks of up to {@code maxKeyRows} keys and {@code maxQueries} queries.
     * Allocates {@code maxKeyRows x maxQueries} elements of host memory.
     */
    CausalMask(Backend backend, boolean flashAttention, int maxKeyRows, int maxQueries) {
        this.type = flashAttention ? GgmlType.F16 : GgmlType.F32;
        this.elementBytes = flashAttention ? Short.BYTES : Float.BYTES;
        this.maxElements = (long) maxKeyRows * maxQueries;
        this.backendReadsBlock = backend.isCpu();
        MemorySegment hostType = backendReadsBlock ? backend.defaultBufferType() : backend.hostBufferType();
        context = GgmlContext.forMetadata(1, 0);
        try {
            block = context.newTensor(type, maxElements).name("kq_mask_block");
            if (hostType != null) {
                buffer = BackendBuffer.allocate(context, hostType);
                buffer.clear(0);
                memory = block.data().reinterpret(maxElements * elementBytes);
                hostArena = null;
            } else {
                // A device without pinned host memory: plain native memory, copied from more slowly.
                buffer = null;
                hostArena = Arena.ofShared();
                memory = hostArena.allocate(maxElements * elementBytes, 64); // zeroed
            }
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
        maskedRun = Arena.ofAuto().allocate(maxKeyRows * elementBytes, 64);
        for (long j = 0; j < maxKeyRows; j++) {
            if (flashAttention) {
                maskedRun.setAtIndex(ValueLayout.JAVA_SHORT, j, HALF_NEGATIVE_INFINITY);
            } else {
                maskedRun.setAtIndex(ValueLayout.JAVA_FLOAT, j, Float.NEGATIVE_INFINITY);
            }
        }
    }

    GgmlType type() {
        return type;
    }

    /**
     * The mask tensor {@code [keyRows, queries]} of a graph being built; its contents are
     * written before each compute of the graph for the position {@code start} then.
     */
    Tensor tensor(StepGraph g, int keyRows, int queries, java.util.function.IntSupplier start) {
        if ((long) keyRows * queries > maxElements) {
            throw new IllegalArgumentException("a mask of " + keyRows + " x " + queries + " does not fit the block of "
                    + maxElements + " elements");
        }
        if (backendReadsBlock) {
            Tensor view = g.ctx.view(block, new long[] {keyRows, queries}, new long[] {keyRows * elementBytes}, 0);
            g.beforeCompute(() -> update(start.getAsInt(), queries, keyRows));
            return view.name("kq_mask");
        }
        return g.input("kq_mask", type, t -> {
            update(start.getAsInt(), queries, keyRows);
            t.write(memory.asSlice(0, (long) keyRows * queries * elementBytes), 0);
        }, keyRows, queries);
    }

    /** Makes the block hold the mask of {@code queries} queries from {@code start} over {@code keyRows} keys. */
    void update(int start, int queries, int keyRows) {
        if (queries == heldQueries && start == heldStart && keyRows == heldKeyRows) {
            return;
        }
        for (int i = 0; i < heldQueries; i++) {
            long from = firstMasked(i, heldStart, heldKeyRows);
            long to = (long) (i + 1) * heldKeyRows;
            memory.asSlice(from * elementBytes, (to - from) * elementBytes).fill((byte) 0);
        }
        for (int i = 0; i < queries; i++) {
            long from = firstMasked(i, start, keyRows);
            long to = (long) (i + 1) * keyRows;
            MemorySegment.copy(maskedRun, 0, memory, from * elementBytes, (to - from) * elementBytes);
        }
        heldStart = start;
        heldQueries = queries;
        heldKeyRows = keyRows;
    }

    /** Flat index of the first masked element of query i's row: the row's keys after its position. */
    private static long firstMasked(int i, int start, int keyRows) {
        return (long) i * keyRows + Math.min(keyRows, start + i + 1);
    }

    /** The block's first {@code keyRows x queries} elements as floats (for tests). */
    float[] held(int keyRows, int queries) {
        float[] out = new float[keyRows * queries];
        for (int e = 0; e < out.length; e++) {
            out[e] = type == GgmlType.F16 ? Float.float16ToFloat(memory.getAtIndex(ValueLayout.JAVA_SHORT, e))
                    : memory.getAtIndex(ValueLayout.JAVA_FLOAT, e);
        }
        return out;
    }

    @Override
    public void close() {
        if (buffer != null) {
            buffer.close();
        }
        if (hostArena != null) {
            hostArena.close();
        }
        context.close();
    }
}
