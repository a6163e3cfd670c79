package org.rbench.analysis.plot;

import java.awt.Color;

/**
 * One legend line: a symbol drawn like the series (line, dashed line, marker or filled box) and
 * its name.
 *
 * @param marker the marker, or null for none
 */
record LegendEntry(String name, Color color, Marker marker, boolean line, boolean dashed, boolean box) {
}
