package org.rbench.gguf;

import java.util.List;
import java.util.Objects;

/**
 * A typed GGUF metadata value. Scalars hold a boxed Java value (integers as Long,
 * floats as Double, BOOL as Boolean, STRING as String); arrays hold a List of such
 * values and their element type.
 */
public record GgufValue(GgufType type, Object value, GgufType elementType) {
    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if (type == GgufType.ARRAY && (elementType == null || !(value instanceof List<?>))) {
            throw new IllegalArgumentException("an ARRAY value needs an element type and a List");
        }
    }

    public static GgufValue of(GgufType type, Object value) {
        return new GgufValue(type, normalise(type, value), null);
    }

    public static GgufValue string(String s) {
        return new GgufValue(GgufType.STRING, s, null);
    }

    public static GgufValue u32(long v) {
        return of(GgufType.UINT32, v);
    }

    public static GgufValue f32(double v) {
        return of(GgufType.FLOAT32, v);
    }

    public static GgufValue bool(boolean v) {
        return of(GgufType.BOOL, v);
    }

    public static GgufValue array(GgufType elementType, List<?> values) {
        if (elementType == GgufType.ARRAY) {
            throw new IllegalArgumentException("nested arrays are not supported");
        }
        return new GgufValue(GgufType.ARRAY, values.stream().map(v -> normalise(elementType, v)).toList(), elementType);
    }

    private static Object normalise(GgufType type, Object v) {
        if (type.isInteger()) {
            return ((Number) v).longValue();
        }
        if (type == GgufType.FLOAT32 || type == GgufType.FLOAT64) {
            return ((Number) v).doubleValue();
        }
        if (type == GgufType.BOOL) {
            return (Boolean) v;
        }
        if (type == GgufType.STRING) {
            return (String) v;
        }
        return v;
    }

    public long asLong() {
        if (!type.isInteger()) {
            throw new IllegalStateException("not an integer: " + type);
        }
        return (Long) value;
    }

    public double asDouble() {
        if (type.isInteger()) {
            return (Long) value;
        }
        if (type != GgufType.FLOAT32 && type != GgufType.FLOAT64) {
            throw new IllegalStateException("not a number: " + type);
        }
        return (Double) value;
    }

    public String asString() {
        if (type != GgufType.STRING) {
            throw new IllegalStateException("not a string: " + type);
        }
        return (String) value;
    }

    @SuppressWarnings("unchecked")
    public List<Object> asList() {
        if (type != GgufType.ARRAY) {
            throw new IllegalStateException("not an array: " + type);
        }
        return (List<Object>) value;
    }

    @Override
    public String toString() {
        if (type == GgufType.ARRAY) {
            List<?> l = asList();
            return "[" + elementType + " x " + l.size() + "]";
        }
        return type + ":" + value;
    }
}
