package org.rbench.core.recycled;

import org.rbench.core.attention.ScoreSelection;
import org.rbench.llamacpp.GgmlContext;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.function.Consumer;

/**
 * The device side of {@link TopRows} as graph ops: from a decode step's attention
 * probabilities {@code [rows, 1, heads]} (rows past the new token are padding), the scores
 * per KV head (the query-head group aggregated, then max-pooled along positions; padding
 * never raises a valid row's maximum), masked past the positions that exist; the first
 * {@code m} candidates per KV head (ggml_top_k) and their scores, sorted by descending score
 * for the host ({@link #select}) or put in Cp's slot order on the device ({@link #slots}). Mirrors
 * RecycledCache#refresh, whose host arithmetic gives the same floats for FIRST and MAX
 * (MEAN/SUM rank alike; the device averages).
 *
 * <p>Every layer's scores of a step are selected together, in one {@link Batch}: a selection
 * needs no layer's result before the step ends, and one op over all rows fills the device
 * where an op per layer (8 rows of 131K for Llama-3.1-8B) leaves most of it idle and pays
 * its fixed cost 32 times. On the GPU that was most of a full step's selection time.
 *
 * <p>Kept apart from the step graph so that {@link org.rbench.core.bench.SelectionBenchmark} times
 * exactly the ops a full step runs.
 */
public final class TopRowsSelection {
    /**
     * The candidates of every row of a batch, {@code [1, m, rowsOfScores]} I32 ({@link #select}'s by
     * descending score, {@link #candidates}' in no particular order), and their scores, {@code [1, m,
     * rowsOfScores]} F32.
     */
    public record Result(Tensor positions, Tensor scores) {
    }

    /**
     * The candidates read back after the compute: every sorted row's first {@code perRow}
     * positions by descending score, row after row, and their scores.
     */
    public record Candidates(int[] positions, float[] scores, int perRow) {
        public static Candidates read(Tensor positions, Tensor scores, int perRow) {
            return new Candidates(positions.getInts(), scores.getFloats(), perRow);
        }

        /** Row {@code row}'s first {@code count} candidates with ties put in position order, cut to k. */
        public int[] ordered(int row, int count, int k) {
            return ScoreSelection.orderTies(positions, scores, row * perRow, count, k);
        }
    }

    private TopRowsSelection() {
    }

    /**
     * Scores per KV head, {@code [rows, kvHeads]} F32: aggregated over each KV head's query
     * group, max-pooled along positions over the request's window, plus {@code mask} (F16 or
     * F32, {@code rows} long, 0 or -inf; null for none) so that padding sorts last: a view of
     * the valid rows would change the graph's shape at every step. The group is aggregated
     * first and the window pooled after, as two ops: one pool over the window x group rectangle
     * gives the same maxima but reads each score window x group times (twice the time of the two
     * on the CPU, whose pooling runs on one thread: {@code rbench bench-select}).
     */
    public static Tensor scores(GgmlContext ctx, Tensor probs, Tensor mask, TopRows request, int heads, int kvHeads) {
        Tensor pooled = pool(ctx, aggregated(ctx, probs, request, heads, kvHeads), request.back(), request.reach());
        return mask == null ? pooled : masked(ctx, pooled, mask);
    }

    /**
     * {@link #scores} before the window's pooling and the mask: each KV head's query group
     * aggregated, {@code [rows, kvHeads]} F32 (a view of {@code probs} for one query head a KV
     * head). A {@link Batch} of these pools every layer's at once ({@link Batch#select(int, Method,
     * Tensor, TopRows)}).
     */
    public static Tensor aggregated(GgmlContext ctx, Tensor probs, TopRows request, int heads, int kvHeads) {
        int group = heads / kvHeads;
        long rows = probs.ne(0);
        Tensor plane = ctx.reshape(probs, rows, heads);
        return switch (request.aggregation()) {
            case FIRST -> group == 1 ? plane
                    : ctx.cont(ctx.view(plane, new long[] {rows, kvHeads}, new long[] {plane.nb(1) * group}, 0));
            case MAX -> group == 1 ? plane : ctx.pool2d(plane, GgmlContext.POOL_MAX, 1, group, 1, group, 0, 0);
            case MEAN, SUM -> group == 1 ? plane : ctx.pool2d(plane, GgmlContext.POOL_AVG, 1, group, 1, group, 0, 0);
        };
    }

