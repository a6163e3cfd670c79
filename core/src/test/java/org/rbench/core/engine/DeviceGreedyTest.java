package org.rbench.core.engine;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.testing.CpuBackend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.GraphAllocator;
import org.rbench.llamacpp.Tensor;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The token picked in the graph is Greedy.argmax's: the lowest id among equal largest logits. */
class DeviceGreedyTest {
    private static final int VOCAB = 1000;

    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    private static int pick(float[] logits) {
        try (GgmlContext data = GgmlContext.forMetadata(2, 0)) {
            Tensor input = data.newTensor(GgmlType.F32, logits.length, 1);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(64, 64);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                input.setFloats(logits);
                ComputeGraph graph = ctx.newGraph(64);
                Tensor token = DeviceGreedy.token(ctx, input).output();
                graph.expand(token);
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                assertEquals(1, token.ne(0));
                return token.getInts()[0];
            }
        }
    }

    /**
     * Ties settled whatever maximum the backend's argmax returned (ggml-cpu returns the first,
     * ggml-cuda any): handed the highest of three equal maxima, the graph picks the lowest.
     */
    @org.junit.jupiter.api.Test
    void settlesTiesFromAnyMaximum() {
        float[] logits = new float[VOCAB];
        logits[17] = 9f;
        logits[402] = 9f;
        logits[731] = 9f;
        try (GgmlContext data = GgmlContext.forMetadata(3, 0)) {
            Tensor input = data.newTensor(GgmlType.F32, VOCAB, 1);
            Tensor some = data.newTensor(GgmlType.I32, 1);
            try (BackendBuffer buffer = BackendBuffer.allocate(data, CPU.backend());
                 GgmlContext ctx = GgmlContext.forMetadata(32, 32);
                 GraphAllocator allocator = new GraphAllocator(CPU.backend())) {
                input.setFloats(logits);
                some.setInts(new int[] {731});
                ComputeGraph graph = ctx.newGraph(32);
                Tensor token = DeviceGreedy.lowestOfTheMaxima(ctx, input, some).output();
                graph.expand(token);
                allocator.allocate(graph);
                CPU.backend().compute(graph);
                assertEquals(17, token.getInts()[0]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void picksWhatGreedyArgmaxPicks(int seed) {
        Random random = new Random(seed);
        float[] logits = new float[VOCAB];
        for (int i = 0; i < VOCAB; i++) {
            logits[i] = (float) random.nextGaussian() * 3;
        }
        float top = 20f + random.nextInt(3);
        switch (seed) {
            case 1 -> { logits[731] = top; logits[17] = top; logits[402] = top; }   // ties: the lowest id, 17
            case 2 -> { logits[999] = top; }                                          // the last id
            case 3 -> { logits[0] = top; logits[999] = top; }                         // the first id
            case 4 -> java.util.Arrays.fill(logits, -1.5f);                            // all equal: id 0
            case 5 -> { java.util.Arrays.fill(logits, Float.NEGATIVE_INFINITY); logits[500] = Math.nextDown(top); logits[501] = top; }
            default -> { }
        }
        assertEquals(Greedy.argmax(logits), pick(logits));
    }

    /**
     * Vocabularies the two stages split differently (Llama 3's 128,256 in rows of 334; a prime, in one
     * stage): ties of the largest logit placed in several rows, at a row's last id and the next row's first,
     * or all in one row; every pick is Greedy.argmax's.
     */
    @ParameterizedTest
    @ValueSource(ints = {997, 1000, 4096, 32000, 128256})
    void picksTheLowestMaximumWhateverTheStagesRows(int vocab) {
        int row = DeviceGreedy.stageRow(vocab);
        Random random = new Random(vocab);
        for (int trial = 0; trial < 6; trial++) {
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) {
                logits[i] = (float) random.nextGaussian();
            }
            float top = 30f;
            int r = row == 0 ? vocab / 2 : row;
            switch (trial) {
                case 0 -> { logits[vocab - 1] = top; logits[vocab / 2] = top; }                  // across rows
                case 1 -> { logits[r - 1] = top; logits[r] = top; }                              // a row's end, the next's start
                case 2 -> { logits[r - 1] = top; logits[r - 2] = top; logits[1] = top; }          // two in one row, one in another
                case 3 -> logits[random.nextInt(vocab)] = top;                                   // one
                case 4 -> java.util.Arrays.fill(logits, 2.5f);                                   // all equal: id 0
                default -> { logits[vocab - 1] = top; logits[vocab - 2] = Math.nextDown(top); }  // a near tie
            }
            assertEquals(Greedy.argmax(logits), pick(logits), "vocab " + vocab + " (rows of " + row + "), trial " + trial);
        }
    }

    @org.junit.jupiter.api.Test
    void stagesSplitTheVocabularyNearItsSquareRoot() {
        assertEquals(334, DeviceGreedy.stageRow(128256));
        assertEquals(160, DeviceGreedy.stageRow(32000));
        assertEquals(0, DeviceGreedy.stageRow(997));   // a prime: one stage
        assertEquals(0, DeviceGreedy.stageRow(40));    // too short to split
    }
}
