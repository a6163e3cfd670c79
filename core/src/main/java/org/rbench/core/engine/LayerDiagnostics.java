package org.rbench.core.engine;

/**
 * What diagnostics measured at one layer in one decode step, against the full attention the
 * step's query would have had (a softmax over the whole cache, computed beside the method's
 * attention; {@link Decoder#withDiagnostics}). Under GQA a query head attends what its KV
 * head's plan read, so every set below is a KV head's, and each share is a mean over query
 * heads (equal to the mean over KV heads when it depends only on the set). Tracked positions
 * are cache positions the caller cares about (a prompt's answer spans).
 *
 * @param step                decode step of the engine (0: the step fed the token the prefill produced)
 * @param layer               the layer
 * @param position            the cache position of the step's token
 * @param wholeCache          the layer read every cached row
 * @param attendedRows        rows the plan read per KV head ({@link org.rbench.core.attention.AttentionPlan#rows})
 * @param massRecall          share of full attention's probability mass on the attended positions
 * @param topKOverlap         share of full attention's top-|attended| positions that were attended
 * @param trackedCoverage     share of the tracked positions attended; NaN without tracked positions
 * @param trackedMass         full attention's mass on the tracked positions; NaN without tracked positions
 * @param trackedMassAttended the part of {@code trackedMass} on tracked positions that were attended
 * @param peakPosition        where the layer looks nearest the tracked positions: of the query heads'
 *                            highest-probability positions (anywhere in the cache), the one nearest a
 *                            tracked position; -1 without tracked positions
 * @param peakAttended        whether the KV head of the query head that looks there attended it
 */
public record LayerDiagnostics(int step, int layer, int position, boolean wholeCache, int attendedRows,
                               double massRecall, double topKOverlap, double trackedCoverage, double trackedMass,
                               double trackedMassAttended, int peakPosition, boolean peakAttended) {

    /** Share of full attention's mass on the tracked positions that the layer attended; NaN when there is none. */
    public double trackedMassRecall() {
        return trackedMass > 0 ? trackedMassAttended / trackedMass : Double.NaN;
    }
}