    /** {@code scores} {@code [rows, columns]} plus {@code mask} ({@code rows} long, F16 or F32) on every column. */
    static Tensor masked(GgmlContext ctx, Tensor scores, Tensor mask) {
        Tensor m32 = mask.type() == GgmlType.F32 ? mask : ctx.cast(mask, GgmlType.F32);
        return ctx.add(scores, ctx.reshape(m32, scores.ne(0), 1));
    }

    /**
     * {@link #masked} where {@code mask} is 0 outside its last {@code tail} rows: only those rows of every
     * column take it, added in {@code scores}' own memory (contiguous F32 {@code [rows, columns]}, made for
     * this selection and read by nothing before it) by a node handed to {@code expand}, which must add it to
     * the graph before anything reads {@code scores}. At 131K rows x 256 columns the whole add read and wrote
     * 134 MB of a refresh's scores (0.14 ms on an H100) to change at most a padding block of each column.
     * Returns {@code scores}.
     */
    static Tensor maskedTail(GgmlContext ctx, Tensor scores, Tensor mask, int tail, Consumer<Tensor> expand) {
        long rows = scores.ne(0);
        if (tail < 1 || tail > rows || mask.elements() != rows || !scores.isContiguous() || scores.type() != GgmlType.F32) {
            throw new IllegalArgumentException("a mask's tail of " + tail + " rows over contiguous F32 scores of " + rows
                    + " rows and a mask as long, not " + scores + " and " + mask);
        }
        Tensor tailMask = ctx.view(mask, new long[] {tail}, new long[0], (rows - tail) * mask.nb(0));
        Tensor m32 = mask.type() == GgmlType.F32 ? tailMask : ctx.cast(tailMask, GgmlType.F32);
        Tensor tailScores = ctx.view(scores, new long[] {tail, scores.ne(1)}, new long[] {scores.nb(1)},
                (rows - tail) * scores.nb(0));
        expand.accept(ctx.addInPlace(tailScores, ctx.reshape(m32, tail, 1)));
        return scores;
    }

    /**
     * Max pooling of each column of {@code plane} ({@code [rows, columns]}, contiguous) so that
     * row i gets the maximum of rows [i - forward, i + back], as ScoreSelection#maxPool(scores,
     * back, forward). ggml pools symmetrically padded windows: a window as long as ours, padded
     * by the longer of the two reaches on both sides, gives {@code rows + |forward - back|}
     * outputs, of which {@code rows} starting at {@code max(back, forward) - forward} are ours
     * (positions outside the input are skipped by the max, not read as zeros).
     */
    static Tensor pool(GgmlContext ctx, Tensor plane, int back, int forward) {
        int window = back + 1 + forward;
        if (window == 1) {
            return plane;
        }
        int padding = Math.max(back, forward);
        Tensor pooled = ctx.pool2d(plane, GgmlContext.POOL_MAX, window, 1, 1, 1, padding, 0);
        if (back == forward) {
            return pooled;
        }
        long rows = plane.ne(0);
        long skip = padding - forward;
        return ctx.cont(ctx.view(pooled, new long[] {rows, pooled.ne(1)}, new long[] {pooled.nb(1)}, skip * pooled.nb(0)));
    }

    /**
     * Score rows of several layers side by side, {@code [rows, kvHeads * layers]}, selected in
     * one op ({@link Method}): ggml-cpu partially sorts rows in parallel over its threads;
     * ggml-cuda runs a radix select over all rows at once (the suite's build, native/patches).
     */
    public static final class Batch {
        private final GgmlContext ctx;
        private final Consumer<Tensor> expand;
        private final Tensor all;
        private final int kvHeads;
        private final int layers;
        private int added;
        /** Rows at the end of every column outside which the selection's mask is 0 (0: anywhere), and the graph's expand. */
        private int maskTail;
        private Consumer<Tensor> maskExpand;

