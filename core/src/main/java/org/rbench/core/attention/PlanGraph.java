package org.rbench.core.attention;

import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * The step graph as one layer's plan sees it while {@link AttentionPlan#attend} builds its
 * piece: the layer's full cache after this pass's writes, the new token's K and V, and the
 * means to add inputs, share work with other layers and read results after the compute.
 *
 * <p>A built graph is computed again for every later step whose plans have the same shapes,
 * so a piece never captures values of the plan it was built from: inputs and read-backs get
 * the plan of the step being computed.
 */
public interface PlanGraph {
    GgmlContext ctx();

    HyperParameters model();

    /** Whether the graph runs on a GPU (ops that are fast on one backend and slow on the other choose by it). */
    boolean onGpu();

    /** The layer being built. */
    int layer();

    /** Tokens in the pass (1 in a decode step). */
    int tokens();

    /** The position of the pass's first token, in the step the graph is built for. */
    int position();

    /** The layer's full-cache keys {@code [headDim, capacity, kvHeads]}, after this pass's writes. */
    Tensor cacheKeys();

    /** The layer's full-cache values, after this pass's writes. */
    Tensor cacheValues();

    /**
     * Every layer's full-cache keys as one tensor {@code [headDim, capacity, kvHeads, layers]}, slice l holding layer
     * l's {@link #cacheKeys} (org.rbench.core.engine.KvCache), or null where the layers lie apart. A node reading it
     * depends on no layer's write of this pass: expand it after them (graph order is execution order).
     */
    default Tensor cacheKeysOfEveryLayer() {
        return null;
    }

    /** Every layer's full-cache values, as {@link #cacheKeysOfEveryLayer}. */
    default Tensor cacheValuesOfEveryLayer() {
        return null;
    }

    /**
     * The row length from which the backend's argsort keeps equal keys in their order, or empty where it may not
     * ({@link org.rbench.llamacpp.Backend#stableArgsortFrom}).
     */
    default java.util.OptionalInt stableArgsortFrom() {
        return java.util.OptionalInt.empty();
    }

    /**
     * The row length from which the backend's top_k writes the chosen columns in column order, or empty
     * ({@link org.rbench.llamacpp.Backend#topKColumnOrderFrom}).
     */
    default java.util.OptionalInt topKColumnOrderFrom() {
        return java.util.OptionalInt.empty();
    }

    /** Rows a read of the whole cache covers: the new token's position + 1, padded as llama.cpp pads. */
    int keyRows();

    /** The causal KQ mask over {@link #keyRows()} rows (padding masked), or null when nothing needs masking. */
    Tensor causalMask();

    /**
     * The last rows of {@link #causalMask()} outside which it is 0 in every step that may reuse this graph
     * (steps of the same {@link #keyRows()}): a decode step masks only the rows past its token, all within
     * the last block of the KV padding; a batch of tokens, anywhere. A reader that adds the mask to scores
     * need add only these rows.
     */
    default int causalMaskTail() {
        return keyRows();
    }

    /**
     * The logits of this decode step's reads shaped as {@code read} (its row count, under its mask),
     * as flash attention writes them (the suite's CUDA build), one batch for every layer of the graph:
     * F32 {@code [rows, 1, heads, toLayer - fromLayer]}, scaled and masked, layer l's at index {@code l -
     * fromLayer} of the last dimension. Every layer must then read such rows and ask for its
     * probabilities ({@link #onProbabilities}), which writes its part (the build fails otherwise);
     * read the batch only after every layer, in a {@link StepPart}. Ask from the first layer's plan,
     * before any layer's attention is built. One batch a step: null when asked later, for another
     * shape than the first asked, or where this step's attention writes no such batch (a backend whose
     * flash attention does not write its logits, unless {@code EngineOptions.FlashScores.EMULATED}; a batch
     * of tokens).
     */
    Tensor flashScoreBatch(AttendedRows read);

    /** {@link #flashScoreBatch(AttendedRows)} of whole-cache reads ({@link FullPlan#readWholeCache}). */
    default Tensor flashScoreBatch() {
        return flashScoreBatch(FullPlan.readWholeCache(this));
    }

    /** This pass's keys {@code [headDim, kvHeads, tokens]}, rotated at the plan's {@link AttentionPlan#ropePosition}. */
    Tensor newKeys();

    /** This pass's values {@code [headDim, kvHeads, tokens]}. */
    Tensor newValues();

    /**
     * This pass's queries {@code [headDim, heads, tokens]}, rotated as the attention uses them:
     * for pieces that choose their rows from this step's own attention (query head h reads KV
     * head {@code h / (heads / kvHeads)}; scale scores by {@code model().attentionScale()}).
     */
    Tensor query();

    /**
     * This pass's queries {@code [headDim, heads, tokens]} before RoPE (comparable across
     * positions: what a query-similarity test compares).
     */
    Tensor queryBeforeRope();

    /** Rows [from, to) of a {@code [headDim, rows, kvHeads]} cache tensor, as a strided view. */
    Tensor rowsView(Tensor cache, int from, int to);

    /**
     * Rows a read of {@code rows} rows covers once padded as a full read is (to the engine's KV
     * padding, llama.cpp's 256), but at most {@code limit} (the rows the store holds).
     */
    int paddedRows(int rows, int limit);

    /**
     * The KQ mask of a one-token read of {@code padded} rows of which the first {@code rows}
     * count (0) and the rest are padding (-inf); null when there is no padding. One input per
     * step for every layer that reads the same counts.
     */
    Tensor paddingMask(int rows, int padded);

