package org.rbench.core.parity;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.LlamaCpp;

import java.util.Arrays;

/**
 * A method on the request's backend against the same method on the CPU: both decode the same
 * tokens after the same prompt (the CPU's greedy picks, fed to both), and every step's rows read
 * per layer and KV head, its logits and its pick are compared. {@link Parity} can only hold a
 * method to llama_decode where its budget covers the context (it then reads everything); this
 * checks what a method chooses on a GPU, where it decides on the device, at budgets that select.
 *
 * <p>Two backends may part at near-ties (a GPU's products round differently), so selections are
 * counted, not required equal; picks and logits are compared only at steps where every layer read
 * the same rows. A layer that read the whole cache on both backends is the same read but no
 * selection: the share counts only layers that selected on at least one side. Where two
 * selections part, the report says by how many rows (those one side read and the other did not):
 * a near-tie at the cut parts them by a row or a few, a choice made wrong by far more.
 */
public final class BackendCheck {
    /** Selections that must agree for the check to pass. */
    public static final double MIN_SELECTION_SHARE = 0.99;

    private BackendCheck() {
    }

    /**
     * The outcome.
     *
     * @param selections          (step, layer, KV head) triples in which at least one backend selected rows
     *                            (did not read the whole cache)
     * @param selectionAgreements of them, those that read the same rows on both backends
     * @param unknown             triples where neither the plan nor the policy said which rows were read
     * @param sameRowSteps        steps at which every layer and KV head read the same rows
     * @param sameRowPicks        of them, those whose argmax was the CPU's
     * @param pickAgreements      steps whose argmax was the CPU's, of all
     * @param maxRelative         the largest relative logit difference over the same-row steps
     * @param apart               the selections that parted: how many of each's rows one side read and the other
     *                            did not (the larger count), or -1 where one side read the whole cache
     */
    public record Report(String model, String device, String method, int steps, long selections, long selectionAgreements,
                         long unknown, int sameRowSteps, int sameRowPicks, int pickAgreements, double maxRelative,
                         int[] apart) {
        public Report {
            apart = apart.clone();
            Arrays.sort(apart);
        }

        @Override
        public int[] apart() {
            return apart.clone();
        }

        public double selectionShare() {
            return selections == 0 ? 0 : (double) selectionAgreements / selections;
        }

        /** Of the selections that parted, those where one side read the whole cache and the other selected. */
        public int apartByWholeCache() {
            int n = 0;
            while (n < apart.length && apart[n] < 0) {
                n++;
            }
            return n;
        }

        /** The most rows by which two selections parted (both selecting), 0 when none did. */
        public int mostRowsApart() {
            return apart.length == 0 || apart[apart.length - 1] < 0 ? 0 : apart[apart.length - 1];
        }

        /** The median rows by which two selections parted (both selecting), 0 when none did. */
        public int medianRowsApart() {
            int from = apartByWholeCache();
            return from == apart.length ? 0 : apart[from + (apart.length - from) / 2];
        }

        /**
         * Something selected and compared (a check that compared nothing proves nothing), nearly every
         * selection the CPU's, every pick at a same-row step the CPU's, its logits within {@code tolerance}.
         */
        public boolean passes(double tolerance) {
            return selections > 0 && unknown == 0 && sameRowSteps > 0 && selectionShare() >= MIN_SELECTION_SHARE
                    && sameRowPicks == sameRowSteps && maxRelative <= tolerance;
        }

        public String summary() {
            return String.format(java.util.Locale.ROOT,
                    "%s, %s on %s against the CPU: %d steps; rows read: %d/%d (layer, KV head, step) selections as the CPU's"
                            + " (%.2f%%)%s, %d steps with every one the same; picks there: %d/%d as the CPU's (%d/%d over all steps);"
                            + " logits there: largest relative difference %.3g%s", method, model, device, steps, selectionAgreements,
                    selections, 100 * selectionShare(), unknown == 0 ? "" : ", " + unknown + " not known", sameRowSteps,
                    sameRowPicks, sameRowSteps, pickAgreements, steps, maxRelative, partedBy());
        }

        private String partedBy() {
            if (apart.length == 0) {
                return "";
            }
            int whole = apartByWholeCache();
            String rows = whole == apart.length ? "" : String.format(java.util.Locale.ROOT,
                    "; the %d that parted, by %d rows at most (median %d)", apart.length - whole, mostRowsApart(), medianRowsApart());
            return rows + (whole == 0 ? "" : "; " + whole + " read the whole cache on one side only");
        }
    }

    /** Rows read as recorded: the whole cache. */
    private static final int[] WHOLE = {};

    public static Report run(ParityRequest request, String method) {
        return run(request, method, method);
    }