        /**
         * {@code expand} adds a node to the graph being built: the copies into the batch
         * are read by nothing but the sort, so they are expanded as they are made, before it.
         */
        public Batch(GgmlContext ctx, Consumer<Tensor> expand, long rows, int kvHeads, int layers) {
            if (layers < 1) {
                throw new IllegalArgumentException("a batch of top-row selections needs at least one layer");
            }
            this.ctx = ctx;
            this.expand = expand;
            this.kvHeads = kvHeads;
            this.layers = layers;
            this.all = ctx.newTensor(GgmlType.F32, rows, (long) kvHeads * layers).name("top_row_scores_all");
        }

        /**
         * A full batch of {@code layers} layers' scores already side by side, {@code all} F32 {@code [rows,
         * kvHeads * layers]} (layer l's KV heads in columns {@code l * kvHeads ...}): made in one op for
         * every layer, where {@link #add} copies each layer's into its slot.
         */
        public static Batch of(GgmlContext ctx, Tensor all, int kvHeads, int layers) {
            if (all.type() != GgmlType.F32 || all.ne(1) != (long) kvHeads * layers || !all.isContiguous()) {
                throw new IllegalArgumentException("a batch of " + layers + " layers' scores is contiguous F32 [rows, "
                        + (long) kvHeads * layers + "], not [" + all.ne(0) + ", " + all.ne(1) + "] " + all.type());
            }
            return new Batch(ctx, all, kvHeads, layers);
        }

        private Batch(GgmlContext ctx, Tensor all, int kvHeads, int layers) {
            this.ctx = ctx;
            this.expand = null; // full: add refuses before it would expand anything
            this.all = all;
            this.kvHeads = kvHeads;
            this.layers = layers;
            this.added = layers;
        }

        /**
         * The selection's mask is 0 outside the last {@code tail} rows ({@link
         * org.rbench.core.attention.PlanGraph#causalMaskTail}): once the batch's window pooling has made
         * scores of its own, only those rows take the mask, in place, by a node handed to {@code expand}
         * ({@link #maskedTail}). Returns this batch.
         */
        public Batch maskOnlyTail(int tail, Consumer<Tensor> expand) {
            if (tail < 1) {
                throw new IllegalArgumentException("a mask's tail is at least one row, not " + tail);
            }
            this.maskTail = tail;
            this.maskExpand = java.util.Objects.requireNonNull(expand, "expand");
            return this;
        }

        /** Copies one layer's scores {@code [rows, kvHeads]} into the next slot; returns that slot. */
        public int add(Tensor scores) {
            if (added == layers) {
                throw new IllegalStateException("the batch holds " + layers + " layers");
            }
            if (scores.ne(0) != all.ne(0) || scores.ne(1) != kvHeads) {
                throw new IllegalArgumentException("scores [" + scores.ne(0) + ", " + scores.ne(1) + "] do not fit a batch of ["
                        + all.ne(0) + ", " + kvHeads + "] per layer");
            }
            Tensor slot = ctx.view(all, new long[] {all.ne(0), kvHeads}, new long[] {all.nb(1)},
                    (long) added * kvHeads * all.nb(1));
            expand.accept(ctx.cpy(scores, slot));
            return added++;
        }

        /** One selection over every added row, {@code how}; the first {@code m} positions of each, and their scores. */
        public Result select(int m, Method how) {
            return select(m, how, null);
        }

        /**
         * {@link #select(int, Method)} of the rows plus {@code mask} ({@code rows} long, F16 or F32, 0
         * or -inf; null for none), added once to every layer's scores where a mask per layer is an add
         * (and, for an F16 mask, a cast) a layer.
         */
        public Result select(int m, Method how, Tensor mask) {
            return select(m, how, mask, null);
        }

        /**
         * {@link #select(int, Method, Tensor)} of rows added {@link #aggregated} and max-pooled here
         * over {@code window}'s positions, every layer's in one op (null: the rows are pooled
         * already). Pooling runs per column, so the batch's pooling is each layer's exactly.
         */
        public Result select(int m, Method how, Tensor mask, TopRows window) {
            return TopRowsSelection.select(ctx, scores(mask, window), m, how);
        }

        /** {@link #select(int, Method, Tensor, TopRows)}'s candidates in no particular order ({@link TopRowsSelection#candidates}). */
        public Result candidates(int m, Tensor mask, TopRows window) {
            return TopRowsSelection.candidates(ctx, scores(mask, window), m);
        }

