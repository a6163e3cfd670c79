package org.rbench.core.bench;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rbench.core.recycled.TopRows;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.testing.CpuBackend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The full step's pieces as SelectionBenchmark builds them run, and a layer's rows sorted
 * alone and in a batch with other layers' rows (top_k, the CPU's, and a sort, the GPU's) select the same
 * rows, ties included, with padding past the valid rows.
 */
class SelectionBenchmarkTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();

    @ParameterizedTest
    @CsvSource({"600, 4, 2, 64, 7, MAX", "300, 4, 4, 300, 1, FIRST", "1000, 8, 2, 16, 3, MEAN"})
    void aloneAndBatchedSortsSelectTheSameRows(int rows, int heads, int kvHeads, int k, int pool, GqaAggregation gqa) {
        SelectionBenchmark.Result r = SelectionBenchmark.run(CPU.backend(), new SelectionBenchmark.Shape(rows, heads, kvHeads, 16),
                new TopRows(k, gqa, pool), 3, 2, 7);
        // 3 scoring pieces, the score batch's, the layer alone, the batch by top_k and by sort, each with ties ordered;
        // a refresh's selection stage by stage from aggregated rows (top_k alone, the candidates, with ties ordered)
        assertEquals(12, r.timings().size());
        for (String piece : new String[] {"softmax + GQA aggregation of 3 layers at once", "top_k alone of 3 layers' aggregated rows",
                "candidates of 3 layers' aggregated rows (mask, window pool, top_k)",
                "candidates of 3 layers' aggregated rows, ties ordered"}) {
            assertTrue(r.timings().stream().anyMatch(t -> t.piece().equals(piece)), piece);
        }
        r.timings().forEach(t -> assertTrue(t.medianMs() > 0 && t.minMs() <= t.maxMs() && t.stepMs() >= t.medianMs(), t.toString()));
        assertEquals(kvHeads, r.aloneSelection().length);
        for (int h = 0; h < kvHeads; h++) {
            assertEquals(Math.min(k, rows), r.aloneSelection()[h].length);
            assertTrue(java.util.Arrays.stream(r.aloneSelection()[h]).allMatch(p -> p >= 0 && p < rows),
                    "padding rows (past " + rows + ") are never selected");
            assertArrayEquals(r.batchedSelection()[h], r.aloneSelection()[h], "KV head " + h);
            assertArrayEquals(r.sortedSelection()[h], r.aloneSelection()[h], "KV head " + h + ", the batch sorted");
        }
    }
}
