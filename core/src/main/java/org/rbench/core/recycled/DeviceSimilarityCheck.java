package org.rbench.core.recycled;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.Choice;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.ReusableState;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

/**
 * The dynamic schedule's query-similarity check made in the step graph
 * ({@link QuerySimilaritySchedule}'s test, without a host round trip per layer): each layer's
 * query before RoPE, summed over its heads, is compared with the one of the layer's last full
 * step by cosine similarity, in F32; at or below the threshold the layer takes its full step.
 * The device keeps, per layer, that reference query and the last check's choice (1: full step),
 * which the host reads once after the step.
 *
 * <p>Cosine similarity does not see a positive scale, so the heads' sum stands for their mean,
 * and a reference set from the host (the prefill's mean query) compares with a sum the same way.
 */
public final class DeviceSimilarityCheck extends ReusableState {
    /** rms_norm's epsilon: a zero vector normalizes to zeros instead of NaN. */
    static final float ZERO_GUARD = 1e-30f;
    private final GgmlContext context;
    private final BackendBuffer buffer;
    /** F32 {@code [headDim, layers]}: each layer's query at its last full step. */
    private final Tensor references;
    /** F32 {@code [layers]}: each layer's last choice, 1 for a full step, 0 to keep recycling. */
    private final Tensor choices;
    private final int headDim;
    private final int layers;
    private final float threshold;

    private DeviceSimilarityCheck(Backend backend, int headDim, int layers, double threshold) {
        if (threshold < -1 || threshold > 1) {
            throw new IllegalArgumentException("cosine threshold must be in [-1, 1]: " + threshold);
        }
        this.headDim = headDim;
        this.layers = layers;
        this.threshold = (float) threshold;
        context = GgmlContext.forMetadata(2, 0);
        references = context.newTensor(GgmlType.F32, headDim, layers).name("similarity_references");
        choices = context.newTensor(GgmlType.F32, layers).name("similarity_choices");
        buffer = BackendBuffer.allocate(context, backend);
        buffer.clear(0);
    }

    /** The check for a model of {@code layers} layers whose queries have {@code headDim} values a head. */
    public static DeviceSimilarityCheck allocate(Backend backend, int headDim, int layers, double threshold) {
        return new DeviceSimilarityCheck(backend, headDim, layers, threshold);
    }

    /**
     * The check for the context's model: one that an equal policy's decode handed back to the
     * context ({@link ReusableState}), or a new one. A decode sets every layer's reference at its
     * start, and a check step writes a layer's choice before anything reads it.
     */
    public static DeviceSimilarityCheck allocate(AttentionContext context, double threshold) {
        int headDim = context.hyperParameters().headDim();
        int layers = context.hyperParameters().layers();
        return context.reuse(java.util.List.of(DeviceSimilarityCheck.class, threshold), DeviceSimilarityCheck.class,
                () -> allocate(context.backend(), headDim, layers, threshold));
    }

    /** Sets layer {@code layer}'s reference query (the prefill's last query; a full step decided on the host). */
    public void setReference(int layer, float[] query) {
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("layer " + layer + " outside [0, " + layers + ")");
        }
        if (query.length != headDim) {
            throw new IllegalArgumentException("a reference query holds " + headDim + " values, not " + query.length);
        }
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment values = arena.allocate((long) headDim * Float.BYTES, Float.BYTES);
            java.lang.foreign.MemorySegment.copy(query, 0, values, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, headDim);
            references.write(values, (long) layer * headDim * Float.BYTES);
        }
    }

    /**
     * Builds layer {@code g.layer()}'s check into the step graph and returns its choice: take
     * the full step when the layer's query is at or below the threshold's similarity to its
     * reference, else leave it. The reference becomes this query when the full step is taken,
     * and the choice is kept for {@link #readChoices}; both writes are expanded here, after
     * every read of the reference.
     */
    public Choice fullStep(PlanGraph g) {
        return fullStep(g.ctx(), g.layer(), g.queryBeforeRope(), g::expand);
    }

    /** {@link #fullStep(PlanGraph)} for layer {@code layer}'s query before RoPE {@code q} (tests build it alone). */
    Choice fullStep(GgmlContext ctx, int layer, Tensor q, java.util.function.Consumer<Tensor> expand) {
        if (q.ne(0) != headDim || q.ne(2) != 1) {
            throw new IllegalStateException("the check compares one token's " + headDim + "-value queries, got "
                    + java.util.Arrays.toString(q.shape()));
        }
        long heads = q.ne(1);
        // the heads' sum: [heads, headDim] rows summed, as a [headDim, 1] column
        Tensor summed = ctx.sumRows(ctx.cont(ctx.transpose(ctx.reshape(q, headDim, heads))));
        Tensor current = ctx.reshape(summed, headDim, 1);
        Tensor reference = referenceOf(ctx, layer);
        // cos(a, b) = (a / rms(a)) . (b / rms(b)) / headDim. The epsilon, far below any query's mean
        // square, vanishes in F32 except for a zero vector, whose similarity is then 0 as on the host.
        Tensor dot = ctx.sumRows(ctx.mul(ctx.rmsNorm(current, ZERO_GUARD), ctx.rmsNorm(reference, ZERO_GUARD)));
        // full when cos <= threshold: leave = step(cos - threshold), take = 1 - leave
        Tensor leave = ctx.step(ctx.scaleBias(dot, 1f / headDim, -threshold));
        Tensor take = ctx.scaleBias(leave, -1f, 1f);
        Tensor updated = ctx.add(ctx.mul(current, take), ctx.mul(reference, leave));
        expand.accept(ctx.cpy(updated, referenceOf(ctx, layer)));
        expand.accept(ctx.cpy(take, ctx.view(choices, new long[] {1, 1}, new long[] {Float.BYTES}, (long) layer * Float.BYTES)));
        return new Choice(take, leave);
    }

    private Tensor referenceOf(GgmlContext ctx, int layer) {
        return ctx.view(references, new long[] {headDim, 1}, new long[] {references.nb(1)}, (long) layer * references.nb(1));
    }

    /** Every layer's last choice, read from the device (1: the layer took its full step). */
    public float[] readChoices() {
        return choices.getFloats();
    }

    /** Every layer's reference query (tests). */
    float[] readReferences() {
        return references.getFloats();
    }

    /** A few KB: one a threshold stays idle, so that dynamic schedules of several thresholds taking turns keep their graphs. */
    @Override
    protected boolean oneShapeIdle() {
        return false;
    }

    @Override
    protected void free() {
        buffer.close();
        context.close();
    }
}