        private Tensor scores(Tensor mask, TopRows window) {
            if (added != layers) {
                throw new IllegalStateException(added + " of the batch's " + layers + " layers were added");
            }
            Tensor scores = window == null ? all : pool(ctx, all, window.back(), window.reach());
            if (mask == null) {
                return scores;
            }
            // in place only in scores the pooling made for this selection, never in the batch's own rows
            boolean tailOnly = maskTail > 0 && maskTail < scores.ne(0) && scores != all;
            return tailOnly ? maskedTail(ctx, scores, mask, maskTail, maskExpand) : masked(ctx, scores, mask);
        }
    }

    /**
     * How the first {@code m} candidates of every row are found; both give the same candidates
     * (ties in any order) and the same result after {@link #slots} or {@link Candidates#ordered}.
     * The engine selects with {@link #TOP_K}; {@code rbench bench-select} times both.
     */
    public enum Method {
        /**
         * ggml_top_k, then a sort of the m found: linear in the row length. A partial sort on the
         * CPU, O(rows log m) per row over its threads, where a full sort of a 131K-row context was
         * most of a refresh step; on CUDA a radix select over every row at once
         * (native/patches/ggml-cuda-radix-top-k.diff: stock ggml-cuda with CUDA 13.0's CUB sorts
         * every row whole here, 8.9 ms for 32 layers x 8 KV heads of 131K scores on an H200).
         */
        TOP_K,
        /**
         * One argsort of every row, cut to its first m: on CUDA one segmented sort of all rows at
         * once (4.7 ms for the rows above), the faster of the two with stock ggml-cuda.
         */
        SORT
    }

    /**
     * Cp's slots for every selected row, chosen on the device exactly as the host chooses them
     * ({@link RecycledCache#refreshSelected} of {@link ScoreSelection#topKByScore}): the first
     * {@code n} candidates by descending score with ties in position order, or, where those are
     * the positions 0..n-1, the positions in order. {@code positions} I32 {@code [n, rows]} is
     * what the slots hold; {@code positionOrder} F32 {@code [1, rows]} is 1 for a row whose slots
     * are in position order (0 else), and {@code byScore} I32 {@code [n, rows]} the positions by
     * score (what the host needs of such a row to know which slot to evict first).
     */
    public record Slots(Tensor positions, Tensor positionOrder, Tensor byScore) {
    }

    /**
     * Candidates per row up to which {@link #slots} orders on the device: its sort key, tie group
     * x m + rank in position order, centred on 0, must be an exact F32 integer (|key| <= 2^24).
     */
    public static final int MOST_ORDERED_ON_DEVICE = 5792;

    /**
     * {@link Slots} from {@code candidates}, {@code m} per row in any order ({@link #candidates}'s, or
     * {@link #select}'s). Three sorts of m per row order them by descending score with ties in position
     * order: by position (a candidate's index is then its rank by position), by score (ties in any
     * order), then by the key tie group x m + rank by position, where the tie group counts the score
     * drops before a candidate (a cumulative sum of 0/1); five gathers of one value a row carry the
     * positions and scores along (stock ggml-cuda gives every gathered row a thread block; the suite's
     * build packs short rows: native/patches/ggml-cuda-short-rows.diff). Equal with the host as long as the tie run at rank n is complete
     * among the candidates ({@link TopRows#candidates}), and as long as distinct scores differ by more
     * than a device that flushes subnormal floats to zero ignores (scores below about 1e-31).
     */
    public static Slots slots(GgmlContext ctx, Result candidates, int n) {
        return slots(ctx, candidates, n, TieOrder.THREE_SORTS);
    }

    /**
     * How {@link #slots} puts tied candidates in position order: what the backend's sorts and top_k allow.
     */
    public enum TieOrder {
        /** Any backend: by position, by descending score, then by tie group and rank by position. */
        THREE_SORTS,
        /**
         * The backend's argsort keeps equal keys in their order for rows of the candidates' length ({@link
         * org.rbench.llamacpp.Backend#stableArgsortFrom}): by position, then by descending score, ties keeping the
         * position order the first sort gave them. The third sort and the tie groups' dozen small ops go (0.47 to 0.29
         * ms of a refresh at Llama-3.1-8B shapes and K=4096 on an H100, docs/results/2026-12-06-cuda-h100-refresh-two-gathers.md).
         */
        TWO_STABLE_SORTS,
        /**
         * Besides, the candidates are top_k's of exactly {@code n} a row written in column order ({@link
         * org.rbench.llamacpp.Backend#topKColumnOrderFrom}): those above the cut in ascending position, then those at
         * it, lowest position first, which are the host's choice of the tie at rank n. A stable sort by descending
         * score alone then orders them.
         */
        ONE_STABLE_SORT
    }

