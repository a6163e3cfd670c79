package org.rbench.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a method spec into the label used in tables and plots, in the paper's notation:
 * {@code recycled:k=4096,s=50} becomes {@code Recycled K=4096 S=50}. CSV outputs keep the raw
 * spec next to the label so that scripts never have to parse labels.
 */
public final class MethodLabel {
    private static final Map<String, String> NAMES = Map.ofEntries(
            Map.entry("full", "Full attention"),
            Map.entry("recycled", "Recycled"),
            Map.entry("recycled-dynamic", "Recycled (dynamic)"),
            Map.entry("streamingllm", "StreamingLLM"),
            Map.entry("h2o", "H2O"),
            Map.entry("snapkv", "SnapKV"),
            Map.entry("pyramidkv", "PyramidKV"),
            Map.entry("quest", "Quest"),
            Map.entry("tidaldecode", "TidalDecode"),
            Map.entry("oracle", "Oracle top-K"),
            Map.entry("llamacpp", "llama.cpp"),
            Map.entry("llamacpp-shift", "llama.cpp (context shift)"));

    private MethodLabel() {
    }

    public static String of(String spec) {
        String name = MethodOrder.nameOf(spec);
        String label = NAMES.getOrDefault(name, name);
        int colon = spec.indexOf(':');
        if (colon < 0) {
            return label;
        }
        List<String> parts = new ArrayList<>();
        parts.add(label);
        for (String parameter : spec.substring(colon + 1).split(",")) {
            String trimmed = parameter.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            int eq = trimmed.indexOf('=');
            // Single-letter keys are the paper's symbols (K, S); longer keys stay as written.
            if (eq == 1) {
                trimmed = Character.toUpperCase(trimmed.charAt(0)) + trimmed.substring(1);
            }
            parts.add(trimmed);
        }
        return String.join(" ", parts);
    }
}
