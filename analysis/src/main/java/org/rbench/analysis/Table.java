package org.rbench.analysis;

import java.util.ArrayList;
import java.util.List;

/**
 * A table of already formatted cells, independent of the output format. Renderers in
 * {@link TableFormats} turn it into Markdown, LaTeX or CSV.
 *
 * <p>Optional column groups give two-level headers (e.g. "32K" over "Acc." and "s/ex."): LaTeX
 * draws them with {@code \multicolumn}, Markdown and CSV join them into the column header.
 */
public final class Table {
    /** How a column's cells are aligned: text left, numbers right. */
    public enum Align {
        LEFT, RIGHT
    }

    /** A header spanning {@code span} consecutive columns; an empty label spans nothing visible. */
    public record ColumnGroup(String label, int span) {
    }

    private final List<String> headers = new ArrayList<>();
    private final List<Align> aligns = new ArrayList<>();
    private final List<ColumnGroup> groups = new ArrayList<>();
    private final List<List<String>> rows = new ArrayList<>();

    public Table column(String header, Align align) {
        headers.add(header);
        aligns.add(align);
        return this;
    }

    /** Adds a group over the next {@code span} columns, in column order. */
    public Table group(String label, int span) {
        groups.add(new ColumnGroup(label, span));
        return this;
    }

    public Table row(List<String> cells) {
        if (cells.size() != headers.size()) {
            throw new IllegalArgumentException("row has " + cells.size() + " cells, table has "
                    + headers.size() + " columns");
        }
        rows.add(List.copyOf(cells));
        return this;
    }

    public List<String> headers() {
        return List.copyOf(headers);
    }

    public List<Align> aligns() {
        return List.copyOf(aligns);
    }

    public List<ColumnGroup> groups() {
        return List.copyOf(groups);
    }

    public List<List<String>> rows() {
        return List.copyOf(rows);
    }

    /** Headers with their group label prefixed ("32K Acc."), for formats with one header row. */
    public List<String> flatHeaders() {
        if (groups.isEmpty()) {
            return headers();
        }
        List<String> flat = new ArrayList<>();
        int column = 0;
        for (ColumnGroup group : groups) {
            for (int i = 0; i < group.span() && column < headers.size(); i++, column++) {
                String header = headers.get(column);
                flat.add(group.label().isEmpty() ? header : group.label() + " " + header);
            }
        }
        while (column < headers.size()) {
            flat.add(headers.get(column++));
        }
        return flat;
    }
}
