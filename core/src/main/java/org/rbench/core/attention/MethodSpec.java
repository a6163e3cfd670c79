package org.rbench.core.attention;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A method as users write it: {@code name} or {@code name:key=value,key=value}, e.g.
 * {@code recycled:k=4096,s=50} (or {@code recycled:k=4096;s=50}). Typed getters give clear errors naming the method and the
 * parameter; {@link #requireOnly} rejects parameters the strategy does not know, so a typo
 * never silently runs a default.
 */
public record MethodSpec(String text, String name, Map<String, String> params) {

    public static MethodSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty method spec");
        }
        String t = text.trim();
        int colon = t.indexOf(':');
        String name = (colon < 0 ? t : t.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        if (!name.matches("[a-z0-9][a-z0-9_.-]*")) {
            throw new IllegalArgumentException("bad method name in '" + text + "'");
        }
        Map<String, String> params = new LinkedHashMap<>();
        if (colon >= 0) {
            String rest = t.substring(colon + 1).trim();
            if (!rest.isEmpty()) {
                // ';' also separates parameters, for tools that split lists on commas (JMH -p).
                for (String kv : rest.split("[,;]")) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0 || eq == kv.length() - 1) {
                        throw new IllegalArgumentException("method '" + text + "': parameter '" + kv.trim()
                                + "' is not key=value");
                    }
                    String key = kv.substring(0, eq).trim().toLowerCase(Locale.ROOT);
                    if (params.put(key, kv.substring(eq + 1).trim()) != null) {
                        throw new IllegalArgumentException("method '" + text + "': parameter '" + key + "' given twice");
                    }
                }
            }
        }
        return new MethodSpec(t, name, Collections.unmodifiableMap(params));
    }

    /** Throws if a parameter outside {@code known} was given. */
    public MethodSpec requireOnly(Set<String> known) {
        for (String k : params.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("method '" + text + "': unknown parameter '" + k + "' (known: "
                        + new TreeSet<>(known) + ")");
            }
        }
        return this;
    }

    public boolean has(String key) {
        return params.containsKey(key);
    }

    public int intParam(String key, int dflt) {
        return intIn(key, dflt, Integer.MIN_VALUE);
    }

    public int positiveInt(String key, int dflt) {
        int v = intIn(key, dflt, 1);
        if (v <= 0) {
            throw new IllegalArgumentException("method '" + text + "': " + key + " must be positive, got " + v);
        }
        return v;
    }

    /**
     * An int parameter; a number too large for an int names the range ({@code min} to
     * Integer.MAX_VALUE) instead of calling it "not an integer".
     */
    private int intIn(String key, int dflt, int min) {
        String v = params.get(key);
        if (v == null) {
            return dflt;
        }
        String digits = v.replace("_", "");
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            if (digits.matches("[+-]?[0-9]+")) {
                throw new IllegalArgumentException("method '" + text + "': " + key + " = " + v
                        + " is out of range (an integer from " + min + " to " + Integer.MAX_VALUE + ")");
            }
            throw new IllegalArgumentException("method '" + text + "': " + key + " must be an integer, not '" + v + "'");
        }
    }

    public double doubleParam(String key, double dflt) {
        String v = params.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("method '" + text + "': " + key + " must be a number, not '" + v + "'");
        }
    }

    public <E extends Enum<E>> E enumParam(String key, Class<E> type, E dflt) {
        String v = params.get(key);
        if (v == null) {
            return dflt;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(v)) {
                return e;
            }
        }
        throw new IllegalArgumentException("method '" + text + "': " + key + " must be one of "
                + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT) + ", not '" + v + "'");
    }

    public String stringParam(String key, String dflt) {
        return params.getOrDefault(key, dflt);
    }

    @Override
    public String toString() {
        return text;
    }
}
