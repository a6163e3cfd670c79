package org.rbench.baselines;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rbench.core.attention.ColumnTopK;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.LlamaCpp;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The column-by-column top k (as on a GPU) chooses what one batched top_k chooses. */
class ColumnTopKTest {
    private static Backend cpu;

    @BeforeAll
    static void open() {
        LlamaCpp.initialise();
        cpu = Backends.open("cpu", 1);
    }

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void longColumnsOneByOneChooseWhatTheBatchChooses() {
        int rows = 3000; // longer than ggml's one-kernel sort on CUDA: split into columns
        int columns = 3;
        int k = 37;
        Random random = new Random(11);
        float[] scores = new float[rows * columns];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (float) random.nextGaussian(); // distinct: no ties at the cut
        }
        try (CpuGraph g = new CpuGraph(cpu)) {
            Tensor s = g.floats(scores, rows, columns);
            float[][] out = g.compute(ctx -> new Tensor[] {ColumnTopK.select(ctx, s, k, true), ColumnTopK.select(ctx, s, k, false)});
            assertEquals(k * columns, out[0].length);
            for (int c = 0; c < columns; c++) {
                Set<Integer> want = best(scores, c, rows, k);
                assertEquals(want, chosen(out[0], c, k), "column " + c + " one by one");
                assertEquals(want, chosen(out[1], c, k), "column " + c + " batched");
            }
        }
    }

    private static Set<Integer> chosen(float[] out, int column, int k) {
        return IntStream.range(0, k).mapToObj(i -> (int) out[column * k + i]).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<Integer> best(float[] scores, int column, int rows, int k) {
        Integer[] order = IntStream.range(0, rows).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Float.compare(scores[column * rows + b], scores[column * rows + a]));
        return new TreeSet<>(Arrays.asList(order).subList(0, k));
    }
}
