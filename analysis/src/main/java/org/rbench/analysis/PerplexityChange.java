package org.rbench.analysis;

/** Change of perplexity of one (model, method, length, dataset); reported, not gated. */
public record PerplexityChange(
        String model,
        String method,
        int length,
        String dataset,
        double baseline,
        double candidate,
        double changePercent) {
}
