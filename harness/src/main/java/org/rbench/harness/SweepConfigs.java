package org.rbench.harness;

import org.rbench.harness.sweep.SweepConfig;

import java.util.Map;

/** Builds a sweep from a map, with the same validation as a YAML file. */
final class SweepConfigs {
    private SweepConfigs() {
    }

    static SweepConfig of(Map<String, Object> map) {
        return SweepConfig.fromMap("built-in config", map, null);
    }
}
