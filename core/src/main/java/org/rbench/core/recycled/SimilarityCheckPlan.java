package org.rbench.core.recycled;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.Choice;
import org.rbench.core.attention.CompactPlan;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.GgmlType;

import java.util.List;

/**
 * A check step of the dynamic schedule decided in the step graph ({@link DeviceSimilarityCheck}):
 * the layer attends Cp (with its new token, {@code recycled}) and the whole cache (with Cp's
 * refresh, {@code refresh}), and the device's similarity test keeps one output and, for a full
 * step, Cp's new rows. The next layer reads the chosen output, so a step is one graph whatever
 * its layers choose; the price is that a check reads both.
 *
 * <p>What the layer did is known after the compute ({@link Outcome}): {@link #readsWholeCache},
 * {@link #rows} and {@link #extraBytes} answer for the read it kept (the other read counts as
 * extra bytes), and asking before then is an error.
 */
public record SimilarityCheckPlan(int layer, RefreshPlan refresh, CompactPlan recycled, DeviceSimilarityCheck test, Outcome outcome)
        implements AttentionPlan {

    /**
     * One step's choices, read from the device once, right after the compute (a later step's
     * compute overwrites them), for every layer of the step.
     */
    public static final class Outcome {
        private final DeviceSimilarityCheck test;
        private float[] choices;

        public Outcome(DeviceSimilarityCheck test) {
            this.test = test;
        }

        /** After the step's compute (each checking layer's read-back calls it; the first reads). */
        void computed() {
            if (choices == null) {
                choices = test.readChoices();
            }
        }

        /** Whether layer {@code layer} took its full step (and refreshed Cp). */
        public boolean fullStep(int layer) {
            if (choices == null) {
                throw new IllegalStateException("a check step's choice is known after its compute");
            }
            return choices[layer] != 0;
        }
    }

    public SimilarityCheckPlan {
        java.util.Objects.requireNonNull(refresh, "refresh");
        java.util.Objects.requireNonNull(recycled, "recycled");
        java.util.Objects.requireNonNull(test, "test");
        java.util.Objects.requireNonNull(outcome, "outcome");
        if (refresh.cp() == null) {
            throw new IllegalArgumentException("a check on the device refreshes Cp on the device");
        }
    }

    @Override
    public AttentionPlan withProbabilities() {
        throw new UnsupportedOperationException("a check decided on the device reads no probabilities back (decide=host does)");
    }

    @Override
    public AttentionPlan withQuery() {
        throw new UnsupportedOperationException("a check decided on the device reads no query back (decide=host does)");
    }

    @Override
    public int rows(int position) {
        return outcome.fullStep(layer) ? position + 1 : recycled.rows(position);
    }

    @Override
    public boolean readsWholeCache() {
        return outcome.fullStep(layer);
    }

    /** The K and V bytes of the read the device did not keep (both were computed). */
    @Override
    public long extraBytes(int position, HyperParameters model, GgmlType cacheType) {
        long rows = outcome.fullStep(layer) ? recycled.rows(position) : position + 1;
        return 2 * rows * model.kvRowBytes(cacheType);
    }

    @Override
    public void check(PlanCheck at) {
        recycled.check(at);
        refresh.check(at);
    }

    @Override
    public Object shape(int position) {
        return List.of(refresh.shape(position), recycled.shape(position), test); // the device state by identity
    }

    @Override
    public int extraTensors() {
        return refresh.extraTensors() + 64; // the similarity test, the second read, the blend and the conditional writes
    }

    @Override
    public AttendedRows attend(PlanGraph g) {
        AttendedRows cp = recycled.attend(g.forPart(SimilarityCheckPlan::recycled));
        Choice fullStep = test.fullStep(g);
        g.afterCompute((SimilarityCheckPlan p, int position) -> p.outcome().computed());
        return refresh.attend(g.forPart(SimilarityCheckPlan::refresh), fullStep).or(cp, fullStep);
    }
}
