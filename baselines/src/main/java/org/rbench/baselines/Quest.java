package org.rbench.baselines;

import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.CacheRows;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.ReusableState;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.BackendBuffer;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Quest (mit-han-lab/Quest, its kernel path): the cache is cut into pages of {@code page}
 * tokens aligned to position 0; per page and KV head the element-wise maximum M and minimum
 * m of the (post-RoPE) keys bound what any query can score on the page: U = sum_i
 * max(q_i M_i, q_i m_i) = M . q+ + m . q- (q+ and q- the query's positive and negative
 * parts). Every decode step, in every layer but the first {@code dense}, attends the current
 * (newest) page plus the {@code k / page - 1} other pages of highest U; dense when all pages
 * fit (or {@code k} covers the cached rows). The prefill is full and nothing is evicted.
 *
 * <p>Everything is decided in the step's graph ({@link Plan}): the bounds live on the device
 * ({@link Pages}: per selecting layer one {@code [2 headDim, pages, kvHeads]}, F16 or F32 ({@link Bounds}), M and -m one
 * above the other, so that one pooling makes both, one set_rows writes both and one product
 * scores both); the policy's start computes the prompt's pages' bounds from the cache (max
 * pooling over each page's rows), as the reference does in its prefill (or, when the context
 * first outgrows the budget while decoding, that step does), and a step whose new token starts a page computes the bounds
 * of the page before it, now complete, and writes them with set_rows (the current page is read
 * whole and pages from it on are masked, so a page's bounds are used only once it is complete;
 * the reference updates them with each key, to the same effect); the page scores are one matrix product per
 * KV head, U = [M; -m] . [q+; -q-]; a top-k on the device picks the best pages before the
 * current one (no sort), the current page is put first, and the chosen pages are gathered whole (a page's rows are contiguous
 * in the cache: one gathered row of {@code page x headDim} per page, see {@link Pages#gather}). What the host uploads per step depends only on the
 * position: the current page's index (and the completed one's), and two small masks (the pages
 * that may be chosen, the valid rows of the read).
 *
 * <p>GQA ({@code gqa=}): the reference expands K/V per query head; {@code query} keeps that
 * (each query head picks its own pages; its rows are gathered out of the cache viewed as one
 * row list of all KV heads, so attention sees one K/V head per query head); {@code max}
 * (default) and {@code mean} aggregate the query heads' page scores per KV head, which then
 * reads one set of pages for its group. Which of equal page scores at the cut is chosen is
 * the top-k kernel's choice, not the lower position.
 *
 * <p>Reads, per selecting layer and step ({@link Plan#rows}): {@code (k / page) x page} KV
 * rows per KV head ({@code x group} with {@code gqa=query}: each query head reads its own),
 * rows past the newest token of the current page included (masked); besides rows, the bounds of
 * the complete pages, {@code 2 x pages x headDim x kvHeads} values (2 or 4 bytes each), and once a page the completed page's
 * {@code page} rows once more for its bounds.
 */
public final class Quest implements AttentionPolicy {
    /** The type the page bounds are kept in ({@code bounds=}). */
    public enum Bounds {
        /**
         * F16 on a GPU over an F16 cache, else F32. The maximum and minimum of F16 keys are F16
         * values, so F16 bounds are the same bounds in half the bytes a step scores (the reference
         * keeps them in the model's dtype). The CPU's product with them would round the query to
         * F16 where with F32 bounds it keeps it exact; a GPU's tensor-core product rounds it to TF32
         * or F16 with either.
         */
        AUTO,
        /** F16, as the reference: exact over an F16 cache; on the CPU the score product rounds the query to F16. */
        F16,
        /** F32: exact over any cache, and on the CPU the query kept in F32 in the score product. */
        F32;

        GgmlType type(AttentionContext context) {
            return switch (this) {
                case F16 -> GgmlType.F16;
                case F32 -> GgmlType.F32;
                case AUTO -> context.onGpu() && context.cacheType() == GgmlType.F16 ? GgmlType.F16 : GgmlType.F32;
            };
        }
    }

    private final int budget;
    private final int page;
    private final int dense;
    private final GqaChoice gqa;
    private final Bounds bounds;
    /** Pages a step scores are rounded up to a multiple of this ({@link #scoredPageBlock}); 0: by the backend. */
    private final int scoredPageBlock;
    private final String name;
    private Pages pages;
    /** Whether the device bounds cover every cached page (from the first selecting step on). */
    private boolean boundsReady;
    /**
     * The position of the step the start made the bounds for (every page before its page), -1 when it made none:
     * that step, if its token starts a page, has the page before made already.
     */
    private int startedAt = -1;

    public Quest(int budget, int page, int dense, GqaChoice gqa, Bounds bounds, String name) {
        this(budget, page, dense, gqa, bounds, 0, name);
    }

    /** With the pages a step scores rounded up to a multiple of {@code scoredPageBlock} (tests; 0: by the backend). */
    Quest(int budget, int page, int dense, GqaChoice gqa, Bounds bounds, int scoredPageBlock, String name) {
        if (page <= 0 || budget < page) {
            throw new IllegalArgumentException("Quest needs a page of at least one token and k >= page, got k=" + budget
                    + ", page=" + page);
        }
        if (dense < 0) {
            throw new IllegalArgumentException("dense must be >= 0, got " + dense);
        }
        this.budget = budget;
        this.page = page;
        this.dense = dense;
        this.gqa = gqa;
        this.bounds = java.util.Objects.requireNonNull(bounds, "bounds");
        if (scoredPageBlock < 0 || scoredPageBlock > MOST_SCORED_PAGE_BLOCK) {
            throw new IllegalArgumentException("the scored pages' block must be 0 to " + MOST_SCORED_PAGE_BLOCK + ", got "
                    + scoredPageBlock);
        }
        this.scoredPageBlock = scoredPageBlock;
        this.name = name;
    }

    /**
     * Pages a GPU step scores are rounded up to a multiple of this. ggml-cuda multiplies the bounds by
     * the query in its tensor-core kernel for a few columns (mul_mat_f) only when the bounds have a
     * multiple of 32 pages (64 on AMD's CDNA); otherwise in batched cuBLAS, with the query converted
     * first. The graph's key rows come in blocks of 256, 16 pages of 16, so half of all lengths took
     * cuBLAS: at 32K on Llama-3.1-8B shapes Quest was slower than full attention there. The pages
     * past the current one are masked, so the choice is the same. The CPU scores the pages it
     * reaches ({@code 1}).
     */
    static final int GPU_SCORED_PAGE_BLOCK = 64;

    /** The largest block {@code RBENCH_QUEST_SCORED_PAGE_BLOCK} may set (a block's padding is allocated on every layer). */
    static final int MOST_SCORED_PAGE_BLOCK = 4096;

    /**
     * {@link #GPU_SCORED_PAGE_BLOCK} on a GPU, else 1; {@code RBENCH_QUEST_SCORED_PAGE_BLOCK=N} (or
     * {@code -Drbench.questScoredPageBlock=N}) sets it on any backend, for A/Bs.
     */
    static int defaultScoredPageBlock(boolean onGpu) {
        String setting = System.getProperty("rbench.questScoredPageBlock", System.getenv("RBENCH_QUEST_SCORED_PAGE_BLOCK"));
        if (setting != null && !setting.isBlank()) {
            try {
                int block = Integer.parseInt(setting.trim());
                if (block >= 1 && block <= MOST_SCORED_PAGE_BLOCK) {
                    return block;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("RBENCH_QUEST_SCORED_PAGE_BLOCK must be a whole number from 1 to "
                    + MOST_SCORED_PAGE_BLOCK + ", not '" + setting + "'");
        }
        return onGpu ? GPU_SCORED_PAGE_BLOCK : 1;
    }

    /**
     * Pages a step whose graph has {@code keyRows} key rows scores: those the rows reach, rounded
     * up to a multiple of {@code block}, at most the {@code boundPages} the bounds hold (the cache's
     * pages rounded up to whole blocks, {@link #boundPages}).
     */
    static int scoredPages(int keyRows, int page, int boundPages, int block) {
        int reached = Math.toIntExact(((long) keyRows + page - 1) / page);
        return Math.min(boundPages, boundPages(reached, block));
    }

    /**
     * Pages the bounds hold for a cache of {@code pageCount} pages: whole blocks of {@code block},
     * so that a step near the cache's end scores a multiple of the block too (the pages past the
     * cache are masked as every page from the current one on).
     */
    static int boundPages(int pageCount, int block) {
        return Math.toIntExact(((long) pageCount + block - 1) / block * block);
    }

    @Override
    public String name() {
        return name;
    }

    /** Pages a step reads in a selecting layer: the current one and {@code k / page - 1} others. */
    public int pagesRead() {
        return budget / page;
    }

    /** Whether a step whose new token is at {@code position} selects pages (else every layer is full). */
    public boolean selects(int position) {
        return budget < position + 1 && position / page + 1 > pagesRead();
    }

    @Override
    public void start(AttentionContext context, PrefillStatistics prefill) {
        HyperParameters hp = context.hyperParameters();
        if (dense >= hp.layers()) {
            throw new IllegalArgumentException(name + ": dense=" + dense + " leaves no layer of a " + hp.layers()
                    + "-layer model to select pages in");
        }
        boundsReady = false; // a run's first selecting step computes every page's bounds
        startedAt = -1;
        if (selects(context.cacheCapacity() - 1)) {
            int capacity = context.cacheCapacity();
            GgmlType type = bounds.type(context);
            int block = scoredPageBlock > 0 ? scoredPageBlock : defaultScoredPageBlock(context.onGpu());
            pages = context.reuse(List.of(Pages.class, dense, capacity, page, gqa, type, block), Pages.class,
                    () -> new Pages(context.backend(), hp, dense, capacity, page, gqa, type, block));
            if (selects(context.position())) {
                // the bounds of the prompt's pages now, as the reference makes them in its prefill:
                // reports count a policy's start with the prefill (Decoder.startNanos), not with the steps
                startBounds(context, hp);
                boundsReady = true;
                startedAt = context.position();
            }
        }
    }

    /** Pages a piece of the start makes the bounds of; 0: by {@link #START_CHUNK_BYTES} (tests set fewer). */
    private int startChunk;

    /** Makes the start's bounds {@code pages} pages at a time (tests: several pieces over a small cache). */
    Quest startChunkPages(int pages) {
        if (pages < 1) {
            throw new IllegalArgumentException("a piece of the start makes at least one page's bounds, got " + pages);
        }
        startChunk = pages;
        return this;
    }

    /**
     * Bytes of F32 keys one piece of the start gathers at a time ({@link #startChunkPages}): the start's graph memory
     * is then about twice this (the rows and their negation) whatever the context, where the whole cache at once took
     * about a GB at 131K on Llama-3.1-8B shapes, allocated and freed by every start.
     */
    static final long START_CHUNK_BYTES = 32L << 20;

    /** Pages whose bounds one piece of the start makes: as many as keep its F32 rows within {@link #START_CHUNK_BYTES}. */
    static int startChunkPages(int page, int headDim, int kvHeads) {
        long pageBytes = 4L * page * headDim * kvHeads;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, START_CHUNK_BYTES / pageBytes));
    }

    /**
     * Every page's bounds up to the one the next token goes in, from the cache (the later pages
     * get theirs as they complete; pages from the current on are masked until then), a chunk of
     * pages at a time ({@link #startChunkPages}) so that the graph's memory stays small.
     */
    private void startBounds(AttentionContext context, HyperParameters hp) {
        int kvHeads = hp.kvHeads();
        int scored = Math.min(pages.pageCount(), context.position() / page + 1);
        int chunk = startChunk > 0 ? startChunk : startChunkPages(page, hp.headDim(), kvHeads);
        int chunks = (scored + chunk - 1) / chunk;
        Pages p = pages;
        context.computeOverCache((ctx, keys, values, expand) -> {
            Tensor[] rows = new Tensor[chunks]; // each chunk's rows per KV head, the same for every layer
            for (int c = 0; c < chunks; c++) {
                int first = c * chunk;
                rows[c] = p.rowsOfPages(ctx, first, Math.min(chunk, scored - first));
            }
            for (int l = dense; l < hp.layers(); l++) {
                for (int c = 0; c < chunks; c++) {
                    int first = c * chunk;
                    Tensor target = Plan.pageRange(ctx, p.bounds(l), first, Math.min(chunk, scored - first));
                    expand.accept(ctx.cpy(pageBounds(ctx, ctx.getRows(keys.apply(l), rows[c]), page), target));
                }
            }
        }, 12 * chunks * hp.layers());
    }

    @Override
    public boolean plansAhead() {
        return true; // pages are chosen in the step graph; planning is the position's arithmetic
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        if (at.layer() < dense || !selects(at.position())) {
            return AttentionPlan.full();
        }
        // a page's bounds are made once it is complete: pages from the current on are never scored (the start made
        // those of every page before its first step's)
        boolean completes = boundsReady && at.position() % page == 0 && at.position() != startedAt;
        return new Plan(pages, at.layer(), pagesRead(), !boundsReady, completes, false, false);
    }

    @Override
    public void endStep(int step, int position, int token) {
        if (selects(position)) {
            boundsReady = true; // this step's graph computed every page's bounds
        }
    }

    /** The device state (null before {@link #start} or when the context never exceeds the budget). */
    Pages pages() {
        return pages;
    }

    @Override
    public void close() {
        if (pages != null) {
            pages.close();
            pages = null;
        }
    }

    // ---- graph pieces (package-private for tests on hand-made tensors) ----

    /**
     * Each page's bounds from {@code keys} F32 {@code [headDim, n * page, kvHeads]} (n pages in a
     * row): {@code [2 headDim, n, kvHeads]}, the element-wise maximum M above the negated minimum
     * -m: the two poolings first and their small results stacked, the fewest bytes over many pages
     * (the start's, the whole cache; a step's completed page: {@link #completedPageBounds}).
     */
    static Tensor pageBounds(GgmlContext ctx, Tensor keys, int page) {
        Tensor negated = ctx.scale(keys, -1f);
        Tensor max = ctx.pool2d(keys, GgmlContext.POOL_MAX, 1, page, 1, page, 0, 0);
        Tensor negatedMin = ctx.pool2d(negated, GgmlContext.POOL_MAX, 1, page, 1, page, 0, 0);
        return ctx.concat(max, negatedMin, 0);
    }

    /**
     * One page's bounds, M above -m ({@code [2 headDim, 1, kvHeads]}, as {@link #pageBounds} makes them), from its
     * {@code page} rows gathered each twice ({@code rowsTwice} F32 {@code [headDim, 2 page, kvHeads]}: a row, then
     * the same row again): the product by {@code signs}' first head ({@code [headDim, 2]}, +1 above -1, exact)
     * stacks each row on its negation, and one max pooling over the page takes both bounds. Two nodes after the
     * gather, where negating, stacking and pooling took three.
     */
    static Tensor completedPageBounds(GgmlContext ctx, Tensor rowsTwice, Tensor signs, int page) {
        long headDim = rowsTwice.ne(0);
        long kvHeads = rowsTwice.ne(2);
        if (rowsTwice.ne(1) != 2L * page || signs.ne(0) != headDim || signs.ne(1) != 2) {
            throw new IllegalArgumentException("a completed page's bounds take its " + page + " rows each twice ["
                    + headDim + ", " + 2L * page + ", kvHeads] and signs [" + headDim + ", 2, heads], got "
                    + rowsTwice + " and " + signs);
        }
        Tensor firstHeadSigns = ctx.view(signs, new long[] {headDim, 2}, new long[] {signs.nb(1)}, 0);
        Tensor stacked = ctx.mul(ctx.reshape(rowsTwice, headDim, 2, page, kvHeads), firstHeadSigns);
        return ctx.pool2d(ctx.reshape(stacked, 2 * headDim, page, kvHeads), GgmlContext.POOL_MAX, 1, page, 1, page, 0, 0);
    }

    /**
     * Page scores U = sum_i max(q_i M_i, q_i m_i) of the query {@code q} ({@code headDim x heads}
     * contiguous; query head h reads KV head h / (heads / kvHeads)) against {@code bounds}
     * {@code [2 headDim, pages, kvHeads]} (M above -m, {@link #pageBounds}): {@code [pages,
     * kvHeads]} F32 aggregated over each KV head's query heads (max or mean), or {@code [pages,
     * heads]} per query head. One product: U = M . q+ + (-m) . (-q-), q+ and -q- the positive
     * parts of q and of -q. {@code signs} F32 {@code [headDim, 2, heads]} holds +1 above -1 for
     * every head ({@link #querySigns}).
     */
    static Tensor pageScores(GgmlContext ctx, Tensor bounds, Tensor q, Tensor signs, int kvHeads, GqaChoice gqa) {
        long headDim = bounds.ne(0) / 2;
        long pageCount = bounds.ne(1);
        int heads = Math.toIntExact(q.elements() / headDim);
        int group = heads / kvHeads;
        // max(q_i M_i, q_i m_i) is q_i M_i for q_i > 0 and (-q_i)(-m_i) otherwise (M >= m): q stacked on -q,
        // each part's positive entries kept, is q+ above -q-. The signs times q broadcast over their middle
        // axis stack it in one node (exact: a product by +-1), where a negation and a concat took two.
        Tensor stacked = ctx.relu(ctx.mul(signs, ctx.reshape(q, headDim, 1, heads))); // [headDim, 2, heads]
        Tensor scores = ctx.mulMat(bounds, ctx.reshape(stacked, 2 * headDim, group, kvHeads)); // [pages, group, kvHeads]
        ctx.setMulMatPrecision(scores, GgmlContext.PREC_F32);
        return gqa.perChooser(ctx, ctx.reshape(scores, pageCount, heads), group);
    }

    /** +1 above -1 for each of {@code heads} heads: F32 {@code [headDim, 2, heads]} ({@link #pageScores}). */
    static float[] querySigns(int headDim, int heads) {
        float[] signs = new float[2 * headDim * heads];
        for (int h = 0; h < heads; h++) {
            Arrays.fill(signs, 2 * h * headDim, (2 * h + 1) * headDim, 1f);
            Arrays.fill(signs, (2 * h + 1) * headDim, (2 * h + 2) * headDim, -1f);
        }
        return signs;
    }

    /**
     * The pages a step reads, per column of {@code scores} {@code [pages, H]}: the current page
     * first ({@code current} I32 {@code [1, H]}), then the {@code count - 1} others of highest
     * score after adding {@code pageMask} F32 {@code [pages, 1]} (-inf from the current page on),
     * in no particular order: I32 {@code [count, H]}. A top-k of every column at once, linear in
     * the pages, not a sort. Which of equal scores at the cut is kept is the kernel's choice.
     */
    static Tensor topPages(GgmlContext ctx, Tensor scores, Tensor pageMask, Tensor current, int count) {
        if (count == 1) {
            return ctx.cont(current); // a tensor of its own: the caller names it per layer
        }
        Tensor others = ctx.topK(ctx.add(scores, pageMask), count - 1);
        return ctx.concat(current, others, 0);
    }

    /**
     * The rows of pages {@code top} I32 {@code [count, H]}, looked up in {@code table} I32
     * {@code [page * tablePages, H]} (column h: the row index of each page row, e.g. its
     * position): I32 {@code [page, count, H]}, page after page.
     */
    static Tensor pageRows(GgmlContext ctx, Tensor table, Tensor top, int page) {
        Tensor byPage = ctx.reshape(table, page, table.ne(0) / page, table.ne(1));
        return ctx.getRows(byPage, top);
    }

    /** 0 for pages before {@code current}, -inf for it and after (it is read anyway, first): {@code pages} long. */
    static float[] pageMask(int pageCount, int current) {
        float[] m = new float[pageCount];
        Arrays.fill(m, Math.max(0, Math.min(current, pageCount)), pageCount, Float.NEGATIVE_INFINITY);
        return m;
    }

    /**
     * Quest's device state: per selecting layer the page bounds, M above -m, F32 or F16 {@code [2 headDim,
     * pages, kvHeads]} (pages = ceil(capacity / page), rounded up to whole blocks of scored pages:
     * {@link Quest#boundPages}); a constant I32 table of page rows
     * {@code [page * pages, kvHeads]} (the row's position, clamped to the cache) from which a
     * page's rows are looked up on the device, and for {@code gqa=query} its flat form
     * {@code [page * pages, heads]} (query head h's rows as indices into the cache viewed as
     * {@code [headDim, capacity * kvHeads]}: (h / group) * capacity + position).
     *
     * <p>The next decode of an equal Quest takes it over ({@link ReusableState}) with the last
     * one's bounds in it: none of them is read, since the start (or the first selecting step)
     * rewrites every page's bounds up to the current page, and the pages after it are masked
     * until they complete and get their own.
     */
    static final class Pages extends ReusableState {
        private final GgmlContext context;
        private final BackendBuffer buffer;
        /** Per selecting layer, M above -m: F32 or F16 {@code [2 headDim, pages, kvHeads]}. */
        private final Tensor[] bounds;
        private final Tensor rows;
        private final Tensor flatRows;
        /** gqa=query with whole pages: I32 {@code [1, pages, heads]}, query head h's page p as (h / group) * pages + p. */
        private final Tensor flatPages;
        /** {@link #querySigns}: F32 {@code [headDim, 2, heads]}, +1 above -1, that stack a query on its negation. */
        private final Tensor signs;
        /** {@link #rowsTwice(int)}'s array, reused. */
        private final int[] rowsTwice;
        /** Per layer, the pages the last computed step read (I32 [pagesRead, columns]), a tensor of its graph (diagnostics: read after the compute). */
        private final Tensor[] read;
        private final int capacity;
        private final int page;
        private final int pageCount;
        /** A step's scored pages are rounded up to a multiple of this ({@link #GPU_SCORED_PAGE_BLOCK}). */
        private final int scoredBlock;
        /** Pages the bounds and the row table hold: pageCount rounded up to whole scored blocks. */
        private final int boundPages;
        private final int kvHeads;
        private final int heads;
        private final GqaChoice gqa;

        Pages(Backend backend, HyperParameters hp, int dense, int capacity, int page, GqaChoice gqa, GgmlType boundsType,
              int scoredBlock) {
            if (boundsType != GgmlType.F32 && boundsType != GgmlType.F16) {
                throw new IllegalArgumentException("Quest keeps its page bounds in F32 or F16, not " + boundsType);
            }
            this.capacity = capacity;
            this.page = page;
            this.pageCount = (capacity + page - 1) / page;
            this.scoredBlock = scoredBlock;
            this.boundPages = boundPages(pageCount, scoredBlock);
            this.kvHeads = hp.kvHeads();
            this.heads = hp.heads();
            this.gqa = gqa;
            this.rowsTwice = new int[2 * page * kvHeads];
            int layers = hp.layers();
            bounds = new Tensor[layers];
            read = new Tensor[layers];
            context = GgmlContext.forMetadata(layers + 4, 0);
            for (int l = dense; l < layers; l++) {
                bounds[l] = context.newTensor(boundsType, 2L * hp.headDim(), boundPages, kvHeads).name("quest_bounds_" + l);
            }
            long tableRows = (long) page * boundPages;
            rows = context.newTensor(GgmlType.I32, tableRows, kvHeads).name("quest_page_rows");
            flatRows = gqa == GqaChoice.QUERY ? context.newTensor(GgmlType.I32, tableRows, heads).name("quest_page_rows_flat") : null;
            flatPages = gqa == GqaChoice.QUERY && capacity % page == 0
                    ? context.newTensor(GgmlType.I32, 1, capacity / page, heads).name("quest_pages_flat") : null;
            signs = context.newTensor(GgmlType.F32, hp.headDim(), 2, heads).name("quest_query_signs");
            buffer = BackendBuffer.allocate(context, backend);
            try {
                buffer.clear(0);
                signs.setFloats(querySigns(hp.headDim(), heads));
                rows.setInts(table(Math.toIntExact(tableRows), kvHeads, 1, 0));
                if (flatRows != null) {
                    flatRows.setInts(table(Math.toIntExact(tableRows), heads, heads / kvHeads, capacity));
                }
                if (flatPages != null) {
                    int perHead = capacity / page;
                    int[] t = new int[perHead * heads];
                    for (int h = 0; h < heads; h++) {
                        for (int p = 0; p < perHead; p++) {
                            t[h * perHead + p] = (h / (heads / kvHeads)) * perHead + p;
                        }
                    }
                    flatPages.setInts(t);
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /**
         * The rows of page {@code p} for every KV head, each twice in a row ({@code [2 page, kvHeads]}, positions
         * clamped to the cache as the row table's): the gather {@link #completedPageBounds} takes. The array is this
         * state's own, filled again at each call (a completing step copies it into its input at once).
         */
        int[] rowsTwice(int p) {
            if (p < 0 || p >= pageCount) {
                throw new IllegalArgumentException("page " + p + " is not one of the cache's " + pageCount);
            }
            int[] t = rowsTwice;
            for (int h = 0; h < kvHeads; h++) {
                for (int r = 0; r < page; r++) {
                    int position = Math.min(p * page + r, capacity - 1);
                    t[h * 2 * page + 2 * r] = position;
                    t[h * 2 * page + 2 * r + 1] = position;
                }
            }
            return t;
        }

        /** The row table's rows of pages [first, first + n) per KV head: I32 {@code [n page, kvHeads]}, a view. */
        Tensor rowsOfPages(GgmlContext ctx, int first, int n) {
            return ctx.view(rows, new long[] {(long) page * n, kvHeads}, new long[] {rows.nb(1)}, (long) first * page * rows.nb(0));
        }

        /** Column h: row r's position min(r, capacity - 1), plus (h / group) * stride. */
        private int[] table(int tableRows, int columns, int group, int stride) {
            int[] t = new int[tableRows * columns];
            for (int h = 0; h < columns; h++) {
                int offset = (h / group) * stride;
                for (int r = 0; r < tableRows; r++) {
                    t[h * tableRows + r] = offset + Math.min(r, capacity - 1);
                }
            }
            return t;
        }

        int capacity() {
            return capacity;
        }

        int page() {
            return page;
        }

        int pageCount() {
            return pageCount;
        }

        /** Pages a step of {@code keyRows} key rows scores ({@link Quest#scoredPages}). */
        int scored(int keyRows) {
            return scoredPages(keyRows, page, boundPages, scoredBlock);
        }

        /** Layer l's bounds, M above -m (null for a dense layer). */
        Tensor bounds(int layer) {
            return bounds[layer];
        }

        /** The bounds of layer l's first {@code n} pages, read back: [2][kvHeads][n][headDim] (M, m; tests). */
        float[][][][] bounds(int layer, int n) {
            float[][][][] out = new float[2][kvHeads][n][];
            float[] all = bounds[layer].getFloats();
            int headDim = (int) bounds[layer].ne(0) / 2;
            for (int h = 0; h < kvHeads; h++) {
                for (int p = 0; p < n; p++) {
                    int from = (h * boundPages + p) * 2 * headDim;
                    out[0][h][p] = Arrays.copyOfRange(all, from, from + headDim);
                    out[1][h][p] = new float[headDim];
                    for (int i = 0; i < headDim; i++) {
                        out[1][h][p][i] = -all[from + headDim + i]; // stored negated
                    }
                }
            }
            return out;
        }

        /**
         * The pages the last computed step read at layer l, per column (KV head, or query head
         * with {@code gqa=query}): the current page first, the others in no particular order;
         * null before any.
         */
        int[][] pagesRead(int layer) {
            Tensor t = read[layer];
            if (t == null) {
                return null;
            }
            int[] all = t.getInts(); // [pagesRead, columns]: page indices
            int columns = (int) t.ne(1);
            int perColumn = (int) t.ne(0);
            int[][] out = new int[columns][];
            for (int c = 0; c < columns; c++) {
                out[c] = Arrays.copyOfRange(all, c * perColumn, (c + 1) * perColumn);
            }
            return out;
        }

        /** The cache positions KV head h read at layer l in the last computed step (its group's union), ascending. */
        int[] attended(int layer, int h, int position) {
            int[][] byColumn = pagesRead(layer);
            if (byColumn == null) {
                return null;
            }
            int group = heads / kvHeads;
            TreeSet<Integer> out = new TreeSet<>();
            for (int c = 0; c < byColumn.length; c++) {
                if (gqa == GqaChoice.QUERY ? c / group != h : c != h) {
                    continue;
                }
                for (int p : byColumn[c]) {
                    // the current page's rows past the new token are read but masked
                    for (int r = p * page; r < Math.min((p + 1) * page, position + 1); r++) {
                        out.add(r);
                    }
                }
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        /**
         * K and V of the chosen pages {@code top} I32 {@code [count, columns]} (columns: KV heads,
         * or query heads with {@code gqa=query}), page after page: {@code [headDim, count * page,
         * columns]}. A page's rows are contiguous in the cache, so when the capacity is whole pages
         * each page is gathered as one row of {@code page x headDim} elements ({@link CacheRows}:
         * as bytes for a 2-byte cache), a sixteenth of the gather work of row by row at page 16
         * (ggml's get_rows gives every gathered row a thread block); else row by row through the
         * table of page rows.
         */
        Tensor[] gather(GgmlContext ctx, Tensor keys, Tensor values, Tensor top, int count) {
            int columns = (int) top.ne(1);
            Tensor[] out = new Tensor[2];
            Tensor[] caches = {keys, values};
            for (int i = 0; i < 2; i++) {
                Tensor cache = caches[i];
                long headDim = cache.ne(0);
                if (capacity % page == 0) {
                    if (gqa == GqaChoice.QUERY) {
                        // every KV head's pages as one list: query head h reads (h / group) * perHead + page
                        Tensor flat = ctx.reshape(ctx.getRows(flatPages, top), (long) count * columns, 1);
                        Tensor pages = CacheRows.perQueryHead(ctx, CacheRows.byPage(ctx, cache, page), flat, count, columns);
                        out[i] = ctx.reshape(pages, headDim, (long) count * page, columns);
                    } else {
                        out[i] = CacheRows.pages(ctx, cache, top, page);
                    }
                } else {
                    Tensor table = gqa == GqaChoice.QUERY ? flatRows : rows;
                    Tensor indices = ctx.reshape(pageRows(ctx, table, top, page), (long) count * page, columns);
                    out[i] = gqa == GqaChoice.QUERY
                            ? CacheRows.perQueryHead(ctx, cache, ctx.reshape(indices, (long) count * page * columns, 1),
                                    count * page, columns)
                            : CacheRows.gather(ctx, cache, indices);
                }
            }
            return out;
        }

        @Override
        protected void reuse() {
            Arrays.fill(read, null); // what the last decode's steps read
        }

        @Override
        protected void free() {
            buffer.close();
            context.close();
        }
    }

    /**
     * One selecting layer of a step: with {@code init}, compute every page's bounds from the
     * cache; with {@code completes}, those of the page the last token completed (a page's bounds
     * are scored only once it is complete: the current page is always read, and pages from it on
     * are masked); then score the pages and attend the chosen pages' rows, all in the step's graph.
     *
     * @param pagesRead pages attended: the current one and the {@code pagesRead - 1} best others
     * @param init      compute every page's bounds from the cache first (the first selecting step)
     * @param completes the new token starts a page: make the bounds of the page before it
     */
    public record Plan(Pages pages, int layer, int pagesRead, boolean init, boolean completes, boolean probabilities,
                       boolean query) implements AttentionPlan {
        public Plan {
            java.util.Objects.requireNonNull(pages, "pages");
            if (pages.bounds(layer) == null) {
                throw new IllegalArgumentException("layer " + layer + " keeps no page bounds (a dense layer)");
            }
            if (pagesRead < 1) {
                throw new IllegalArgumentException("a Quest step reads at least the current page, got " + pagesRead);
            }
        }

        @Override
        public Plan withProbabilities() {
            return new Plan(pages, layer, pagesRead, init, completes, true, query);
        }

        @Override
        public Plan withQuery() {
            return new Plan(pages, layer, pagesRead, init, completes, probabilities, true);
        }

        /** Rows read per KV head: every chosen page whole (with {@code gqa=query}, once per query head of the group). */
        @Override
        public int rows(int position) {
            int rows = pagesRead * pages.page();
            return pages.gqa == GqaChoice.QUERY ? rows * (pages.heads / pages.kvHeads) : rows;
        }

        /** The complete pages' bounds (M and m, F32 or F16), and a completed page's keys read again for its bounds. */
        @Override
        public long extraBytes(int position, org.rbench.core.model.HyperParameters model,
                               org.rbench.llamacpp.GgmlType cacheType) {
            if (pagesRead == 1) {
                return 0; // only the current page is read: nothing is scored
            }
            // the complete pages' bounds: those the choice needs (the kernel's padding past them is not counted)
            long complete = Math.min(pages.pageCount, position / pages.page());
            long bounds = 2L * complete * model.headDim() * model.kvHeads() * pages.bounds[layer].type().typeSize;
            long completedPage = pages.page() * model.kvRowBytes(cacheType);
            return bounds + (completes ? completedPage : 0);
        }

        @Override
        public void check(PlanCheck at) {
            if (pages.kvHeads != at.model().kvHeads() || pages.heads != at.model().heads()
                    || pages.capacity() != at.cacheCapacity() || pages.bounds(layer).ne(0) != 2L * at.model().headDim()
                    || layer != at.layer()) {
                throw at.fail("Quest bounds for layer " + layer + " and a cache of " + pages.capacity() + " rows");
            }
            if (at.position() / pages.page() + 1 <= pagesRead) {
                throw at.fail("all " + (at.position() / pages.page() + 1) + " pages fit in " + pagesRead
                        + " (plan full attention)");
            }
        }

        @Override
        public Object shape(int position) {
            return List.of(pages, layer, pagesRead, init, completes); // the state by identity: its tensors are the graph's
        }

        @Override
        public int[] attendedPositions(int kvHead, int position) {
            return pages.attended(layer, kvHead, position);
        }

        @Override
        public int extraTensors() {
            return 64;
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            if (g.tokens() != 1) {
                throw new IllegalStateException("Quest selects pages in decode steps (one token), not in a batch of "
                        + g.tokens());
            }
            GgmlContext ctx = g.ctx();
            HyperParameters hp = g.model();
            int kvHeads = hp.kvHeads();
            int page = pages.page();
            // the pages a graph of this many key rows scores (key rows are padded past the new token)
            int scored = pages.scored(g.keyRows());
            Tensor current = g.stepInput("quest_current_page", GgmlType.I32,
                    (t, p) -> t.fillIndex(p / page, pages.pageCount()), 1, kvHeads);
            Tensor bounds;
            if (init) {
                // every page's bounds from the cache's rows, unmasked: the pages from the current one on
                // are never scored before they complete, and then get their own bounds
                Tensor rows = pages.rowsOfPages(ctx, 0, scored);
                bounds = ctx.cpy(pageBounds(ctx, ctx.getRows(g.cacheKeys(), rows), page),
                        leading(ctx, pages.bounds(layer), scored));
            } else if (completes) {
                // the bounds of the page the last token completed, from its rows (all cached), each gathered twice
                // (indices the host uploads once for every layer): four nodes a layer, paid every page
                Tensor completed = g.stepInput("quest_completed_page", GgmlType.I32,
                        (t, p) -> t.fillIndex(p / page - 1, pages.pageCount()), 1, kvHeads);
                Tensor rowsTwice = g.stepInput("quest_completed_rows_twice", GgmlType.I32,
                        (t, p) -> t.setInts(pages.rowsTwice(p / page - 1)), 2L * page, kvHeads);
                Tensor fresh = completedPageBounds(ctx, ctx.getRows(g.cacheKeys(), rowsTwice), pages.signs, page);
                bounds = leading(ctx, ctx.setRows(pages.bounds(layer), fresh, completed), scored);
            } else {
                bounds = leading(ctx, pages.bounds(layer), scored);
            }
            GqaChoice gqa = pages.gqa;
            Tensor scores = pageScores(ctx, bounds, g.query(), pages.signs, kvHeads, gqa);
            Tensor pageMask = g.stepInput("quest_page_mask_" + scored, GgmlType.F32,
                    (t, p) -> t.setFloats(pageMask(scored, p / page)), scored, 1);
            keepForTheTopK(scores, pageMask, gqa);
            int columns = (int) scores.ne(1); // KV heads, or query heads with gqa=query
            Tensor currentColumns = columns == kvHeads ? current : g.stepInput("quest_current_page_" + columns, GgmlType.I32,
                    (t, p) -> t.fillIndex(p / page, pages.pageCount()), 1, columns);
            Tensor top = topPages(ctx, scores, pageMask, currentColumns, pagesRead);
            int rowsRead = pagesRead * page;
            Tensor[] kv = pages.gather(ctx, g.cacheKeys(), g.cacheValues(), top, pagesRead);
            Tensor read = top.name("quest_read_" + layer).output();
            g.whenLaunched((Plan plan, int p) -> plan.pages().read[plan.layer()] = read);
            // the current page comes first: its rows past the new token are masked
            Tensor mask = g.stepInput("quest_read_mask_" + rowsRead, GgmlType.F16, (t, p) -> {
                float[] m = new float[rowsRead];
                Arrays.fill(m, p % page + 1, page, Float.NEGATIVE_INFINITY);
                t.setHalfs(m);
            }, rowsRead, 1);
            return new AttendedRows(kv[0], kv[1], mask);
        }

        /**
         * ggml-cuda runs the GQA max pool, the page mask's add and the top_k as one kernel (or the add and the top_k,
         * where no max pool precedes: native/patches/ggml-cuda-radix-top-k.diff) where the top_k's output cannot lie
         * over what that kernel reads: the product the max pool reads (or the scores) and the mask are kept allocated
         * to the graph's end (outputs), where after their last read their memory could take the top_k's indices. The
         * pool's own output stays an intermediate node, which the fusion asks.
         */
        private static void keepForTheTopK(Tensor scores, Tensor pageMask, GqaChoice gqa) {
            Tensor read = gqa == GqaChoice.MAX && scores.opName().equals("POOL_2D") ? scores.source(0) : scores;
            (read.viewSource() != null ? read.viewSource() : read).output();
            pageMask.output();
        }

        /** Pages [0, n) of a bounds tensor {@code [2 headDim, pages, kvHeads]}. */
        static Tensor leading(GgmlContext ctx, Tensor bounds, int n) {
            return pageRange(ctx, bounds, 0, n);
        }

        /** Pages [first, first + n) of a bounds tensor {@code [2 headDim, pages, kvHeads]}. */
        static Tensor pageRange(GgmlContext ctx, Tensor bounds, int first, int n) {
            return ctx.view(bounds, new long[] {bounds.ne(0), n, bounds.ne(2)}, new long[] {bounds.nb(1), bounds.nb(2)},
                    (long) first * bounds.nb(1));
        }
    }

    /** {@code quest:k=4096,page=16,dense=2,gqa=max|mean|query,bounds=auto|f16|f32}. */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "quest";
        }

        @Override
        public String description() {
            return "Quest: per page of `page` tokens the keys' min/max bound each query's score; attend the current page"
                    + " plus the best k/page - 1 others, in every layer but the first `dense`; k=4096, page=16, dense=2,"
                    + " gqa=max|mean|query (query: pages per query head, as the reference), bounds=auto|f16|f32 (the page"
                    + " bounds' type; auto: f16 on a GPU over an F16 cache, where they are exact, else f32)";
        }

        @Override
        public Set<String> parameters() {
            return Set.of("k", "page", "dense", "gqa", "bounds");
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            int k = spec.positiveInt("k", 4096);
            int page = spec.positiveInt("page", 16);
            if (k < page) {
                throw new IllegalArgumentException("method '" + spec.text() + "': k=" + k + " holds no page of " + page
                        + " tokens (k >= page)");
            }
            if (spec.intParam("dense", 2) < 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': dense must be >= 0");
            }
            spec.enumParam("gqa", GqaChoice.class, GqaChoice.MAX);
            spec.enumParam("bounds", Bounds.class, Bounds.AUTO);
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            validate(spec);
            int dense = spec.intParam("dense", 2);
            if (dense >= model.layers()) {
                throw new IllegalArgumentException("method '" + spec.text() + "': dense=" + dense + " leaves no layer of a "
                        + model.layers() + "-layer model to select pages in");
            }
            return new Quest(spec.positiveInt("k", 4096), spec.positiveInt("page", 16), dense,
                    spec.enumParam("gqa", GqaChoice.class, GqaChoice.MAX), spec.enumParam("bounds", Bounds.class, Bounds.AUTO),
                    spec.text());
        }
    }
}
