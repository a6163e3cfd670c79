package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class FormattingTest {

    @Test
    void numbersHaveFixedDecimalsAndNoNegativeZero() {
        assertEquals("85.3", Formats.accuracy(85.25000001));
        assertEquals("0.0", Formats.accuracy(-0.01));
        assertEquals("12.35", Formats.millis(12.345678));
        assertEquals("4.00x", Formats.speedup(4));
        assertEquals("", Formats.speedup(Double.NaN));
        assertEquals("[80.0, 90.5]", Formats.interval(new Interval(80, 90.49)));
        assertEquals("", Formats.interval(Interval.NONE));
        assertEquals("4096", Formats.rows(4096.4));
        assertEquals("+10.0%", Formats.percentChange(10));
        assertEquals("-5.0", Formats.signed(-5, 1));
        assertEquals("0.0%", Formats.percentChange(0.01));
        assertEquals("90%", Formats.percent(0.904));
        assertEquals("107%", Formats.percent(1.07));
        assertEquals("", Formats.percent(Double.NaN));
        assertEquals("<0.001", Formats.pValue(0.0002));
        assertEquals("0.050", Formats.pValue(0.05));
    }

    @Test
    void markdownPadsAlignsAndEscapes() {
        Table table = new Table().column("Method", Table.Align.LEFT).column("Acc.", Table.Align.RIGHT)
                .row(List.of("a|b", "1.0")).row(List.of("long name", ""));
        assertEquals("""
                | Method    | Acc. |
                | :-------- | ---: |
                | a\\|b      |  1.0 |
                | long name |    - |
                """, TableFormats.markdown(table));
    }

    @Test
    void groupsBecomeMulticolumnInLatexAndPrefixesElsewhere() {
        Table table = new Table().column("Method", Table.Align.LEFT).group("", 1)
                .column("Acc.", Table.Align.RIGHT).column("Speedup", Table.Align.RIGHT).group("32K", 2)
                .row(List.of("H2O_x & 50%", "", "4.25x"));
        assertEquals(List.of("Method", "32K Acc.", "32K Speedup"), table.flatHeaders());
        assertEquals("""
                \\begin{table}[ht]
                  \\centering
                  \\caption{Cap \\#1}
                  \\label{tab:x}
                  \\begin{tabular}{lrr}
                    \\toprule
                     & \\multicolumn{2}{c}{32K} \\\\
                    \\cmidrule(lr){2-3}
                    Method & Acc. & Speedup \\\\
                    \\midrule
                    H2O\\_x \\& 50\\% & -- & 4.25$\\times$ \\\\
                    \\bottomrule
                  \\end{tabular}
                \\end{table}
                """, TableFormats.latex(table, "Cap #1", "tab:x"));
        assertEquals("Method,32K Acc.,32K Speedup\nH2O_x & 50%,,4.25x\n", TableFormats.csv(table));
    }

    @Test
    void csvQuotesWhenNeeded() {
        Table table = new Table().column("method", Table.Align.LEFT).row(List.of("recycled:k=4096,s=50"));
        assertEquals("method\n\"recycled:k=4096,s=50\"\n", TableFormats.csv(table));
    }

    @Test
    void rowsMustMatchTheColumns() {
        Table table = new Table().column("a", Table.Align.LEFT);
        assertThrows(IllegalArgumentException.class, () -> table.row(List.of("1", "2")));
    }

    @Test
    void latexEscapesEverySpecialCharacter() {
        assertEquals("\\textbackslash{}\\{\\}\\$\\textasciitilde{}\\textasciicircum{}$<$",
                TableFormats.escapeLatex("\\{}$~^<"));
    }
}
