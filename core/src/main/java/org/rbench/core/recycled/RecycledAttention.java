package org.rbench.core.recycled;

import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.AttentionProbabilities;
import org.rbench.core.attention.CompactCache;
import org.rbench.core.attention.CompactPlan;
import org.rbench.core.attention.Decide;
import org.rbench.core.attention.LayerObservation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Recycled Attention (Xu, Goyal, Choi 2024) / RefreshKV: full steps attend the whole
 * cache and refresh Cp, a per-layer compact cache of the top-K positions per KV head;
 * recycled steps attend Cp only, so the bytes they read are K rows, not the context.
 *
 * <p>Steps are counted as in the paper: step 0 is the token the prefill produced (a full
 * step: the prefill attended everything and initialised Cp from the last prompt token's
 * attention); decode step {@code s} of the engine is step {@code s + 1} here.
 * When Cp has no free slot (GROW past its capacity, or EVICT with every refreshed entry
 * gone) the layer does a full step instead, which refreshes Cp.
 */
public final class RecycledAttention implements AttentionPolicy {
    /**
     * Everything that defines a Recycled Attention run: {@code selection} is how Cp is scored and
     * chosen; {@code writes} whether a recycled step writes its token into the full cache at once
     * or leaves that to the next full step (the logits are the same); {@code start} where the first
     * Cp is chosen: on the host from the prefill's last attention row read back (a copy on the
     * CPU), or on the device from its last query (no read-back of heads x context floats a layer;
     * AUTO: on a GPU). Both choose the same rows.
     */
    public record Config(TopRows selection, Schedule schedule, String scheduleLabel, RecycledCache.Update update, int capacity,
                         Decide decide, Writes writes, Decide start, CpLayout cp) {
        public Config(TopRows selection, Schedule schedule, String scheduleLabel, RecycledCache.Update update, int capacity) {
            this(selection, schedule, scheduleLabel, update, capacity, Decide.HOST, Writes.DEFERRED, Decide.AUTO, CpLayout.COPY);
        }

        /** This configuration with its first Cp chosen {@code where}. */
        public Config withStart(Decide where) {
            return new Config(selection, schedule, scheduleLabel, update, capacity, decide, writes, where, cp);
        }

        public int k() {
            return selection.k();
        }
    }

    /**
     * When a recycled step's token reaches the full cache ({@code writes=} in a method spec).
     * DEFERRED (the default): it stays in Cp's compact cache, where the step attends it, and the
     * engine copies the steps' tokens into the full cache before the next step that reads it
     * ({@link org.rbench.core.attention.AttentionPlan#deferredWrite}); a recycled step then
     * writes one cache, as a step of full attention does. DIRECT: each step writes both.
     */
    public enum Writes { DEFERRED, DIRECT }

    /**
     * What Cp holds ({@code cp=} in a method spec). COPY (the default): copies of the selected rows in compact
     * caches, one stack of every layer's ({@link CompactCache.Stack}), which a refresh gathers out of the full cache
     * with one op a kind (2 x 268 MB a refresh at Llama-3.1-8B shapes and K=4096, 0.41 ms on an H100,
     * docs/results/2026-12-06-cuda-h100-refresh-two-gathers.md). INPLACE: their positions only ({@link CpPositions}, no compact
     * caches); a recycled step gathers the rows out of the full cache as it reads them, the new token's K and V
     * written there alone ({@link InPlaceCpPlan}): the same rows in the same order, so the same logits. Where
     * flash attention reads gathered rows in place (the suite's CUDA build: {@link
     * org.rbench.llamacpp.Backend#flashAttentionReadsGatheredRows}) the refresh copies nothing; elsewhere every
     * step pays a real gather. On an H100 at Llama-3.1-8B shapes a recycled step read in place took 0.25 ms more,
     * against a refresh's copy that costs less than that over S=50 steps, so COPY is the default
     * (docs/results/2026-12-05-cuda-h100-gathered-rows.md).
     * Not with {@code recycled-dynamic}'s checks on the device, which write a refresh they do not keep to copies
     * in spare rows.
     */
    public enum CpLayout { COPY, INPLACE }

