package org.rbench.core.recycled;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.ReusableState;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * Cp read in place ({@link RecycledAttention.CpLayout#INPLACE}): the cache position every slot of every layer
 * holds, in one device tensor, I32 {@code [slots, kvHeads, layers]} (layer l's {@code [slots, kvHeads]}
 * contiguous: the index tensor a gather of its rows takes whole). One tensor, so that a recycled step writes
 * its token's position into every layer with one set_rows ({@link InPlaceCpPlan}); a tensor a layer took 32
 * kernels a step at Llama-3.1-8B shapes. Zeros when new and when taken over (a position every read may name).
 */
final class CpPositions extends ReusableState {
    private final GgmlContext context;
    private final BackendBuffer buffer;
    private final Tensor all;
    private final Tensor[] layers;
    private final int slots;

    private CpPositions(Backend backend, int slots, int kvHeads, int layerCount) {
        if (slots <= 0) {
            throw new IllegalArgumentException("Cp needs at least one slot, not " + slots);
        }
        this.slots = slots;
        context = GgmlContext.forMetadata(1 + layerCount, 0);
        all = context.newTensor(GgmlType.I32, slots, kvHeads, layerCount).name("cp_positions");
        layers = new Tensor[layerCount];
        for (int l = 0; l < layerCount; l++) {
            // views made before the allocation: the buffer's allocation gives them their memory (and a buffer, so
            // the host reads and writes them as tensors of their own)
            layers[l] = context.view(all, new long[] {slots, kvHeads}, new long[] {all.nb(1)}, l * all.nb(2))
                    .name("cp_positions_" + l);
        }
        buffer = BackendBuffer.allocate(context, backend);
        buffer.clear(0);
    }

    /** The positions of Cp's slots for the context's model: handed back by an equal policy's decode, or new. */
    static CpPositions allocate(AttentionContext context, int slots) {
        int kvHeads = context.hyperParameters().kvHeads();
        int layers = context.hyperParameters().layers();
        return context.reuse(List.of(CpPositions.class, slots), CpPositions.class,
                () -> new CpPositions(context.backend(), slots, kvHeads, layers));
    }

    /** Slots a layer holds per KV head. */
    int slots() {
        return slots;
    }

    /** Every layer's positions, {@code [slots, kvHeads, layers]}. */
    Tensor all() {
        return all;
    }

    /** Layer {@code layer}'s positions, {@code [slots, kvHeads]}: a view of {@link #all}. */
    Tensor layer(int layer) {
        return layers[layer];
    }

    /** A few MB at most: one a slot count stays idle, so that Recycled's budgets taking turns keep their graphs. */
    @Override
    protected boolean oneShapeIdle() {
        return false;
    }

    @Override
    protected void reuse() {
        buffer.clear(0);
    }

    @Override
    protected void free() {
        buffer.close();
        context.close();
    }
}
