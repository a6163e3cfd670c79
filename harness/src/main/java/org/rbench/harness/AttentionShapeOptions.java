package org.rbench.harness;

import picocli.CommandLine.Option;

/**
 * A model's attention shapes for the benchmarks that need no model (bench-select,
 * bench-policy); the defaults are Llama-3.1-8B's.
 */
final class AttentionShapeOptions {
    @Option(names = "--layers", defaultValue = "32",
            description = "Layers of a decode step (default: ${DEFAULT-VALUE}); bench-select selects them in one batch.")
    int layers;

    @Option(names = "--heads", defaultValue = "32", description = "Query heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "8", description = "KV heads (default: ${DEFAULT-VALUE}).")
    int kvHeads;

    @Option(names = "--head-dim", defaultValue = "128", description = "Head dimension (default: ${DEFAULT-VALUE}).")
    int headDim;
}
