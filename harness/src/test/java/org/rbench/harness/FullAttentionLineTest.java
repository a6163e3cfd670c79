package org.rbench.harness;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FullAttentionLineTest {
    @Test
    void recoversALineAndGivesTheBoundItImplies() {
        // t = 4.4 ms + 0.05 ms per 1000 rows, as Q8_0 full attention on the H200
        List<double[]> points = List.of(new double[] {8218, 4.4 + 0.05 * 8.218}, new double[] {32794, 4.4 + 0.05 * 32.794},
                new double[] {131026, 4.4 + 0.05 * 131.026});
        FullAttentionLine line = FullAttentionLine.fit(points);
        assertEquals(4.4, line.interceptMs(), 1e-9);
        assertEquals(0.05e-3, line.msPerRow(), 1e-12);
        assertEquals(3, line.points());
        double full = line.msAt(131026);
        assertEquals(full / (4.4 + 0.05 * 6.635), line.boundFor(full, 6635), 1e-9);
    }

    @Test
    void needsTwoDistinctRowCountsAndAPositiveTime() {
        assertNull(FullAttentionLine.fit(List.of(new double[] {100, 1})));
        assertNull(FullAttentionLine.fit(List.of(new double[] {100, 1}, new double[] {100, 2})));
        FullAttentionLine falling = FullAttentionLine.fit(List.of(new double[] {100, 1}, new double[] {200, 0.5}));
        assertTrue(Double.isNaN(falling.boundFor(1, 10_000)), "a line below zero gives no bound");
    }
}
