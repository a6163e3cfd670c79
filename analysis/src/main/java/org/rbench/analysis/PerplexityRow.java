package org.rbench.analysis;

/**
 * Perplexity of one (model, method, length, dataset) group:
 * {@code exp(sum(nll_sum) / sum(tokens_scored))}, so long chunks weigh by their token count.
 */
public record PerplexityRow(
        String model,
        String method,
        int length,
        String dataset,
        int samples,
        double tokensScored,
        double nllSum,
        double perplexity) {
}