    private final Config config;
    private final String name;
    private final RefreshPlan refresh;
    private RecycledCache[] cps;
    /** Copied Cp ({@link CpLayout#COPY}): every layer's compact cache, in one stack; else null. */
    private CompactCache.Stack stack;
    /** Whether Cp's rows are read where the full cache holds them ({@link CpLayout#INPLACE}; decided at the start). */
    private boolean inPlace;
    /** Read in place: every layer's slot positions (no compact caches then); else null. */
    private CpPositions positions;
    private AttentionContext context;
    private final List<AttentionContext.RowCopy> pending = new ArrayList<>();
    private long recycledLayerSteps;
    private long fullLayerSteps;
    private long deviceRefreshes;
    /** The dynamic schedule's check made in the step graph (decide=device), or null. */
    private DeviceSimilarityCheck deviceCheck;
    /** Whether this run's checks were made on the device (kept when the check is handed back at the close). */
    private boolean checksOnDevice;
    /** The choices of the check step being planned, shared by its layers' plans (null until its first check). */
    private SimilarityCheckPlan.Outcome outcome;
    /** The layers the step being planned checks on the device (counted by their choice at the step's end). */
    private final java.util.BitSet checked = new java.util.BitSet();

    public RecycledAttention(Config config, String name) {
        this(config, name, true);
    }

    /**
     * @param onDevice whether full steps refresh Cp on the device (the default); false sends
     *                 every selection to the host and copies Cp's rows from there (tests hold
     *                 the two to the same Cp and logits)
     */
    RecycledAttention(Config config, String name, boolean onDevice) {
        this.config = config;
        this.name = name;
        // the start and every full step choose Cp with the same selection: on the device, or all on the host
        this.refresh = onDevice ? new RefreshPlan(config.selection(), this::selected, new DeviceCp())
                : new RefreshPlan(config.selection(), this::selected);
    }

    /** Cp refreshed in the step graph: the compact caches it writes, and the bookkeeping the host keeps. */
    private final class DeviceCp implements RefreshPlan.DeviceCp {
        @Override
        public List<CompactCache> caches() {
            if (inPlace) {
                throw new IllegalStateException("Cp read in place keeps positions, no compact caches");
            }
            return stack.layers();
        }

        @Override
        public boolean copiesRows() {
            return !inPlace;
        }

        @Override
        public Tensor positions(int layer) {
            return inPlace ? positions.layer(layer) : stack.layer(layer).positions();
        }

        @Override
        public Tensor positionsOfEveryLayer() {
            return inPlace ? positions.all() : stack.positionsOfEveryLayer();
        }

        @Override
        public CompactCache.Stack stack() {
            return inPlace ? null : stack;
        }

        @Override
        public Object written() {
            return inPlace ? positions : caches();
        }

