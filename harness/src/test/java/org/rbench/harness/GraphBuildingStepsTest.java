package org.rbench.harness;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.rbench.harness.StepNanos.ms;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GraphBuildingStepsTest {
    @Test
    void methodsWhoseMeasuredStepsBuiltGraphsAreNamedWithTheSteps() {
        GraphBuildingSteps steps = new GraphBuildingSteps();
        steps.add(131000, "full", ms(0, 0, 0));
        steps.add(131000, "recycled:k=4096,s=50", ms(0, 0, 2.7));
        steps.add(131000, "recycled:k=4096,s=50", ms(0, 0, 2.9));
        steps.add(131000, "recycled:k=4096,s=50", ms(0, 0, 0)); // a repetition that reused it
        steps.add(32768, "recycled:k=4096,s=50", ms(0, 0, 0));
        List<GraphBuildingSteps.Line> lines = steps.lines();
        assertEquals(1, lines.size(), "full and the 32K run built nothing");
        GraphBuildingSteps.Line l = lines.getFirst();
        assertEquals(131000, l.ctx());
        assertEquals(2, l.building());
        assertEquals(9, l.steps());
        assertEquals(2.8, l.buildMsMedian(), 1e-9);
        assertEquals("2 / 2 / -", l.where());

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        steps.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("recycled:k=4096,s=50 at 131000: 2 of 9 steps, 2.80 ms each (median), at steps 2 / 2 / -"),
                printed);
    }

    @Test
    void printsNothingWhereNoMeasuredStepBuilt() {
        GraphBuildingSteps steps = new GraphBuildingSteps();
        steps.add(8192, "full", ms(0, 0));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        steps.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }
}
