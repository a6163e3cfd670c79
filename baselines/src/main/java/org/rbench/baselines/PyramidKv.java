package org.rbench.baselines;

import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;

import java.util.HashSet;
import java.util.Set;

/**
 * PyramidKV (Zefan-Cai/KVCache-Factory, pyramidkv_utils.py, PyramidKVCluster): SnapKV's votes
 * and selection ({@link SnapKv}) with a budget per layer that falls linearly from the first
 * layer to the last, the same total as SnapKV's. This class is that arithmetic and the
 * strategy's factory; the policy is {@link SnapKv}.
 */
public final class PyramidKv {
    private PyramidKv() {
    }

    /**
     * Voted keys (beyond the window) each layer keeps, as PyramidKVCluster.update_kv computes
     * them for a prompt of {@code n} tokens, budget {@code c} and window {@code w}, with
     * {@code B = c - w}:
     * <ul>
     * <li>{@code n <= c}: every prompt key (the reference returns the cache unchanged for n < c,
     * and at n = c its selection keeps all n - w keys);</li>
     * <li>{@code c < n < 2B}: SnapKV's uniform B in every layer;</li>
     * <li>otherwise {@code min = B // beta}, {@code max = 2B - min}; if {@code max >= n - w}
     * then {@code max = n - w}, {@code min = 2B - max}; {@code step = (max - min) // (L - 1)};
     * layer l keeps {@code max - l * step}.</li>
     * </ul>
     * One layer (where the reference divides by zero) keeps SnapKV's B.
     */
    static int[] votedBudgets(int c, int w, int n, int layers, int beta) {
        if (w <= 0 || c <= w || layers <= 0 || beta <= 0) {
            throw new IllegalArgumentException("budget " + c + ", window " + w + ", " + layers + " layers, beta " + beta);
        }
        int b = c - w;
        int[] out = new int[layers];
        if (n <= c) {
            java.util.Arrays.fill(out, Math.max(0, n - w));
            return out;
        }
        if (n < 2 * b || layers == 1) {
            java.util.Arrays.fill(out, b);
            return out;
        }
        int min = b / beta;
        int max = 2 * b - min;
        if (max >= n - w) {
            max = n - w;
            min = 2 * b - max;
        }
        int step = (max - min) / (layers - 1);
        for (int l = 0; l < layers; l++) {
            out[l] = max - l * step;
        }
        return out;
    }

    /** {@code pyramidkv:k=2048,window=32,pool=7,gqa=max,beta=20}. */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "pyramidkv";
        }

        @Override
        public String description() {
            return "PyramidKV: SnapKV's votes with per-layer budgets falling linearly from 2(k-window) - min to"
                    + " min = (k-window)/beta (KVCache-Factory's PyramidKVCluster); k=2048, window=32, pool=7,"
                    + " gqa=max|mean|query, beta=20";
        }

        @Override
        public Set<String> parameters() {
            Set<String> p = new HashSet<>(SnapKv.Factory.PARAMETERS);
            p.add("beta");
            return p;
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            SnapKv.Factory.common(spec);
            spec.positiveInt("beta", 20);
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            validate(spec);
            int[] c = SnapKv.Factory.common(spec);
            int beta = spec.positiveInt("beta", 20);
            int budget = c[0];
            return new SnapKv(budget, c[1], c[2], SnapKv.Factory.gqa(spec),
                    (n, window, layers) -> votedBudgets(budget, window, n, layers, beta), SnapKv.GROW_ROWS, spec.text());
        }
    }
}
