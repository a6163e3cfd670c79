package org.rbench.core.recycled;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.Choice;
import org.rbench.core.testing.CpuBackend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The dynamic schedule's check in a graph of its own, on hand-made queries: the heads' summed
 * query against the layer's reference by cosine similarity, a full step at or below the
 * threshold (the reference then becomes the query), a zero query at similarity 0 as on the host.
 */
class DeviceSimilarityCheckTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    private static final int DIM = 4;

    /** Runs layer 1's check of a 2-head query; returns {take, leave}, the choices and the references after it. */
    private static float[][] check(double threshold, float[] reference, float[] query) {
        try (DeviceSimilarityCheck test = DeviceSimilarityCheck.allocate(CPU.backend(), DIM, 2, threshold);
             GgmlContext data = GgmlContext.forMetadata(1, 0)) {
            test.setReference(1, reference);
            Tensor q = data.newTensor(GgmlType.F32, DIM, 2, 1);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(128, 128);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                q.setFloats(query);
                ComputeGraph graph = ctx.newGraph(128);
                List<Tensor> writes = new ArrayList<>();
                Choice choice = test.fullStep(ctx, 1, q, writes::add);
                graph.expand(choice.take().output());
                graph.expand(choice.leave().output());
                writes.forEach(graph::expand);
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                return new float[][] {{choice.take().getFloats()[0], choice.leave().getFloats()[0]}, test.readChoices(),
                        test.readReferences()};
            }
        }
    }

    @Test
    void aSimilarQueryKeepsCpAndItsReference() {
        float[] reference = {1, 2, 0, 0};
        // heads (1, 1, 0, 0) and (0, 3, 0, 0): their sum (1, 4, 0, 0), cosine 0.976 with the reference
        float[][] out = check(0.8, reference, new float[] {1, 1, 0, 0, 0, 3, 0, 0});
        assertArrayEquals(new float[] {0, 1}, out[0], "take, leave");
        assertArrayEquals(new float[] {0, 0}, out[1], "choices: no full step in layer 1");
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 2, 0, 0}, out[2], "layer 1's reference kept");
    }

    @Test
    void aDissimilarQueryTakesTheFullStepAndBecomesTheReference() {
        float[][] out = check(0.8, new float[] {1, 0, 0, 0}, new float[] {0, 1, 0, 0, 0, 2, 1, 0});
        assertArrayEquals(new float[] {1, 0}, out[0]);
        assertArrayEquals(new float[] {0, 1}, out[1]);
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 3, 1, 0}, out[2], "the heads' sum is the new reference");
        // at the threshold itself: a full step (cosine of (1, 1) against (1, 0) is 0.7071...)
        float[][] edge = check(0.70, new float[] {1, 0, 0, 0}, new float[] {1, 1, 0, 0, 0, 0, 0, 0});
        assertEquals(0, edge[0][0], "0.707 > 0.70: recycled");
        float[][] below = check(0.71, new float[] {1, 0, 0, 0}, new float[] {1, 1, 0, 0, 0, 0, 0, 0});
        assertEquals(1, below[0][0], "0.707 <= 0.71: full");
    }

    @Test
    void aZeroQueryHasSimilarityZeroAsOnTheHost() {
        float[] zero = new float[2 * DIM];
        assertEquals(0, QuerySimilaritySchedule.cosine(new float[DIM], new float[] {1, 0, 0, 0}));
        assertEquals(0, check(-0.5, new float[] {1, 0, 0, 0}, zero)[0][0], "0 > -0.5: recycled");
        assertEquals(1, check(0.5, new float[] {1, 0, 0, 0}, zero)[0][0], "0 <= 0.5: full");
    }
}
