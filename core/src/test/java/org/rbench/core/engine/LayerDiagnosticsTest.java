package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.recycled.RecycledAttention;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per layer and step diagnostics ({@link Decoder#withDiagnostics(int[], java.util.function.Consumer)}):
 * what a step's attention did to tracked positions, against the full attention it would have had.
 */
class LayerDiagnosticsTest {
    private static final int PROMPT = 60;
    private static final int STEPS = 6;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();

    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    private record Run(List<LayerDiagnostics> layers, double meanRecall) {
    }

    /** Decodes STEPS steps of {@code spec}; {@code beforeSteps} sees the started policy. */
    private static Run diagnose(String spec, int[] tracked, java.util.function.Function<AttentionPolicy, int[]> beforeSteps) {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            AttentionPolicy policy = Strategies.create(spec, MODEL.weights().hyperParameters(), PROMPT);
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            List<LayerDiagnostics> out = new ArrayList<>();
            try (Decoder d = e.decoder(policy, p.statistics())) {
                int[] positions = tracked != null ? tracked : beforeSteps.apply(policy);
                d.withDiagnostics(positions, out::add);
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                return new Run(out, d.meanMassRecall());
            }
        }
    }

    private static int layers() {
        return MODEL.weights().hyperParameters().layers();
    }

    @Test
    void fullAttentionAttendsEveryTrackedPositionAndItsMass() {
        Run run = diagnose("full", new int[] {3, 10, 11, 12}, null);
        assertEquals(STEPS * layers(), run.layers().size(), "one record per layer and step");
        for (int i = 0; i < run.layers().size(); i++) {
            LayerDiagnostics d = run.layers().get(i);
            assertEquals(i / layers(), d.step());
            assertEquals(i % layers(), d.layer(), "layers in order");
            assertEquals(PROMPT + d.step(), d.position());
            assertTrue(d.wholeCache());
            assertEquals(1.0, d.trackedCoverage());
            assertEquals(1.0, d.massRecall());
            assertTrue(d.trackedMass() > 0 && d.trackedMass() < 1, "four of " + (d.position() + 1) + " positions");
            assertEquals(d.trackedMass(), d.trackedMassAttended(), 1e-12);
            assertTrue(d.peakPosition() >= 0 && d.peakPosition() <= d.position());
            assertTrue(d.peakAttended());
        }
    }

    /** Tracking a position a head looks at makes it the reported peak, at distance 0. */
    @Test
    void thePeakIsTheHeadsTopPositionNearestTheTrackedOnes() {
        LayerDiagnostics first = diagnose("full", new int[] {3}, null).layers().getFirst();
        Run again = diagnose("full", new int[] {first.peakPosition()}, null);
        assertEquals(first.peakPosition(), again.layers().getFirst().peakPosition());
        Run far = diagnose("full", new int[] {0, PROMPT + STEPS}, null);
        for (LayerDiagnostics d : far.layers()) {
            assertTrue(d.peakPosition() >= 0 && d.peakPosition() <= d.position(), "a position of the cache");
        }
    }

    /** Tracking every position makes the tracked figures the whole-attention ones: a check of both. */
    @Test
    void trackingEveryPositionGivesTheMassRecall() {
        int[] all = IntStream.range(0, PROMPT + STEPS).toArray();
        Run run = diagnose("recycled:k=8,s=4", all, null);
        double recallSum = 0;
        for (LayerDiagnostics d : run.layers()) {
            assertEquals(1.0, d.trackedMass(), 1e-4, "all of the mass");
            assertEquals(d.massRecall(), d.trackedMassAttended(), 1e-6, "step " + d.step() + " layer " + d.layer());
            if (!d.wholeCache()) {
                assertTrue(d.massRecall() < 0.999, "a budget of 8 misses mass");
                // Cp's K rows plus the new token's, of the position + 1 rows there are
                assertEquals((double) d.attendedRows() / (d.position() + 1), d.trackedCoverage(), 1e-9);
            }
            recallSum += d.massRecall();
        }
        assertEquals(run.meanRecall(), recallSum / run.layers().size(), 1e-9, "the mean is the records' mean");
    }

    /**
     * Recycled's first step attends Cp from the prefill (growing: the new token evicts none of
     * it): coverage is the mean over KV heads of the share of tracked positions each kept;
     * tracking what neither kept covers nothing.
     */
    @Test
    void coverageIsTheShareOfTrackedPositionsTheKvHeadsKept() {
        double[] expected = new double[1];
        int[] neither = new int[0];
        List<int[]> untouched = new ArrayList<>();
        Run in = diagnose("recycled:k=8,s=50,update=grow", null, policy -> {
            RecycledAttention recycled = (RecycledAttention) policy;
            int[] head0 = recycled.cpRows(0, 0);
            int[] head1 = recycled.cpRows(0, 1);
            long shared = Arrays.stream(head0).filter(r -> Arrays.stream(head1).anyMatch(x -> x == r)).count();
            expected[0] = (1.0 + (double) shared / head0.length) / 2;
            untouched.add(IntStream.range(0, PROMPT).filter(r -> Arrays.stream(head0).noneMatch(x -> x == r)
                    && Arrays.stream(head1).noneMatch(x -> x == r)).toArray());
            return head0;
        });
        LayerDiagnostics first = in.layers().getFirst();
        assertEquals(0, first.layer());
        assertFalse(first.wholeCache());
        assertEquals(expected[0], first.trackedCoverage(), 1e-12);
        assertTrue(first.trackedMassAttended() > 0 && first.trackedMassAttended() <= first.trackedMass());

        Run out = diagnose("recycled:k=8,s=50,update=grow", untouched.getFirst(), null);
        LayerDiagnostics missed = out.layers().getFirst();
        assertEquals(0.0, missed.trackedCoverage());
        assertEquals(0.0, missed.trackedMassAttended());
        assertTrue(missed.trackedMass() > 0);
        assertEquals(0.0, missed.trackedMassRecall());
        assertFalse(missed.peakAttended() && Arrays.stream(untouched.getFirst()).anyMatch(r -> r == missed.peakPosition()));
    }

    @Test
    void withoutTrackedPositionsTheTrackedFiguresAreEmpty() {
        Run run = diagnose("recycled:k=8,s=4", new int[0], null);
        for (LayerDiagnostics d : run.layers()) {
            assertTrue(Double.isNaN(d.trackedCoverage()) && Double.isNaN(d.trackedMass()));
            assertTrue(Double.isNaN(d.trackedMassRecall()));
            assertEquals(-1, d.peakPosition());
        }
    }

    @Test
    void diagnosticsStartBeforeTheFirstStepWithPositionsThatExist() {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            AttentionPolicy policy = Strategies.create("full", MODEL.weights().hyperParameters(), PROMPT);
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = e.decoder(policy, p.statistics())) {
                assertThrows(IllegalArgumentException.class, () -> d.withDiagnostics(new int[] {-1}, x -> { }));
                d.step(TOKENS[PROMPT]);
                assertThrows(IllegalStateException.class, () -> d.withDiagnostics(new int[] {1}, x -> { }));
            }
        }
    }
}
