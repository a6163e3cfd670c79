package org.rbench.core.attention;

import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * The step graph as a plan that is part of another plan sees it ({@link PlanGraph#forPart}):
 * everything is the layer's graph, except that the inputs and read-backs the part registers get
 * the part of the step's plan, not the whole, so the part builds its piece as it would alone.
 */
final class PartGraph<W extends AttentionPlan, P extends AttentionPlan> implements PlanGraph {
    private final PlanGraph g;
    private final Function<W, P> part;

    PartGraph(PlanGraph g, Function<W, P> part) {
        this.g = g;
        this.part = part;
    }

    @Override
    public <Q extends AttentionPlan> Tensor input(String name, GgmlType type, InputFill<Q> fill, long... ne) {
        return g.input(name, type, (Tensor t, W whole, int position) -> fill.fill(t, partOf(whole), position), ne);
    }

    @Override
    public <Q extends AttentionPlan> Tensor layerIndex(String name, ToIntFunction<Q> value, ToIntFunction<Q> bound) {
        return g.layerIndex(name, (W whole) -> value.applyAsInt(partOf(whole)), (W whole) -> bound.applyAsInt(partOf(whole)));
    }

    @Override
    public <Q extends AttentionPlan> Tensor layerIndices(String name, int width, Function<Q, int[]> values, ToIntFunction<Q> bound) {
        return g.layerIndices(name, width, (W whole) -> values.apply(partOf(whole)), (W whole) -> bound.applyAsInt(partOf(whole)));
    }

    @Override
    public Tensor layerIndicesOfEveryLayer(String name) {
        return g.layerIndicesOfEveryLayer(name);
    }

    @Override
    public <Q extends AttentionPlan> void afterCompute(AfterCompute<Q> read) {
        g.afterCompute((W whole, int position) -> read.read(partOf(whole), position));
    }

    @Override
    public Tensor rope(Tensor t, Tensor positions) {
        return g.rope(t, positions);
    }

    @Override
    public <Q extends AttentionPlan> void whenLaunched(AfterCompute<Q> note) {
        g.whenLaunched((W whole, int position) -> note.read(partOf(whole), position));
    }

    @SuppressWarnings("unchecked")
    private <Q extends AttentionPlan> Q partOf(W whole) {
        return (Q) part.apply(whole);
    }

    // ---- the rest is the layer's graph ----

    @Override
    public GgmlContext ctx() {
        return g.ctx();
    }

    @Override
    public HyperParameters model() {
        return g.model();
    }

    @Override
    public boolean onGpu() {
        return g.onGpu();
    }

    @Override
    public int layer() {
        return g.layer();
    }

    @Override
    public int tokens() {
        return g.tokens();
    }

    @Override
    public int position() {
        return g.position();
    }

    @Override
    public Tensor cacheKeys() {
        return g.cacheKeys();
    }

    @Override
    public Tensor cacheValues() {
        return g.cacheValues();
    }

    @Override
    public java.util.OptionalInt topKColumnOrderFrom() {
        return g.topKColumnOrderFrom();
    }

    @Override
    public java.util.OptionalInt stableArgsortFrom() {
        return g.stableArgsortFrom();
    }

    @Override
    public Tensor cacheKeysOfEveryLayer() {
        return g.cacheKeysOfEveryLayer();
    }

    @Override
    public Tensor cacheValuesOfEveryLayer() {
        return g.cacheValuesOfEveryLayer();
    }

    @Override
    public int keyRows() {
        return g.keyRows();
    }

    @Override
    public Tensor causalMask() {
        return g.causalMask();
    }

    @Override
    public int causalMaskTail() {
        return g.causalMaskTail();
    }

    @Override
    public Tensor flashScoreBatch(AttendedRows read) {
        return g.flashScoreBatch(read);
    }

    @Override
    public Tensor newKeys() {
        return g.newKeys();
    }

    @Override
    public Tensor newValues() {
        return g.newValues();
    }

    @Override
    public Tensor query() {
        return g.query();
    }

    @Override
    public Tensor queryBeforeRope() {
        return g.queryBeforeRope();
    }

    @Override
    public Tensor rowsView(Tensor cache, int from, int to) {
        return g.rowsView(cache, from, to);
    }

    @Override
    public int paddedRows(int rows, int limit) {
        return g.paddedRows(rows, limit);
    }

    @Override
    public Tensor paddingMask(int rows, int padded) {
        return g.paddingMask(rows, padded);
    }

    @Override
    public AttendedRows leadingRows(Tensor keys, Tensor values, int rows) {
        return g.leadingRows(keys, values, rows);
    }

    @Override
    public void expand(Tensor t) {
        g.expand(t);
    }

    @Override
    public AttentionPlan plan(int layer) {
        return g.plan(layer);
    }

    @Override
    public int fromLayer() {
        return g.fromLayer();
    }

    @Override
    public int toLayer() {
        return g.toLayer();
    }

    @Override
    public Tensor stepInput(String name, GgmlType type, StepFill fill, long... ne) {
        return g.stepInput(name, type, fill, ne);
    }

    @Override
    public <T extends StepPart> T stepPart(Class<T> kind, Function<PlanGraph, T> create) {
        return g.stepPart(kind, create);
    }

    @Override
    public void onProbabilities(Consumer<Tensor> use) {
        g.onProbabilities(use);
    }

    @Override
    public void onLogits(Consumer<Tensor> use) {
        g.onLogits(use);
    }
}
