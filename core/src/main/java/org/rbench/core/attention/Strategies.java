package org.rbench.core.attention;

import org.rbench.core.model.HyperParameters;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The strategies on the class path, by name (ServiceLoader). */
public final class Strategies {
    private Strategies() {
    }

    public static Map<String, Strategy> all() {
        Map<String, Strategy> byName = new TreeMap<>();
        for (Strategy s : ServiceLoader.load(Strategy.class)) {
            Strategy previous = byName.put(s.name(), s);
            if (previous != null) {
                throw new IllegalStateException("two strategies named '" + s.name() + "': "
                        + previous.getClass().getName() + " and " + s.getClass().getName());
            }
        }
        return byName;
    }

    /** The strategy for a spec, validated; a clear error lists the known names. */
    public static Strategy forSpec(MethodSpec spec) {
        Map<String, Strategy> all = all();
        Strategy s = all.get(spec.name());
        if (s == null) {
            throw new IllegalArgumentException("unknown method '" + spec.name() + "' (known: " + all.keySet()
                    + (spec.name().startsWith("llamacpp") ? "; '" + spec.name()
                            + "' is the stock llama_decode path, run by the harness" : "")
                    + ")");
        }
        s.validate(spec);
        return s;
    }

    public static AttentionPolicy create(String spec, HyperParameters model, int promptTokens) {
        MethodSpec m = MethodSpec.parse(spec);
        return forSpec(m).create(m, model, promptTokens);
    }
}
