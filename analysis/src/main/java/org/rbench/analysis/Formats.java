package org.rbench.analysis;

import java.util.Locale;

/**
 * The one place numbers become text, so every table agrees: accuracy with 1 decimal, times and
 * speedups with 2, speedups suffixed with "x". Values are rounded half up (2.125 becomes 2.13),
 * whatever the machine's locale. Missing values (NaN) become the empty string; renderers show
 * that as a dash where a blank cell would be ambiguous.
 */
public final class Formats {
    private Formats() {
    }

    /** Fixed decimals, root locale (a decimal point whatever the machine's locale), never "-0.0". */
    public static String fixed(double value, int decimals) {
        if (!Double.isFinite(value)) {
            return "";
        }
        if (Math.abs(value) < 0.5 * Math.pow(10, -decimals)) {
            value = 0.0;
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    /** Accuracy in points, 0..100. */
    public static String accuracy(double value) {
        return fixed(value, 1);
    }

    /** "[low, high]" with accuracy precision. */
    public static String interval(Interval ci) {
        return ci.isKnown() ? "[" + accuracy(ci.low()) + ", " + accuracy(ci.high()) + "]" : "";
    }

    public static String millis(double value) {
        return fixed(value, 2);
    }

    public static String seconds(double value) {
        return fixed(value, 2);
    }

    /** "4.12x" in tables; CSV files use {@link #fixed} with 2 decimals and no suffix. */
    public static String speedup(double value) {
        String number = fixed(value, 2);
        return number.isEmpty() ? "" : number + "x";
    }

    public static String perplexity(double value) {
        return fixed(value, 2);
    }

    /** KV rows: whole rows are what the reader cares about. */
    public static String rows(double value) {
        return fixed(value, 0);
    }

    public static String recall(double value) {
        return fixed(value, 3);
    }

    /** Signed change, e.g. "-5.0". */
    public static String signed(double value, int decimals) {
        String number = fixed(value, decimals);
        return number.isEmpty() || number.startsWith("-") || isZero(number) ? number : "+" + number;
    }

    /** A share as a whole percentage, e.g. 0.904 -> "90%"; empty for NaN. */
    public static String percent(double share) {
        String number = fixed(share * 100, 0);
        return number.isEmpty() ? "" : number + "%";
    }

    /** Signed percentage change, e.g. "+10.3%". */
    public static String percentChange(double value) {
        String number = signed(value, 1);
        return number.isEmpty() ? "" : number + "%";
    }

    /** p-values below what the test can resolve are shown as a bound. */
    public static String pValue(double p) {
        if (!Double.isFinite(p)) {
            return "";
        }
        return p < 0.001 ? "<0.001" : fixed(p, 3);
    }

    private static boolean isZero(String number) {
        return number.chars().allMatch(c -> c == '0' || c == '.');
    }
}
