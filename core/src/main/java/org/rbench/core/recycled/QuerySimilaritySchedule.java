package org.rbench.core.recycled;

/**
 * The dynamic schedule of Recycled Attention: every {@code checkEvery} steps each layer
 * compares its current mean query with the mean query of its last full step; cosine
 * similarity above {@code threshold} keeps recycling, otherwise the layer does a full step
 * (and refreshes Cp). Steps between checks recycle. Layers decide independently.
 */
public final class QuerySimilaritySchedule implements Schedule {
    private final int checkEvery;
    private final double threshold;
    private final float[][] lastFullQuery;

    public QuerySimilaritySchedule(int checkEvery, double threshold, int layers) {
        if (checkEvery <= 0) {
            throw new IllegalArgumentException("check interval QC must be positive: " + checkEvery);
        }
        if (threshold < -1 || threshold > 1) {
            throw new IllegalArgumentException("cosine threshold must be in [-1, 1]: " + threshold);
        }
        this.checkEvery = checkEvery;
        this.threshold = threshold;
        this.lastFullQuery = new float[layers][];
    }

    /** The cosine similarity at or below which a layer takes its full step. */
    public double threshold() {
        return threshold;
    }

    @Override
    public boolean isFullStep(int step, int layer, float[] meanQuery) {
        if (step == 0) {
            return true;
        }
        if (step % checkEvery != 0) {
            return false;
        }
        float[] ref = lastFullQuery[layer];
        return ref == null || cosine(ref, meanQuery) <= threshold;
    }

    @Override
    public void onFullStep(int layer, float[] meanQuery) {
        lastFullQuery[layer] = meanQuery.clone();
    }

    @Override
    public boolean isFullStepCandidate(int step) {
        return step % checkEvery == 0;
    }

    @Override
    public boolean needsQueries() {
        return true;
    }

    public static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
