package org.rbench.harness.run;

import org.junit.jupiter.api.Test;
import org.rbench.core.engine.LayerDiagnostics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The results row's summaries and the detail rows, from given per-layer measurements. */
class AnswerDiagnosticsTest {
    private static final int[] ANSWER = {100, 101, 102, 103};

    /** Layer 0 looks far away; layer 1 walks from the answer's end one position a step and is lost at step 2. */
    private static AnswerDiagnostics walking() {
        List<LayerDiagnostics> layers = new ArrayList<>();
        double[] coverage = {0.5, 0.75, 0.25};
        for (int step = 0; step < 3; step++) {
            layers.add(new LayerDiagnostics(step, 0, 200 + step, false, 8, 0.9, 0.5, 0.0, 0.01, 0.0, 190, true));
            layers.add(new LayerDiagnostics(step, 1, 200 + step, false, 8, 0.8, 0.5, coverage[step], 0.2, 0.1,
                    104 + step, step < 2));
        }
        return new AnswerDiagnostics(layers, ANSWER, 0.85, -1);
    }

    @Test
    void summaries() {
        Map<String, String> row = walking().summaryColumns();
        assertEquals("4", row.get("answer_tokens"));
        assertEquals("0.2500", row.get("answer_coverage_mean"), "(0 + 0.5 + 0 + 0.75 + 0 + 0.25) / 6");
        assertEquals("0.1250", row.get("answer_coverage_min"), "step 2: (0 + 0.25) / 2");
        assertEquals("2", row.get("answer_coverage_min_step"));
        assertEquals(RulerRun.fmt(0.3 / 0.63), row.get("answer_mass_recall"), "pooled: attended over all answer mass");
        assertEquals("1", row.get("focus_layer"), "layer 1's peaks lie 1-3 tokens from the answer, layer 0's 87");
        assertEquals("2", row.get("focus_lost_step"));
    }

    @Test
    void detailRows() {
        List<Map<String, String>> rows = walking().detailRows(Map.of("method", "m"), Integer.MAX_VALUE);
        assertEquals(6, rows.size());
        assertEquals(4, walking().detailRows(Map.of("method", "m"), 2).size(), "the first 2 steps' 2 layers");
        Map<String, String> last = rows.get(5);
        assertEquals("m", last.get("method"));
        assertEquals("2", last.get("step"));
        assertEquals("1", last.get("layer"));
        assertEquals("6", last.get("peak_offset"), "from the first answer token");
        assertEquals("3", last.get("peak_distance"), "from the nearest answer token");
        assertEquals("0", last.get("peak_attended"));
        assertEquals("0.5000", last.get("answer_mass_recall"));
        assertEquals("0.2500", last.get("answer_coverage"));
    }

    @Test
    void distanceToTheNearestAnswerToken() {
        AnswerDiagnostics d = new AnswerDiagnostics(List.of(), new int[] {10, 11, 20}, 1, -1);
        assertEquals(0, d.distance(11));
        assertEquals(1, d.distance(12));
        assertEquals(2, d.distance(18));
        assertEquals(10, d.distance(0));
        assertEquals(5, d.distance(25));
        assertEquals(-1, AnswerDiagnostics.focusLayer(Map.of()));
    }
}
