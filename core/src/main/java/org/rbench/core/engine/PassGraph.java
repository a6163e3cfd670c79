package org.rbench.core.engine;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.llamacpp.Tensor;

import java.util.List;

/**
 * A built pass: its graph, the tensors to read after each compute, and the pass whose
 * values the graph's inputs and read-backs use. A later pass of the same shape is bound to
 * it ({@link #bind}) and computed again without rebuilding.
 */
final class PassGraph implements AutoCloseable {
    /**
     * Tensors read after the compute, by layer (null where not asked for); {@code logits} (LAST,
     * ALL) or {@code greedy} (GREEDY: I32, one value, [1] or [1, 1]) as the pass asked.
     */
    record Outputs(Tensor logits, Tensor greedy, Tensor[] probabilities, Tensor[] fullProbabilities, Tensor[] queryBeforeRope,
                   Tensor[] queryAfterRope, Tensor[] windowRows, Tensor[] columnSums, Tensor[] windowSums) {
    }

    /** Reads a plan piece's results after a compute, given the pass computed. */
    interface AfterCompute {
        void read(Pass pass);
    }

    /** Notes what a plan piece's state may read later, when a compute starts, given the pass. */
    interface WhenLaunched {
        void note(Pass pass);
    }

    private final StepGraph graph;
    private final Outputs outputs;
    private final Bound bound;
    private final List<AfterCompute> afterCompute;
    private final List<WhenLaunched> whenLaunched;

    /** The pass the graph computes now: what its input fillers and read-backs look at. */
    static final class Bound {
        private Pass pass;

        Bound(Pass pass) {
            this.pass = pass;
        }

        Pass pass() {
            return pass;
        }

        AttentionPlan plan(int layer) {
            return pass.plans()[layer];
        }
    }

    PassGraph(StepGraph graph, Outputs outputs, Bound bound, List<AfterCompute> afterCompute, List<WhenLaunched> whenLaunched) {
        this.graph = graph;
        this.outputs = outputs;
        this.bound = bound;
        this.afterCompute = List.copyOf(afterCompute);
        this.whenLaunched = List.copyOf(whenLaunched);
    }

    StepGraph graph() {
        return graph;
    }

    Outputs outputs() {
        return outputs;
    }

    Pass pass() {
        return bound.pass();
    }

    /** Makes the graph compute {@code pass} next (same shape: the caller checked the signature). */
    PassGraph bind(Pass pass) {
        bound.pass = pass;
        return this;
    }

    /** Whether the plans' pieces read results after a compute (then the next step waits for this one's). */
    boolean readsAfterCompute() {
        return !afterCompute.isEmpty();
    }

    /** When a compute starts: the plans' pieces note what their state may read later (no device reads). */
    void launched() {
        for (WhenLaunched w : whenLaunched) {
            w.note(bound.pass());
        }
    }

    /** After a compute: the plans' pieces read their results and hand them on. */
    void afterCompute() {
        for (AfterCompute a : afterCompute) {
            a.read(bound.pass());
        }
    }

    @Override
    public void close() {
        graph.close();
    }
}