        @Override
        public void refreshed(int layer, int n, int[][] positionOrdered) {
            deviceRefreshes++;
            Tensor kept = positions(layer);
            // the positions tensor holds capacity + spare rows per KV head; told at the launch, the refresh may still
            // be computing them when someone asks, so the read waits for the backend (a tensor read on CUDA copies on
            // a stream of its own, which does not wait for the step's)
            cps[layer].refreshedOnDevice(n, positionOrdered, () -> {
                context.backend().synchronize();
                return kept.getInts();
            }, (int) kept.ne(0));
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public PrefillRequest prefillRequest() {
        // the device selects Cp from the last token's queries; the host, from its attention read back
        return switch (config.start()) {
            case HOST -> new PrefillRequest(1, false, config.schedule().needsQueries());
            case DEVICE -> new PrefillRequest(0, false, true);
            // the prefill's backend decides: the rows on the CPU, the query on a GPU (PrefillRequest.on)
            case AUTO -> new PrefillRequest(0, false, config.schedule().needsQueries(), 0, 1);
        };
    }

    @Override
    public void start(AttentionContext context, PrefillStatistics prefill) {
        this.context = context;
        int layers = context.hyperParameters().layers();
        int kvHeads = context.hyperParameters().kvHeads();
        cps = new RecycledCache[layers];
        if (config.schedule() instanceof QuerySimilaritySchedule similarity && config.decide().onDevice(context)) {
            deviceCheck = DeviceSimilarityCheck.allocate(context, similarity.threshold());
        }
        checksOnDevice = deviceCheck != null;
        inPlace = config.cp() == CpLayout.INPLACE;
        if (inPlace && deviceCheck != null) {
            throw new IllegalArgumentException("method '" + name + "': cp=inplace with the checks on the device (decide=auto on a"
                    + " GPU): set decide=host, or cp=copy");
        }
        if (inPlace) {
            positions = CpPositions.allocate(context, config.capacity());
        } else {
            // a device check writes a refresh it did not choose to K spare rows past Cp's
            stack = context.newCompactCaches(config.capacity(), deviceCheck != null ? config.k() : 0);
        }
        for (int l = 0; l < layers; l++) {
            cps[l] = new RecycledCache(config.selection(), config.capacity(), config.update(), kvHeads);
        }
        if (config.start().onDevice(context)) {
            startOnDevice(context, prefill);
        } else {
            startOnHost(prefill);
        }
        for (int l = 0; l < layers; l++) {
            if (config.schedule().needsQueries()) {
                float[] query = prefill.lastQuery(l).meanBeforeRope();
                config.schedule().onFullStep(l, query);
                if (deviceCheck != null) {
                    deviceCheck.setReference(l, query);
                }
            }
        }
        flushCopies();
    }

    /**
     * Cp from the prefill's last queries, selected as a refresh step selects ({@link
     * RefreshPlan#selectFromQueries}): on a GPU, instead of reading back the last token's
     * attention (537 MB for Llama-3.1-8B at 131K) and choosing on the host (1.7-1.9 s there). On
     * the CPU the host start is the faster: ggml-cpu pools on one thread, and the prefill has
     * computed the row already.
     */
    private void startOnDevice(AttentionContext context, PrefillStatistics prefill) {
        int layers = cps.length;
        float[][] queries = new float[layers][];
        for (int l = 0; l < layers; l++) {
            if (prefill.lastQuery(l) == null) {
                throw new IllegalStateException("the prefill did not return the last token's query for layer " + l);
            }
            queries[l] = prefill.lastQuery(l).afterRope();
        }
        refresh.selectFromQueries(context, queries, prefill.promptEnd());
    }

    /**
     * Cp from the prefill's last attention row read back, selected on the host, the layers in
     * parallel: the CPU's start, and the reference the tests hold the device's to.
     */
    private void startOnHost(PrefillStatistics prefill) {
        int layers = cps.length;
        AttentionProbabilities[] last = new AttentionProbabilities[layers];
        for (int l = 0; l < layers; l++) {
            last[l] = prefill.lastRows(l);
            if (last[l] == null) {
                throw new IllegalStateException("the prefill did not return the last token's attention for layer " + l);
            }
        }
        int[][] slots = new int[layers][];
        java.util.stream.IntStream.range(0, layers).parallel().forEach(l -> slots[l] = cps[l].refresh(lastRow(last[l])));
        for (int l = 0; l < layers; l++) {
            copyInto(l, slots[l]);
        }
    }

    /**
     * The attention row of the newest query (the last row of {@code probs}) of every head, cut
     * to the cache positions that exist (0..query position): the engine may attend a padded
     * number of rows, and pooling would otherwise spread the newest token's score onto masked
     * rows past it.
     */
    private static float[][] lastRow(AttentionProbabilities probs) {
        int heads = probs.heads();
        int q = probs.queries() - 1;
        int valid = probs.firstQueryPosition() + q + 1;
        float[][] rows = new float[heads][];
        for (int h = 0; h < heads; h++) {
            rows[h] = probs.row(h, q, valid);
        }
        return rows;
    }

    /**
     * Queues the copy of a refreshed Cp's rows into the layer's compact cache (run at the step's end); read in
     * place, writes their positions now (head-major {@code slots}, {@link RecycledCache#size} a head; later rows 0,
     * a position every padded read may name).
     */
    private void copyInto(int layer, int[] slots) {
        int size = cps[layer].size();
        if (!inPlace) {
            pending.add(new AttentionContext.RowCopy(layer, slots, size, stack.layer(layer), 0));
            return;
        }
        Tensor kept = positions.layer(layer);
        int stride = (int) kept.ne(0);
        int kvHeads = (int) kept.ne(1);
        int[] all = new int[Math.multiplyExact(stride, kvHeads)];
        for (int h = 0; h < kvHeads; h++) {
            System.arraycopy(slots, h * size, all, h * stride, size);
        }
        kept.setIndices(all, context.cacheCapacity());
    }

    @Override
    public boolean needsQueryBeforePlanning(int step) {
        // Only the check steps of a similarity schedule checked on the host need the query before planning.
        return deviceCheck == null && config.schedule().needsQueries() && config.schedule().isFullStepCandidate(step + 1);
    }

    /** Whether the dynamic schedule's checks run in the step graph (decide=device; after {@link #start}, and after the close). */
    public boolean checksOnDevice() {
        return checksOnDevice;
    }

    /**
     * Planning is host bookkeeping (Cp's slots); a refresh covering the context, a device check and
     * a host-ordered selection read their results after the compute, so the decoder waits for those
     * steps (a refresh past K rows on the device reads nothing: the next step queues behind it).
     */
    @Override
    public boolean plansAhead() {
        return true;
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        int step = at.step() + 1;
        if (at.layer() == 0) {
            // a new step (layer 0 is planned first): nothing left of one that did not end
            checked.clear();
            outcome = null;
        }
        if (deviceCheck != null && config.schedule().isFullStepCandidate(step)) {
            // The new token joins Cp now, as on a recycled step; if the device takes the full step,
            // the refresh resets Cp (RecycledCache.refreshedOnDevice / refreshSelected), append included.
            int[] slots = cps[at.layer()].append(at.position());
            if (slots != null) {
                if (outcome == null) {
                    outcome = new SimilarityCheckPlan.Outcome(deviceCheck);
                }
                checked.set(at.layer()); // counted by its choice at the step's end
                return new SimilarityCheckPlan(at.layer(), refresh, AttentionPlan.compact(stack.layer(at.layer()), slots,
                        cps[at.layer()].size()), deviceCheck, outcome);
            }
            fullLayerSteps++; // Cp has no slot left: a full step, whose query becomes the reference (observe)
            return refresh.withQuery();
        }
        float[] meanQuery = at.query() == null ? null : at.query().meanBeforeRope();
        if (!config.schedule().isFullStep(step, at.layer(), meanQuery)) {
            int[] slots = cps[at.layer()].append(at.position());
            if (slots != null) {
                recycledLayerSteps++;
                // Cp keeps an appended token until the next refresh, which reads the full cache
                if (inPlace) {
                    // its token is read in the full cache, so written there now
                    return new InPlaceCpPlan(positions, at.layer(), slots.clone(), cps[at.layer()].size(), false, false);
                }
                CompactPlan plan = AttentionPlan.compact(stack.layer(at.layer()), slots, cps[at.layer()].size());
                return config.writes() == Writes.DEFERRED ? plan.deferringWrite() : plan;
            }
        }
        fullLayerSteps++;
        // Cp is selected on the device (RefreshPlan): only K + pool positions per KV head come back.
        return config.schedule().needsQueries() ? refresh.withQuery() : refresh;
    }

    /** A full step's selection, from the step's {@link RefreshPlan}: Cp's new rows, copied at the step's end. */
    private void selected(int layer, int[][] rows, int validRows) {
        copyInto(layer, cps[layer].refreshSelected(rows, validRows));
    }

    /** Layer refreshes of Cp that stayed on the device. */
    long deviceRefreshes() {
        return deviceRefreshes;
    }

    /** Whether this run reads Cp's rows where the full cache holds them ({@link CpLayout}; after {@link #start}). */
    boolean cpInPlace() {
        return inPlace;
    }

    @Override
    public void observe(LayerObservation observation) {
        if (config.schedule().needsQueries() && observation.query() != null) {
            float[] query = observation.query().meanBeforeRope();
            config.schedule().onFullStep(observation.layer(), query);
            if (deviceCheck != null) {
                deviceCheck.setReference(observation.layer(), query);
            }
        }
    }

    @Override
    public void endStep(int step, int position, int token) {
        try {
            for (int l = checked.nextSetBit(0); l >= 0; l = checked.nextSetBit(l + 1)) {
                if (outcome.fullStep(l)) {
                    fullLayerSteps++;
                } else {
                    recycledLayerSteps++;
                }
            }
        } finally {
            checked.clear();
        }
        flushCopies();
    }

    private void flushCopies() {
        if (!pending.isEmpty()) {
            context.copyRows(List.copyOf(pending));
            pending.clear();
        }
    }

    /** Layer-steps that attended Cp only, and that attended the whole cache. */
    public long recycledLayerSteps() {
        return recycledLayerSteps;
    }

    public long fullLayerSteps() {
        return fullLayerSteps;
    }

    @Override
    public int[] compactPositions(int layer, int kvHead) {
        RecycledCache cp = cps[layer];
        int[] out = new int[cp.size()];
        for (int slot = 0; slot < out.length; slot++) {
            out[slot] = cp.position(kvHead, slot);
        }
        return out;
    }

    /** Positions KV head h of a layer attends on its next recycled step (diagnostics, tests). */
    public int[] cpRows(int layer, int kvHead) {
        return cps[layer].rows(kvHead);
    }

    @Override
    public void close() {
        // forgotten as they are handed back: a later decode may take them over (ReusableState)
        if (deviceCheck != null) {
            deviceCheck.close();
            deviceCheck = null;
        }
        if (stack != null) {
            stack.close();
            stack = null;
        }
        if (positions != null) {
            positions.close();
            positions = null;
        }
    }

    /**
     * {@code recycled:k=4096,s=50[,version=v2][,pool=7][,reach=3][,gqa=max][,update=evict][,writes=deferred][,start=auto]}:
     * Recycled Attention with a full step every S steps. {@code version} picks the paper
     * version's defaults (v2 = RefreshKV, the default: pool 7, gqa max, update evict; v1: pool
     * 1, gqa first, update grow); explicit parameters override them. Without {@code k} the
     * budget is RefreshKV's default, input length / 8. {@code reach} (beyond the paper, default
     * pool/2) is how far forward a peak's pooling window reaches: a peak at p keeps
     * [p - pool/2, p + reach], still K rows in all.
     */
    public static class Factory implements Strategy {
        static final Set<String> COMMON = Set.of("k", "version", "pool", "reach", "gqa", "update", "writes", "start", "cp");

        @Override
        public String name() {
            return "recycled";
        }

        @Override
        public String description() {
            return "Recycled Attention, fixed schedule: k (default input/8), s=50, version=v2|v1, pool=7 (v1: 1),"
                    + " reach=pool/2 (a peak at p keeps [p - pool/2, p + reach]; beyond the paper),"
                    + " gqa=max|first|mean (v1: first), update=evict|grow (v1: grow), writes=deferred|direct (when a recycled"
                    + " step's token reaches the full cache: at the next full step, or at once; the logits are the same),"
                    + " start=auto|host|device (where the first Cp is chosen: host, from the prefill's last attention row read back;"
                    + " device, from its last query in one graph; auto: device on a GPU; the same rows),"
                    + " cp=copy|inplace (Cp's rows copied into compact caches at a refresh, or only their positions kept and the rows"
                    + " gathered out of the full cache by each recycled step, read in place by the suite's CUDA build: the same"
                    + " logits; inplace refreshes cheaper, its recycled steps cost more)";
        }

        @Override
        public Set<String> parameters() {
            Set<String> p = new HashSet<>(COMMON);
            p.add("s");
            return p;
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            config(spec, 1024, 1);
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            return new RecycledAttention(config(spec, promptTokens, model.layers()), spec.text());
        }

        Config config(MethodSpec spec, int promptTokens, int layers) {
            int stride = spec.positiveInt("s", 50);
            return common(spec, promptTokens, Schedule.fixed(stride), "s=" + stride, stride);
        }

        static Config common(MethodSpec spec, int promptTokens, Schedule schedule, String label, int growRoom) {
            String version = spec.stringParam("version", "v2").toLowerCase(java.util.Locale.ROOT);
            if (!version.equals("v1") && !version.equals("v2")) {
                throw new IllegalArgumentException("method '" + spec.text() + "': version must be v1 or v2, not '" + version + "'");
            }
            boolean v1 = version.equals("v1");
            int k = spec.has("k") ? spec.positiveInt("k", 0) : Math.max(1, promptTokens / 8);
            int pool = spec.intParam("pool", v1 ? 1 : 7);
            if (pool < 1 || pool % 2 == 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': pool must be an odd kernel >= 1, got " + pool);
            }
            int reach = spec.intParam("reach", pool / 2);
            if (reach < 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': reach must be >= 0 positions, got " + reach);
            }
            GqaAggregation gqa = spec.enumParam("gqa", GqaAggregation.class, v1 ? GqaAggregation.FIRST : GqaAggregation.MAX);
            if (gqa == GqaAggregation.SUM) {
                throw new IllegalArgumentException("method '" + spec.text() + "': gqa must be first, mean or max");
            }
            RecycledCache.Update update = spec.enumParam("update", RecycledCache.Update.class,
                    v1 ? RecycledCache.Update.GROW : RecycledCache.Update.EVICT);
            int capacity = update == RecycledCache.Update.EVICT ? k : k + growRoom;
            Writes writes = spec.enumParam("writes", Writes.class, Writes.DEFERRED);
            Decide start = spec.enumParam("start", Decide.class, Decide.AUTO);
            CpLayout cp = spec.enumParam("cp", CpLayout.class, CpLayout.COPY);
            return new Config(new TopRows(k, gqa, pool, reach), schedule, label, update, capacity, Decide.HOST, writes, start, cp);
        }
    }

    /**
     * {@code recycled-dynamic:k=4096,qc=5,threshold=0.8}: every QC steps each layer does a
     * full step when its mean query's cosine similarity to its last full step's is at or
     * below the threshold.
     */
    public static final class DynamicFactory extends Factory {
        @Override
        public String name() {
            return "recycled-dynamic";
        }

        @Override
        public String description() {
            return "Recycled Attention, query-similarity schedule: k, qc=5, threshold=0.8, decide=auto|host|device (where the"
                    + " checks run: host, layer by layer with the query read back; device, in the step graph, every layer of a check"
                    + " step computing both reads; auto: device on a GPU), and the version/pool/reach/gqa/update/writes/start/cp options of"
                    + " recycled";
        }

        @Override
        public Set<String> parameters() {
            Set<String> p = new HashSet<>(COMMON);
            p.add("qc");
            p.add("threshold");
            p.add("decide");
            return p;
        }

        @Override
        Config config(MethodSpec spec, int promptTokens, int layers) {
            int qc = spec.positiveInt("qc", 5);
            double threshold = spec.doubleParam("threshold", 0.8);
            QuerySimilaritySchedule schedule = new QuerySimilaritySchedule(qc, threshold, layers);
            Decide decide = spec.enumParam("decide", Decide.class, Decide.AUTO);
            // Between full steps Cp may grow by many tokens under GROW; 512 more slots, then a forced full step.
            Config c = common(spec, promptTokens, schedule, "qc=" + qc + ",threshold=" + threshold, 512);
            if (c.cp() == CpLayout.INPLACE && decide == Decide.DEVICE) {
                throw new IllegalArgumentException("method '" + spec.text() + "': cp=inplace takes decide=host or auto (a device"
                        + " check writes a refresh it does not keep to copies in spare rows)");
            }
            return new Config(c.selection(), c.schedule(), c.scheduleLabel(), c.update(), c.capacity(), decide, c.writes(), c.start(),
                    c.cp());
        }
    }
}