    /** {@code method} on the request's backend against {@code cpuMethod} on the CPU (the same spec, but for tests). */
    static Report run(ParityRequest request, String method, String cpuMethod) {
        LlamaCpp.initialise();
        Decode cpu = decode(request.withBackend("cpu", request.threads()), cpuMethod, null);
        Decode device = decode(request, method, cpu.fed);
        int steps = request.decodeSteps();
        long selections = 0;
        long agreements = 0;
        long unknown = 0;
        int sameRowSteps = 0;
        int picks = 0;
        java.util.List<Integer> apart = new java.util.ArrayList<>();
        Parity.Comparison logits = new Parity.Comparison();
        for (int s = 0; s < steps; s++) {
            boolean allSame = true;
            for (int l = 0; l < cpu.rows[s].length; l++) {
                for (int h = 0; h < cpu.rows[s][l].length; h++) {
                    int[] a = cpu.rows[s][l][h];
                    int[] b = device.rows[s][l][h];
                    if (a == null || b == null) {
                        unknown++;
                        allSame = false;
                        continue;
                    }
                    if (a == WHOLE && b == WHOLE) {
                        continue; // the same read, and no selection
                    }
                    selections++;
                    if (a != WHOLE && b != WHOLE && Arrays.equals(a, b)) {
                        agreements++;
                    } else {
                        allSame = false;
                        apart.add(a == WHOLE || b == WHOLE ? -1 : rowsApart(a, b));
                    }
                }
            }
            if (allSame) {
                sameRowSteps++;
                logits.compare(device.logits[s], cpu.logits[s]);
            }
            picks += Greedy.argmax(device.logits[s]) == Greedy.argmax(cpu.logits[s]) ? 1 : 0;
        }
        return new Report(request.model().getFileName().toString(), device.device, method, steps, selections, agreements,
                unknown, sameRowSteps, logits.agreements, picks, logits.maxRel,
                apart.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Rows of {@code a} not in {@code b} or of {@code b} not in {@code a}, whichever are more (both ascending, distinct). */
    static int rowsApart(int[] a, int[] b) {
        int common = 0;
        for (int i = 0, j = 0; i < a.length && j < b.length; ) {
            if (a[i] == b[j]) {
                common++;
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        return Math.max(a.length, b.length) - common;
    }

    /** One backend's decode: the tokens fed, each step's logits and rows read ([step][layer][kvHead], ascending). */
    private record Decode(String device, int[] fed, float[][] logits, int[][][][] rows) {
    }

    /** Decodes {@code request.decodeSteps()} steps of {@code method}: greedy where {@code fed} is null, else those tokens. */
    private static Decode decode(ParityRequest request, String method, int[] fed) {
        int steps = request.decodeSteps();
        int context = request.promptLength() + steps + 2;
        try (Backend backend = Backends.open(request.backend(), request.threads());
             ModelWeights weights = ModelWeights.load(request.model(), backend);
             Engine engine = Engine.open(weights, request.engineOptions(context))) {
            int[] prompt = request.promptFor(weights.hyperParameters().vocabSize());
            int layers = weights.hyperParameters().layers();
            int kvHeads = weights.hyperParameters().kvHeads();
            Recorder policy = new Recorder(Strategies.create(method, weights.hyperParameters(), prompt.length), layers, kvHeads,
                    steps);
            int[] tokens = new int[steps];
            float[][] logits = new float[steps][];
            try {
                PrefillResult p = engine.prefill(prompt, policy.prefillRequest(), false);
                int token = Greedy.argmax(p.lastLogits());
                try (Decoder d = engine.decoder(policy, p.statistics())) {
                    for (int s = 0; s < steps; s++) {
                        tokens[s] = fed != null ? fed[s] : token;
                        logits[s] = d.step(tokens[s]);
                        token = Greedy.argmax(logits[s]);
                    }
                }
            } finally {
                policy.close();
            }
            return new Decode(backend.deviceDescription(), tokens, logits, policy.rows);
        }
    }

    /**
     * The method, with every step's rows read recorded after its compute: a decoder's single steps
     * ({@link Decoder#step}) end once computed, when device-side choices can be read (so
     * {@code plansAhead} is left false: it matters only to queued steps).
     */
    private static final class Recorder implements AttentionPolicy {
        private final AttentionPolicy inner;
        private final AttentionPlan[] plans;
        private final int kvHeads;
        final int[][][][] rows;
        private int step;

        Recorder(AttentionPolicy inner, int layers, int kvHeads, int steps) {
            this.inner = inner;
            this.plans = new AttentionPlan[layers];
            this.kvHeads = kvHeads;
            this.rows = new int[steps][layers][kvHeads][];
        }

        @Override
        public String name() {
            return inner.name();
        }

        @Override
        public PrefillRequest prefillRequest() {
            return inner.prefillRequest();
        }

        @Override
        public void start(AttentionContext context, PrefillStatistics prefill) {
            inner.start(context, prefill);
        }

        @Override
        public boolean needsQueryBeforePlanning(int s) {
            return inner.needsQueryBeforePlanning(s);
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            AttentionPlan p = inner.plan(at);
            plans[at.layer()] = p;
            return p;
        }

        @Override
        public void observe(LayerObservation observation) {
            inner.observe(observation);
        }

        @Override
        public void endStep(int s, int position, int token) {
            if (step < rows.length) {
                for (int l = 0; l < plans.length; l++) {
                    for (int h = 0; h < kvHeads; h++) {
                        // as StepDiagnostics: a whole-cache read, else the plan's rows, else the policy's
                        // (a compact cache's); null where neither says
                        if (plans[l].readsWholeCache()) {
                            rows[step][l][h] = WHOLE;
                            continue;
                        }
                        int[] read = plans[l].attendedPositions(h, position);
                        read = read != null ? read : inner.compactPositions(l, h);
                        int[] sorted = read == null ? null : read.clone();
                        if (sorted != null) {
                            Arrays.sort(sorted);
                        }
                        rows[step][l][h] = sorted;
                    }
                }
            }
            step++;
            inner.endStep(s, position, token);
        }

        @Override
        public int[] compactPositions(int layer, int kvHead) {
            return inner.compactPositions(layer, kvHead);
        }

        @Override
        public void close() {
            inner.close();
        }
    }
}