    /** {@link #slots(GgmlContext, Result, int)} with ties ordered {@code how} (the backend's guarantees permitting). */
    public static Slots slots(GgmlContext ctx, Result candidates, int n, TieOrder how) {
        Tensor byScore = byScore(ctx, candidates, n, how);
        Tensor byScoreF = ctx.cast(byScore, GgmlType.F32);
        // n distinct positions sum to n(n-1)/2 or more, that exactly when they are 0..n-1: a row's sum is then
        // below 2^24 (n <= MOST_ORDERED_ON_DEVICE), added exactly in F32, and any other row's comes out above
        // n(n-1)/2 + 1 even rounded. (ggml-cuda's max pool over n columns, the largest, takes a thread a row
        // and n loads each, about 0.6 ms for 256 rows of 4,096 on an H100 by an op profile's residue; sum_rows
        // takes a block a row.)
        Tensor sum = ctx.sumRows(byScoreF);                                                        // [1, rows]
        Tensor inOrder = ctx.step(ctx.scaleBias(sum, -1f, (float) ((long) n * (n - 1) / 2 + 1)));
        Tensor offOrder = ctx.sub(byScoreF, ctx.arange(0, n, 1));                                  // position - slot
        Tensor slots = ctx.cast(ctx.sub(byScoreF, ctx.mul(offOrder, inOrder)), GgmlType.I32);
        return new Slots(slots, inOrder, byScore);
    }

    /**
     * The first {@code n} of {@code candidates} by descending score, ties in position order, I32 {@code [n, rows]}:
     * Cp's slots where the refresh selects fewer rows than there are, whose slots are never taken as in position order
     * ({@link RecycledCache#coversContext}); {@link #slots} without its order flags.
     */
    public static Tensor byScore(GgmlContext ctx, Result candidates, int n, TieOrder how) {
        long m = candidates.positions().ne(1);
        long rows = candidates.positions().ne(2);
        if (n < 1 || n > m) {
            throw new IllegalArgumentException("Cp takes 1 to " + m + " candidates per row, not " + n);
        }
        if (m > MOST_ORDERED_ON_DEVICE) {
            throw new IllegalArgumentException(m + " candidates per row: the device orders at most " + MOST_ORDERED_ON_DEVICE);
        }
        Tensor positions = ctx.reshape(candidates.positions(), 1, m, rows);
        Tensor ordered = positions;
        if (how == TieOrder.ONE_STABLE_SORT && m != n) {
            throw new IllegalArgumentException("one sort orders top_k's n candidates in column order, not " + m + " for " + n);
        }
        if (m > 1 && how == TieOrder.ONE_STABLE_SORT) {
            Tensor byScore = ctx.argsort(ctx.reshape(candidates.scores(), m, rows), GgmlContext.SORT_DESC); // ties: by position
            ordered = ctx.getRows(positions, byScore);
        } else if (m > 1) {
            // 1. by position: the index of a candidate is then its rank by position
            Tensor byPosition = ctx.argsort(ctx.cast(ctx.reshape(positions, m, rows), GgmlType.F32), GgmlContext.SORT_ASC);
            Tensor positionsByPosition = ctx.getRows(positions, byPosition);                           // [1, m, rows]
            Tensor scoresByPosition = ctx.getRows(ctx.reshape(candidates.scores(), 1, m, rows), byPosition);
            // 2. by descending score: entry j is the candidate of rank rank[j] by position; a stable sort keeps tied
            // candidates in position order, and that is the order
            Tensor rank = ctx.argsort(ctx.reshape(scoresByPosition, m, rows), GgmlContext.SORT_DESC); // [m, rows]
            if (how == TieOrder.TWO_STABLE_SORTS) {
                ordered = ctx.getRows(positionsByPosition, rank);
            } else {
                // ties in any order: their groups, from where a lower score starts
                Tensor scores = ctx.reshape(ctx.getRows(scoresByPosition, rank), m, rows);
                Tensor before = ctx.cont(ctx.view(scores, new long[] {m - 1, rows}, new long[] {scores.nb(1)}, 0));
                Tensor after = ctx.cont(ctx.view(scores, new long[] {m - 1, rows}, new long[] {scores.nb(1)}, scores.nb(0)));
                Tensor drops = ctx.step(ctx.sub(before, after));                                    // 1 where a lower score starts
                Tensor none = ctx.scale(ctx.cont(ctx.view(drops, new long[] {1, rows}, new long[] {drops.nb(1)}, 0)), 0f);
                Tensor group = ctx.cumsum(ctx.concat(none, drops, 0));                              // [m, rows]: 0, 0, 1, 1, 1, 2 ...
                // 3. sorting (tie group, rank by position) sorts (descending score, position)
                long centre = m / 2;
                Tensor key = ctx.add(ctx.scale(ctx.scaleBias(group, 1f, -centre), m), ctx.cast(rank, GgmlType.F32)); // |key| <= m^2 / 2
                Tensor byKey = ctx.argsort(key, GgmlContext.SORT_ASC);
                ordered = ctx.getRows(positionsByPosition, ctx.reshape(ctx.getRows(ctx.reshape(rank, 1, m, rows), byKey), m, rows));
            }
        }
        return ctx.cont(ctx.view(ctx.reshape(ordered, m, rows), new long[] {n, rows}, new long[] {ordered.nb(2)}, 0));
    }