    /**
     * Rows [0, rows) of a {@code [headDim, capacity, kvHeads]} K/V store, read as full attention
     * reads as many rows: padded ({@link #paddedRows}) and masked, so that attending every
     * cached row in position order this way gives full attention's logits bit for bit (the
     * kernels' sums then run over the same shapes in the same order).
     */
    default AttendedRows leadingRows(Tensor keys, Tensor values, int rows) {
        int padded = paddedRows(rows, (int) keys.ne(1));
        return new AttendedRows(rowsView(keys, 0, padded), rowsView(values, 0, padded), paddingMask(rows, padded));
    }

    /** Adds a node (and what it depends on) to the graph now, ahead of nodes expanded later. */
    void expand(Tensor t);

    /** The plan of another layer of the pass (build time), e.g. to size work shared by layers. */
    AttentionPlan plan(int layer);

    /** The layers this graph builds, [fromLayer, toLayer). */
    int fromLayer();

    int toLayer();

    /** Fills an input from the layer's plan of the step being computed and that step's first position. */
    interface InputFill<P extends AttentionPlan> {
        void fill(Tensor input, P plan, int position);
    }

    /** Fills a step-wide input from the step's first position. */
    interface StepFill {
        void fill(Tensor input, int position);
    }

    /** Reads a result after the compute, with the layer's plan of the step computed. */
    interface AfterCompute<P extends AttentionPlan> {
        void read(P plan, int position);
    }

    /** A graph input of this layer, filled before every compute. */
    <P extends AttentionPlan> Tensor input(String name, GgmlType type, InputFill<P> fill, long... ne);

    /**
     * This layer's element of a per-layer I32 input that every layer asking under {@code name}
     * shares: one upload per step for all layers (on a GPU each upload costs a round trip).
     * The value is checked against {@code [0, bound)} before the upload.
     */
    <P extends AttentionPlan> Tensor layerIndex(String name, ToIntFunction<P> value, ToIntFunction<P> bound);

    /**
     * This layer's {@code width} elements of a per-layer I32 input {@code [width, layers]} that
     * every layer asking under {@code name} shares (e.g. a row per KV head), as {@link #layerIndex}.
     */
    <P extends AttentionPlan> Tensor layerIndices(String name, int width, Function<P, int[]> values, ToIntFunction<P> bound);

    /**
     * The whole per-layer input {@link #layerIndices} made under {@code name}, {@code [width x layers]}: layer l's
     * elements at [l x width, (l + 1) x width), zeros for a layer that did not ask (in this graph or this step). For
     * a node that writes every layer's values at once (a step part); null before a layer asked.
     */
    Tensor layerIndicesOfEveryLayer(String name);

    /**
     * {@code t} {@code [headDim, heads, n]} rotated by RoPE at {@code positions} (I32 {@code [n]}) as
     * the model rotates its keys (e.g. a compact cache's rows moved to other positions).
     */
    Tensor rope(Tensor t, Tensor positions);

    /** An input shared by every layer (made by the first layer asking under {@code name}). */
    Tensor stepInput(String name, GgmlType type, StepFill fill, long... ne);

    /** The graph's one part of this kind, made by the first layer asking; finished after the last layer. */
    <T extends StepPart> T stepPart(Class<T> kind, Function<PlanGraph, T> create);

    /**
     * Asks for this layer's attention probabilities {@code [rows, tokens, heads]} (query head h
     * reads KV head {@code h / (heads / kvHeads)}; rows as {@link AttendedRows}) and hands them
     * to {@code use} once the attention is built, ahead of nodes expanded later.
     */
    void onProbabilities(Consumer<Tensor> use);

    /**
     * Asks for this layer's logits as flash attention writes them while it reads the keys (the suite's
     * CUDA build; {@code EngineOptions.FlashScores.EMULATED}): F32 {@code [rows, 1, heads]}, {@code scale
     * K^T q} plus the read's mask, rows as the plan's {@link AttendedRows} (not their {@code otherwise}
     * read), in a decode step. {@code use} gets them
     * once the attention is built, or null where this step's attention writes none (no flash attention,
     * a backend whose kernel does not write them, a batch of tokens): the plan then computes what it
     * needs itself. A plan that ranks rows by q.k takes them instead of reading every key again.
     */
    void onLogits(Consumer<Tensor> use);

    /**
     * Runs after every compute of this graph: reads its results. The decoder waits for a step
     * whose graph has such a read before it plans the next one.
     */
    <P extends AttentionPlan> void afterCompute(AfterCompute<P> read);

    /**
     * Runs when a compute of this graph is started: notes, without reading the device, what
     * the plan's state may read later (which of its graphs' tensors holds the last step's
     * selection, for diagnostics). Unlike {@link #afterCompute} it lets the next step be planned
     * while this one computes.
     */
    <P extends AttentionPlan> void whenLaunched(AfterCompute<P> note);

    /**
     * This graph for a plan that is part of the layer's plan (one read of a plan that makes two,
     * say): the inputs and read-backs the part registers get {@code part} of the step's plan, so
     * the part builds its piece as it would alone.
     */
    default <W extends AttentionPlan, P extends AttentionPlan> PlanGraph forPart(Function<W, P> part) {
        return new PartGraph<>(this, part);
    }

    /** What a {@link StepPart} may use once the layers are built. */
    interface Finishing {
        GgmlContext ctx();

        void expand(Tensor t);

        /** The finishing of a graph being built in {@code ctx}, whose nodes {@code expand} adds. */
        static Finishing of(GgmlContext ctx, java.util.function.Consumer<Tensor> expand) {
            return new Finishing() {
                @Override
                public GgmlContext ctx() {
                    return ctx;
                }

                @Override
                public void expand(Tensor t) {
                    expand.accept(t);
                }
            };
        }
    }
}
