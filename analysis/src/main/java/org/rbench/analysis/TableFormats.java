package org.rbench.analysis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/** Renders {@link Table}s as Markdown, LaTeX (booktabs) and CSV. All output uses "\n" line ends. */
public final class TableFormats {
    /** A whole cell that is a speedup ("4.12x"): LaTeX gets a proper times sign. */
    private static final Pattern SPEEDUP_CELL = Pattern.compile("-?\\d+(\\.\\d+)?x");

    private static final CSVFormat CSV = CSVFormat.DEFAULT.builder().setRecordSeparator("\n").get();

    private TableFormats() {
    }

    /** A GitHub-flavoured Markdown table with columns padded to equal width, readable as plain text. */
    public static String markdown(Table table) {
        List<String> headers = table.flatHeaders();
        List<Table.Align> aligns = table.aligns();
        List<List<String>> rows = table.rows().stream()
                .map(r -> r.stream().map(c -> c.isEmpty() ? "-" : c.replace("|", "\\|")).toList())
                .toList();
        int[] widths = new int[headers.size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = Math.max(3, headers.get(c).length());
            for (List<String> row : rows) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        StringBuilder out = new StringBuilder();
        appendMarkdownRow(out, headers, widths, aligns);
        List<String> rule = new ArrayList<>();
        for (int c = 0; c < widths.length; c++) {
            String dashes = "-".repeat(widths[c] - 1);
            rule.add(aligns.get(c) == Table.Align.RIGHT ? dashes + ":" : ":" + dashes);
        }
        appendMarkdownRow(out, rule, widths, aligns);
        for (List<String> row : rows) {
            appendMarkdownRow(out, row, widths, aligns);
        }
        return out.toString();
    }

    private static void appendMarkdownRow(StringBuilder out, List<String> cells, int[] widths,
            List<Table.Align> aligns) {
        out.append('|');
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            String pad = " ".repeat(widths[c] - cell.length());
            out.append(' ').append(aligns.get(c) == Table.Align.RIGHT ? pad + cell : cell + pad).append(" |");
        }
        out.append('\n');
    }

    /** A floating LaTeX table using booktabs rules; needs the booktabs package. */
    public static String latex(Table table, String caption, String label) {
        StringBuilder out = new StringBuilder();
        out.append("\\begin{table}[ht]\n");
        out.append("  \\centering\n");
        out.append("  \\caption{").append(escapeLatex(caption)).append("}\n");
        out.append("  \\label{").append(label).append("}\n");
        out.append("  \\begin{tabular}{");
        for (Table.Align align : table.aligns()) {
            out.append(align == Table.Align.RIGHT ? 'r' : 'l');
        }
        out.append("}\n");
        out.append("    \\toprule\n");
        if (!table.groups().isEmpty()) {
            List<String> cells = new ArrayList<>();
            StringBuilder rules = new StringBuilder();
            int column = 1;
            for (Table.ColumnGroup group : table.groups()) {
                if (group.label().isEmpty()) {
                    for (int i = 0; i < group.span(); i++) {
                        cells.add("");
                    }
                } else {
                    cells.add("\\multicolumn{" + group.span() + "}{c}{" + escapeLatex(group.label()) + "}");
                    rules.append(rules.isEmpty() ? "" : " ")
                            .append("\\cmidrule(lr){").append(column).append('-')
                            .append(column + group.span() - 1).append('}');
                }
                column += group.span();
            }
            out.append("    ").append(String.join(" & ", cells)).append(" \\\\\n");
            if (!rules.isEmpty()) {
                out.append("    ").append(rules).append('\n');
            }
        }
        out.append("    ").append(String.join(" & ", table.headers().stream().map(TableFormats::escapeLatex).toList()))
                .append(" \\\\\n");
        out.append("    \\midrule\n");
        for (List<String> row : table.rows()) {
            out.append("    ").append(String.join(" & ", row.stream().map(TableFormats::latexCell).toList()))
                    .append(" \\\\\n");
        }
        out.append("    \\bottomrule\n");
        out.append("  \\end{tabular}\n");
        out.append("\\end{table}\n");
        return out.toString();
    }

    private static String latexCell(String cell) {
        if (cell.isEmpty()) {
            return "--";
        }
        if (SPEEDUP_CELL.matcher(cell).matches()) {
            return cell.substring(0, cell.length() - 1) + "$\\times$";
        }
        return escapeLatex(cell);
    }

    /** Escapes LaTeX's special characters; task names and model files are full of underscores. */
    public static String escapeLatex(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '\\' -> out.append("\\textbackslash{}");
                case '&', '%', '$', '#', '_', '{', '}' -> out.append('\\').append(c);
                case '~' -> out.append("\\textasciitilde{}");
                case '^' -> out.append("\\textasciicircum{}");
                case '<' -> out.append("$<$");
                case '>' -> out.append("$>$");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** RFC 4180 CSV with one header row; empty cells stay empty. */
    public static String csv(Table table) {
        StringBuilder out = new StringBuilder();
        try (CSVPrinter printer = new CSVPrinter(out, CSV)) {
            printer.printRecord(table.flatHeaders());
            for (List<String> row : table.rows()) {
                printer.printRecord(row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringBuilder does not throw
        }
        return out.toString();
    }
}