    /**
     * The first {@code m} positions of every row of {@code scores} by descending score, and their
     * scores, without sorting the rows: ggml_top_k finds each row's {@code m} largest (a partial
     * sort on the CPU, O(rows log m) where a full sort of a 131K-row context was most of a refresh
     * step), and only those {@code m} are sorted. Ties among equal scores come in any order, as
     * from a full sort; the host puts them in position order ({@link Candidates#ordered}).
     */
    public static Result select(GgmlContext ctx, Tensor scores, int m) {
        return select(ctx, scores, m, Method.TOP_K);
    }

    /** {@link #select(GgmlContext, Tensor, int)}, the candidates found {@code how}. */
    public static Result select(GgmlContext ctx, Tensor scores, int m, Method how) {
        long rows = scores.ne(0);
        long count = scores.ne(1);
        if (m < 1 || m > rows) {
            throw new IllegalArgumentException("select 1 to " + rows + " candidates per row, not " + m);
        }
        if (how == Method.SORT) {
            Tensor order = ctx.argsort(scores, GgmlContext.SORT_DESC);
            Tensor first = ctx.cont(ctx.view(order, new long[] {m, count}, new long[] {order.nb(1)}, 0)); // [m, count]
            Tensor topScores = ctx.getRows(ctx.reshape(scores, 1, rows, count), first);              // [1, m, count]
            return new Result(ctx.reshape(first, 1, m, count), topScores);
        }
        Result found = candidates(ctx, scores, m);
        Tensor order = ctx.argsort(ctx.reshape(found.scores(), m, count), GgmlContext.SORT_DESC);
        Tensor positions = ctx.getRows(found.positions(), order);                  // I32 rows keep their type
        return new Result(positions, ctx.getRows(found.scores(), order));
    }

    /**
     * The first {@code m} positions of every row of {@code scores} and their scores, {@code [1, m, count]}
     * each, in no particular order: ggml_top_k and one gather, what {@link #slots} needs ({@link #select}
     * sorts them by score besides).
     */
    public static Result candidates(GgmlContext ctx, Tensor scores, int m) {
        long rows = scores.ne(0);
        long count = scores.ne(1);
        if (m < 1 || m > rows) {
            throw new IllegalArgumentException("select 1 to " + rows + " candidates per row, not " + m);
        }
        Tensor top = ctx.topK(scores, m);                                           // [m, count], unordered
        Tensor topScores = ctx.getRows(ctx.reshape(scores, 1, rows, count), top);   // [1, m, count]
        return new Result(ctx.reshape(top, 1, m, count), topScores);
    }
}
