package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A ggml context: a memory pool that holds tensor metadata (and, unless {@code noAlloc},
 * tensor data) plus the operator methods that build graphs in it.
 *
 * <p>Every operator checks in Java the preconditions that ggml enforces with
 * GGML_ASSERT, because a failed assert calls abort() and takes the JVM down. A bad shape
 * is therefore an {@link IllegalArgumentException} naming the tensors involved.
 */
public final class GgmlContext implements AutoCloseable {
    public static final int PREC_DEFAULT = 0;
    public static final int PREC_F32 = 10;
    public static final int ROPE_NORMAL = 0;
    public static final int ROPE_NEOX = 2;
    public static final int POOL_MAX = 0;
    public static final int POOL_AVG = 1;
    public static final int SORT_ASC = 0;
    public static final int SORT_DESC = 1;
    /** enum ggml_op value of GGML_OP_MUL_MAT in the pinned release (LayoutCheck verifies it). */
    public static final int OP_MUL_MAT = 29;
    /** GGML_OP_FLASH_ATTN_EXT's value in the pinned ggml.h (the precision setter checks it). */
    public static final int OP_FLASH_ATTN_EXT = 74;

    /** The pool; null once closed (volatile: a tensor's liveness check may read it from another thread). */
    private volatile MemorySegment ctx;
    private final long memSize;
    private final boolean noAlloc;

    private GgmlContext(MemorySegment ctx, long memSize, boolean noAlloc) {
        this.ctx = ctx;
        this.memSize = memSize;
        this.noAlloc = noAlloc;
    }

    /**
     * A context for tensor metadata only ({@code no_alloc}): room for {@code maxTensors}
     * tensors and one graph of {@code graphSize} nodes. Data is allocated later on a
     * backend (weights: {@link BackendBuffer#allocate}; intermediates: {@link GraphAllocator}).
     */
    public static GgmlContext forMetadata(int maxTensors, int graphSize) {
        NativeLibraries.load();
        long size = maxTensors * Ggml.ggml_tensor_overhead()
                + (graphSize > 0 ? Ggml.ggml_graph_overhead_custom(graphSize, false) : 0) + 1024;
        return create(size, true);
    }

    /** A context that also holds tensor data in its own pool (CPU-only scratch work). */
    public static GgmlContext withData(long dataBytes, int maxTensors) {
        NativeLibraries.load();
        return create(dataBytes + maxTensors * (Ggml.ggml_tensor_overhead() + 64) + 1024, false);
    }

    private static GgmlContext create(long memSize, boolean noAlloc) {
        if (memSize <= 0) {
            throw new IllegalArgumentException("memory size must be positive: " + memSize);
        }
        MemorySegment ctx = GgmlInitParams.ggml_init(memSize, MemorySegment.NULL, noAlloc);
        if (ctx.equals(MemorySegment.NULL)) {
            throw new NativeCallException("ggml_init failed for " + memSize + " bytes." + NativeLog.tail(3));
        }
        return new GgmlContext(ctx, memSize, noAlloc);
    }

    public MemorySegment address() {
        requireOpen();
        return ctx;
    }

    public boolean noAlloc() {
        return noAlloc;
    }

    /** Whether {@link #close} has freed the pool (the tensors made here are then gone). */
    public boolean isClosed() {
        return ctx == null;
    }

    /** A tensor made in this context's pool, which knows its context's lifetime. */
    private Tensor tensor(MemorySegment pointer) {
        return new Tensor(pointer, this);
    }

    @Override
    public void close() {
        if (ctx != null) {
            Ggml.ggml_free(ctx);
            ctx = null;
        }
    }

    private void requireOpen() {
        if (ctx == null) {
            throw new IllegalStateException("ggml context is closed");
        }
    }

    /**
     * ggml aborts when its pool runs out (operators do not check), so every tensor made
     * here first checks there is room for it: metadata plus, with data, its bytes.
     */
    private void requireRoom(long dataBytes) {
        long need = Ggml.ggml_tensor_overhead() + dataBytes + 64;
        long used = Ggml.ggml_used_mem(ctx);
        if (used + need > memSize) {
            throw new IllegalStateException("ggml context pool of " + memSize + " bytes is full (" + used
                    + " used, " + need + " needed); create the context with more room");
        }
    }

    /** Room for the result of an operator (a view or a new tensor of at most the given bytes). */
    private void requireOpRoom(Tensor... inputs) {
        requireOpen();
        long data = 0;
        if (!noAlloc) {
            for (Tensor t : inputs) {
                data = Math.max(data, t.bytes());
            }
        }
        requireRoom(data);
    }

    // ---- tensors ----

    public Tensor newTensor(GgmlType type, long... ne) {
        requireOpen();
        if (ne.length < 1 || ne.length > 4) {
            throw new IllegalArgumentException("ggml tensors have 1 to 4 dimensions, got " + ne.length);
        }
        for (long n : ne) {
            if (n <= 0) {
                throw new IllegalArgumentException("tensor dimensions must be positive: " + Arrays.toString(ne));
            }
        }
        if (ne[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("first dimension " + ne[0] + " is not a multiple of the "
                    + type + " block size " + type.blockSize);
        }
        long data = 0;
        if (!noAlloc) {
            data = type.rowSize(ne[0]);
            for (int i = 1; i < ne.length; i++) {
                data *= ne[i];
            }
        }
        requireRoom(data);
        MemorySegment t = switch (ne.length) {
            case 1 -> Ggml.ggml_new_tensor_1d(ctx, type.id, ne[0]);
            case 2 -> Ggml.ggml_new_tensor_2d(ctx, type.id, ne[0], ne[1]);
            case 3 -> Ggml.ggml_new_tensor_3d(ctx, type.id, ne[0], ne[1], ne[2]);
            default -> Ggml.ggml_new_tensor_4d(ctx, type.id, ne[0], ne[1], ne[2], ne[3]);
        };
        return tensor(t);
    }

    public ComputeGraph newGraph(int maxNodes) {
        requireOpen();
        return new ComputeGraph(Ggml.ggml_new_graph_custom(ctx, maxNodes, false), maxNodes);
    }

    // ---- operators ----

    /** a: [K, M, ...], b: [K, N, ...] -> [M, N, ...] (b's dims 2, 3 broadcast over a's). */
    public Tensor mulMat(Tensor a, Tensor b) {
        requireOpRoom(a, b);
        require(a.ne(0) == b.ne(0), "mul_mat: inner dimensions differ", a, b);
        require(b.ne(2) % a.ne(2) == 0 && b.ne(3) % a.ne(3) == 0, "mul_mat: b's dims 2,3 must be multiples of a's", a, b);
        require(!a.isTransposed(), "mul_mat: a must not be transposed", a);
        return tensor(Ggml.ggml_mul_mat(ctx, a.address(), b.address()));
    }

    /**
     * The outer product summed over the shared dimension: {@code [a.ne0, b.ne0, b.ne2, b.ne3]}
     * with element (i, j) = sum over k of a[i, k] * b[j, k]; a broadcasts over b's dims 2 and 3.
     * F32 operands (ggml-cuda takes no other), a's rows contiguous; not on Metal (ggml-metal has no
     * OUT_PROD).
     */
    public Tensor outProd(Tensor a, Tensor b) {
        requireOpRoom(a, b);
        require(a.type() == GgmlType.F32 && b.type() == GgmlType.F32, "out_prod: a and b must be F32", a, b);
        require(a.ne(1) == b.ne(1), "out_prod: a and b must share dim 1", a, b);
        require(b.ne(2) % a.ne(2) == 0 && b.ne(3) % a.ne(3) == 0, "out_prod: b's dims 2,3 must be multiples of a's", a, b);
        require(!a.isTransposed() && a.nb(0) == GgmlType.F32.typeSize, "out_prod: a's rows must be contiguous", a);
        require(b.nb(0) == GgmlType.F32.typeSize || b.nb(1) == GgmlType.F32.typeSize,
                "out_prod: b must be contiguous along one of its first two dims", b);
        return tensor(Ggml.ggml_out_prod(ctx, a.address(), b.address()));
    }

    public Tensor rmsNorm(Tensor a, float eps) {
        requireOpRoom(a);
        require(eps >= 0, "rms_norm: eps must be >= 0", a);
        return tensor(Ggml.ggml_rms_norm(ctx, a.address(), eps));
    }

    /** Elementwise a * b, b broadcast (repeated) over a. */
    public Tensor mul(Tensor a, Tensor b) {
        requireOpRoom(a, b);
        requireRepeatable(b, a, "mul");
        return tensor(Ggml.ggml_mul(ctx, a.address(), b.address()));
    }

    /** Elementwise a + b, b broadcast (repeated) over a. */
    public Tensor add(Tensor a, Tensor b) {
        requireOpRoom(a, b);
        requireRepeatable(b, a, "add");
        return tensor(Ggml.ggml_add(ctx, a.address(), b.address()));
    }

    /**
     * a += b in a's own memory, b broadcast over a as in {@link #add}: returns a view of a holding the
     * sum. Nothing that reads a depends on this node, so the caller adds it to the graph itself,
     * before a's readers (a masked tail of a larger tensor, without a pass over the rest of it).
     */
    public Tensor addInPlace(Tensor a, Tensor b) {
        requireOpRoom(a, b);
        requireRepeatable(b, a, "add");
        requireContiguousRows(a, "add in place");
        return tensor(Ggml.ggml_add_inplace(ctx, a.address(), b.address()));
    }

    /** a - b, b broadcast over a as in {@link #add}. */
    public Tensor sub(Tensor a, Tensor b) {
        requireOpRoom(a, b);
        requireRepeatable(b, a, "sub");
        return tensor(Ggml.ggml_sub(ctx, a.address(), b.address()));
    }

    /** 1 where a > 0, else 0 (element-wise). */
    public Tensor step(Tensor a) {
        requireOpRoom(a);
        requireContiguousRows(a, "step");
        return tensor(Ggml.ggml_step(ctx, a.address()));
    }

    /** max(a, 0) element-wise (0 where a <= 0, a itself above). */
    public Tensor relu(Tensor a) {
        requireOpRoom(a);
        requireContiguousRows(a, "relu");
        return tensor(Ggml.ggml_relu(ctx, a.address()));
    }

    /** a x s. Its rows may be strided, its dimensions above 1 not (ggml asserts a padded 1-d layout). */
    public Tensor scale(Tensor a, float s) {
        requireOpRoom(a);
        requirePadded1d(a, "scale");
        return tensor(Ggml.ggml_scale(ctx, a.address(), s));
    }

    public Tensor silu(Tensor a) {
        requireOpRoom(a);
        requireContiguousRows(a, "silu");
        return tensor(Ggml.ggml_silu(ctx, a.address()));
    }

    /** silu(a) * b, the SwiGLU feed-forward gate. */
    public Tensor swigluSplit(Tensor a, Tensor b) {
        requireOpRoom(a, b);
        require(Arrays.equals(a.shape(), b.shape()), "swiglu: shapes differ", a, b);
        require(a.type() == b.type(), "swiglu: types differ", a, b);
        require(a.isContiguousAbove(1) && b.isContiguousAbove(1), "swiglu: rows may be strided, the dimensions above 1 not", a, b);
        return tensor(Ggml.ggml_swiglu_split(ctx, a.address(), b.address()));
    }

    /**
     * RoPE over a: [headDim, nHeads, nTokens, ...] with positions: I32 [nTokens] and
     * optional frequency factors: F32 [nDims/2] (Llama 3 scaling). mode: ROPE_NORMAL
     * (adjacent pairs, Llama) or ROPE_NEOX (halves, Qwen).
     */
    public Tensor ropeExt(Tensor a, Tensor positions, Tensor freqFactors, int nDims, int mode, int nCtxOrig,
                          float freqBase, float freqScale, float extFactor, float attnFactor,
                          float betaFast, float betaSlow) {
        requireOpRoom(a);
        require(mode == ROPE_NORMAL || mode == ROPE_NEOX, "rope: mode must be NORMAL(0) or NEOX(2)", a);
        require(positions.type() == GgmlType.I32 && positions.ne(1) == 1 && positions.ne(2) == 1 && positions.ne(3) == 1,
                "rope: positions must be an I32 vector", positions);
        require(a.ne(2) == positions.ne(0), "rope: a.ne[2] must equal the number of positions", a, positions);
        require(nDims > 0 && nDims % 2 == 0 && nDims <= a.ne(0), "rope: n_dims must be even and <= head dim", a);
        if (freqFactors != null) {
            require(freqFactors.type() == GgmlType.F32 && freqFactors.ne(0) >= nDims / 2,
                    "rope: frequency factors must be F32 with >= n_dims/2 entries", freqFactors);
        }
        return tensor(Ggml.ggml_rope_ext(ctx, a.address(), positions.address(),
                freqFactors == null ? MemorySegment.NULL : freqFactors.address(), nDims, mode, nCtxOrig,
                freqBase, freqScale, extFactor, attnFactor, betaFast, betaSlow));
    }

    /** softmax(a * scale + mask) along dim 0; mask F16/F32 [a.ne0, >= a.ne1] or null. */
    public Tensor softMaxExt(Tensor a, Tensor mask, float scale, float maxBias) {
        requireOpRoom(a);
        require(maxBias <= 0 || mask != null, "soft_max: ALiBi (max_bias > 0) needs a mask", a);
        require(a.isContiguous(), "soft_max: a must be contiguous", a);
        if (mask != null) {
            require(mask.type() == GgmlType.F16 || mask.type() == GgmlType.F32, "soft_max: mask must be F16 or F32", mask);
            require(mask.isContiguous(), "soft_max: mask must be contiguous", mask);
            require(mask.ne(0) == a.ne(0) && mask.ne(1) >= a.ne(1), "soft_max: mask must be [a.ne0, >= a.ne1]", a, mask);
            require(a.ne(2) % mask.ne(2) == 0 && a.ne(3) % mask.ne(3) == 0, "soft_max: mask dims 2,3 must divide a's", a, mask);
        }
        return tensor(Ggml.ggml_soft_max_ext(ctx, a.address(), mask == null ? MemorySegment.NULL : mask.address(),
                scale, maxBias));
    }

    /**
     * Flash attention. q: [D, nQ, H, 1], k: [D, nKV, Hkv, 1], v: [Dv, nKV, Hkv, 1], mask: F16
     * [nKV, >= nQ] or null. Result: [Dv, H, nQ, 1] (note the swapped dims), F32.
     */
    public Tensor flashAttnExt(Tensor q, Tensor k, Tensor v, Tensor mask, float scale, float maxBias, float softcap) {
        requireOpRoom(q);
        require(maxBias <= 0 || mask != null, "flash_attn: ALiBi (max_bias > 0) needs a mask", q);
        require(q.ne(0) == k.ne(0), "flash_attn: q and k head dims differ", q, k);
        require(q.ne(2) % k.ne(2) == 0 && q.ne(3) % k.ne(3) == 0, "flash_attn: query heads must be a multiple of KV heads", q, k);
        require(!k.isTransposed(), "flash_attn: k must not be transposed", k);
        require(q.ne(3) == k.ne(3) && q.ne(3) == v.ne(3), "flash_attn: dim 3 must agree", q, k, v);
        require(k.ne(1) == v.ne(1) && k.ne(2) == v.ne(2), "flash_attn: k and v must have the same rows and heads", k, v);
        if (mask != null) {
            require(mask.type() == GgmlType.F16, "flash_attn: mask must be F16", mask);
            require(mask.isContiguous(), "flash_attn: mask must be contiguous", mask);
            require(mask.ne(0) == k.ne(1) && mask.ne(1) >= q.ne(1), "flash_attn: mask must be [n_kv, >= n_q]", mask, q, k);
            require(q.ne(2) % mask.ne(2) == 0 && q.ne(3) % mask.ne(3) == 0, "flash_attn: mask dims 2,3 must divide q's", mask, q);
        }
        return tensor(Ggml.ggml_flash_attn_ext(ctx, q.address(), k.address(), v.address(),
                mask == null ? MemorySegment.NULL : mask.address(), scale, maxBias, softcap));
    }

    /**
     * {@link #flashAttnExt} that also writes the logits it weighs V by into {@code scores}: {@code
     * scale * K^T q + mask}, F32 {@code [k rows, q tokens, q heads, 1]}, contiguous, set as the op's
     * source 5. Returns null, and builds nothing the graph will use, where {@code backend} does not
     * compute that op: only a backend whose {@link Backend#flashAttentionWritesScores} does, and there
     * only where its {@link Backend#supportsOp} says so (ggml-cuda's vector kernel: one query, no soft
     * cap, over rows padded to 256). {@code scores} is written while the op runs: read it after
     * the op in the graph's node order, which is the order of expansion (no op takes it as a source).
     */
    public Tensor flashAttnExtScoring(Tensor q, Tensor k, Tensor v, Tensor mask, float scale, Tensor scores, Backend backend) {
        require(scores.type() == GgmlType.F32 && scores.isContiguous(), "flash_attn scores: must be contiguous F32", scores);
        require(scores.ne(0) == k.ne(1) && scores.ne(1) == q.ne(1) && scores.ne(2) == q.ne(2) && scores.ne(3) == q.ne(3),
                "flash_attn scores: must be [k rows, q tokens, q heads, q dim 3]", scores, q, k);
        if (!backend.flashAttentionWritesScores()) {
            return null;
        }
        Tensor fa = flashAttnExt(q, k, v, mask, scale, 0f, 0f);
        fa.setSource(FLASH_ATTN_SCORES_SOURCE, scores);
        if (backend.supportsOp(fa)) {
            return fa;
        }
        // computed, it would abort (ggml-cuda has no kernel for it); the node stays unused in this context
        fa.setSource(FLASH_ATTN_SCORES_SOURCE, null);
        return null;
    }

    /** The source of a flash_attn_ext op that {@link #flashAttnExtScoring} sets: after q, k, v, mask and sinks. */
    static final int FLASH_ATTN_SCORES_SOURCE = 5;

    public void setFlashAttnPrecision(Tensor fa, int prec) {
        requireOp(fa, OP_FLASH_ATTN_EXT, "flash_attn precision: the tensor is not a flash_attn_ext result");
        Ggml.ggml_flash_attn_ext_set_prec(fa.address(), prec);
    }

    /**
     * Gathers rows: a: [D, N, H, B], rows: I32 [K, H, B] -> [D, K, H, B] (F32 for most
     * types). With H = KV heads this is the per-KV-head gather. Index values are not
     * visible here: set them with {@link Tensor#setIndices} or produce them in-graph.
     */
    public Tensor getRows(Tensor a, Tensor rows) {
        requireOpRoom(a);
        require(rows.type() == GgmlType.I32, "get_rows: indices must be I32", rows);
        require(a.ne(2) == rows.ne(1) && a.ne(3) == rows.ne(2) && rows.ne(3) == 1,
                "get_rows: indices must be [K, a.ne2, a.ne3]", a, rows);
        return tensor(Ggml.ggml_get_rows(ctx, a.address(), rows.address()));
    }

    /**
     * {@link #getRows} computed straight into {@code into}'s memory: the node is bound to that
     * memory (ggml_backend_tensor_alloc), so the graph allocator gives it none and no copy into
     * {@code into} follows. {@code into}: allocated, contiguous, exactly the result's bytes (it may
     * be a view, of another type of the same size: a bitcast). Expand the returned node; nothing
     * should read {@code into} before it in the graph.
     */
    public Tensor getRowsInto(Tensor a, Tensor rows, Tensor into) {
        return into(getRows(a, rows), into);
    }

    /**
     * Makes {@code node}, an op of this graph not yet allocated, compute straight into {@code into}'s
     * memory (ggml_backend_tensor_alloc), so the graph allocator gives it none and no copy follows.
     * {@code into}: allocated, contiguous, exactly the node's bytes (it may be a view, of another
     * type of the same size: a bitcast). Expand the returned node; nothing should read {@code into}
     * before it in the graph, and a read after it that does not take the node as its source is
     * ordered by the graph's node order alone. The node comes back flagged as an output.
     */
    public Tensor into(Tensor node, Tensor into) {
        // a view made in a graph's context gets its data pointer only when that graph is allocated: its
        // memory is its source's (ggml keeps a view's source the root tensor) at its offset
        Tensor root = into.viewSource() != null ? into.viewSource() : into;
        long offset = into.viewSource() != null ? into.viewOffset() : 0;
        require(!node.hasBuffer() && node.data().equals(MemorySegment.NULL) && node.viewSource() == null,
                "compute into: the node must be an op with no memory of its own yet", node);
        require(root.hasBuffer() && !root.data().equals(MemorySegment.NULL), "compute into: the target must be allocated", into);
        require(into.isContiguous(), "compute into: the target must be contiguous", into);
        require(into.bytes() == node.bytes(), "compute into: the target must hold the node's " + node.bytes() + " bytes", node, into);
        // a backend may allocate a tensor more than its bytes (padded quantized rows, flash attention's
        // extra space) and clear the padding: it would write past the target
        long allocated = GgmlBackend.ggml_backend_buffer_get_alloc_size(root.buffer(), node.address());
        require(allocated == node.bytes(), "compute into: the backend allocates the node " + allocated + " bytes, more than its "
                + node.bytes(), node, into);
        MemorySegment address = MemorySegment.ofAddress(root.data().address() + offset);
        int status = GgmlBackend.ggml_backend_tensor_alloc(root.buffer(), node.address(), address);
        if (status != 0) {
            throw new NativeCallException("ggml_backend_tensor_alloc failed (status " + status + ")." + NativeLog.tail(3));
        }
        // its result outlives the graph: a backend must compute it even where the graph reads it no further (the
        // suite's CUDA build leaves uncomputed a gather that only flash attention reads, and reads its rows in place)
        return node.output();
    }

    /**
     * Writes rows of src into dst at the given row indices and returns dst (a view with
     * the write as its op: expand it in the graph before any read of dst).
     * dst: [D, N, H, B], src: [D, n, H, B] F32/F16, rows: I64/I32 [n, ...].
     */
    public Tensor setRows(Tensor dst, Tensor src, Tensor rows) {
        requireOpRoom(src);
        require(dst.ne(0) == src.ne(0) && dst.ne(2) == src.ne(2) && dst.ne(3) == src.ne(3),
                "set_rows: dst and src must agree in dims 0, 2, 3", dst, src);
        require(src.ne(1) == rows.ne(0), "set_rows: one index per src row", src, rows);
        require(src.ne(2) % rows.ne(1) == 0 && src.ne(3) % rows.ne(2) == 0 && rows.ne(3) == 1,
                "set_rows: index dims must divide src's", src, rows);
        require(src.type() == GgmlType.F32 || src.type() == GgmlType.F16, "set_rows: src must be F32 or F16", src);
        require(rows.type() == GgmlType.I64 || rows.type() == GgmlType.I32, "set_rows: indices must be I32 or I64", rows);
        require(dst.nb(0) == dst.type().typeSize && src.nb(0) == src.type().typeSize, "set_rows: rows must be contiguous", dst, src);
        return tensor(Ggml.ggml_set_rows(ctx, dst.address(), src.address(), rows.address()));
    }

    /** Indices of the k largest values along dim 0 (unordered), I32 [k, ...]. */
    public Tensor topK(Tensor a, int k) {
        requireOpRoom(a);
        require(k > 0 && k <= a.ne(0), "top_k: k must be in [1, a.ne0]", a);
        return tensor(Ggml.ggml_top_k(ctx, a.address(), k));
    }

    public Tensor argsort(Tensor a, int order) {
        requireOpRoom(a);
        require(order == SORT_ASC || order == SORT_DESC, "argsort: order must be ASC(0) or DESC(1)", a);
        return tensor(Ggml.ggml_argsort(ctx, a.address(), order));
    }

    /**
     * Max or average pooling over dims 0 and 1 of every [ne0, ne1] plane: kernel k0 x k1,
     * stride s0 x s1, padding p0 / p1 on both sides. Windows reaching past an edge use only
     * the elements inside it (a max ignores the padding; an average still divides by
     * k0 * k1). Output F32 [(ne0 + 2 p0 - k0) / s0 + 1, (ne1 + 2 p1 - k1) / s1 + 1, ne2, ne3].
     */
    public Tensor pool2d(Tensor a, int op, int k0, int k1, int s0, int s1, int p0, int p1) {
        requireOpRoom(a);
        require(op == POOL_MAX || op == POOL_AVG, "pool_2d: op must be MAX(0) or AVG(1)", a);
        // F32 only: ggml-cuda's kernel asserts it while computing (its supports_op takes any type), where
        // the CPU would also take F16
        require(a.type() == GgmlType.F32, "pool_2d: input must be F32", a);
        require(a.nb(0) == a.type().typeSize && a.nb(1) == a.nb(0) * a.ne(0) && a.nb(2) == a.nb(1) * a.ne(1),
                "pool_2d: input must be contiguous", a);
        require(k0 >= 1 && k1 >= 1 && s0 >= 1 && s1 >= 1 && p0 >= 0 && p1 >= 0 && p0 < k0 && p1 < k1,
                "pool_2d: kernel and stride must be >= 1, padding in [0, kernel)", a);
        require(a.ne(0) + 2L * p0 >= k0 && a.ne(1) + 2L * p1 >= k1, "pool_2d: kernel larger than the padded input", a);
        return tensor(Ggml.ggml_pool_2d(ctx, a.address(), op, k0, k1, s0, s1, p0, p1));
    }

    /** Copies a into b (converting type) and returns b as the node carrying the copy. */
    public Tensor cpy(Tensor a, Tensor b) {
        requireOpRoom(b);
        require(a.elements() == b.elements(), "cpy: element counts differ", a, b);
        return tensor(Ggml.ggml_cpy(ctx, a.address(), b.address()));
    }

    public Tensor cont(Tensor a) {
        requireOpRoom(a);
        return tensor(Ggml.ggml_cont(ctx, a.address()));
    }

    public Tensor cast(Tensor a, GgmlType type) {
        requireOpRoom(a);
        return tensor(Ggml.ggml_cast(ctx, a.address(), type.id));
    }

    public Tensor transpose(Tensor a) {
        requireOpRoom(a);
        return tensor(Ggml.ggml_transpose(ctx, a.address()));
    }

    public Tensor permute(Tensor a, int ax0, int ax1, int ax2, int ax3) {
        requireOpRoom(a);
        int[] axes = {ax0, ax1, ax2, ax3};
        int[] sorted = axes.clone();
        Arrays.sort(sorted);
        require(Arrays.equals(sorted, new int[] {0, 1, 2, 3}), "permute: axes must be a permutation of 0..3", a);
        return tensor(Ggml.ggml_permute(ctx, a.address(), ax0, ax1, ax2, ax3));
    }

    public Tensor reshape(Tensor a, long... ne) {
        requireOpRoom(a);
        require(a.isContiguous(), "reshape: a must be contiguous", a);
        long n = 1;
        for (long x : ne) {
            n *= x;
        }
        require(n == a.elements() && ne.length >= 2 && ne.length <= 4, "reshape: element count must be kept (2-4 dims)", a);
        return tensor(switch (ne.length) {
            case 2 -> Ggml.ggml_reshape_2d(ctx, a.address(), ne[0], ne[1]);
            case 3 -> Ggml.ggml_reshape_3d(ctx, a.address(), ne[0], ne[1], ne[2]);
            default -> Ggml.ggml_reshape_4d(ctx, a.address(), ne[0], ne[1], ne[2], ne[3]);
        });
    }

    /**
     * A strided view of a: shape ne (1-4 dims), strides nb for dims 1.. (bytes), at a
     * byte offset. The farthest byte must lie inside a.
     */
    public Tensor view(Tensor a, long[] ne, long[] nb, long offset) {
        requireOpRoom(a);
        require(ne.length >= 1 && ne.length <= 4 && nb.length == ne.length - 1, "view: need 1-4 dims and dims-1 strides", a);
        GgmlType t = a.type();
        long last = offset + t.rowSize(ne[0]);
        for (int i = 1; i < ne.length; i++) {
            last += (ne[i] - 1) * nb[i - 1];
        }
        require(offset >= 0 && last <= a.bytes(), "view: extends past the end of the source tensor (" + last + " > " + a.bytes() + ")", a);
        for (int i = 0; i < ne.length; i++) {
            require(ne[i] >= 0 && (i == 0 || nb[i - 1] >= 0), "view: a negative dimension or stride", a);
        }
        // ggml also asserts the view's packed size from its root tensor's start (whatever the strides)
        long packed = t.rowSize(ne[0]);
        for (int i = 1; i < ne.length; i++) {
            packed *= ne[i];
        }
        Tensor root = a.viewSource() == null ? a : a.viewSource();
        long rootOffset = offset + (a.viewSource() == null ? 0 : a.viewOffset());
        require(packed + rootOffset <= root.bytes(), "view: its packed size from offset " + rootOffset + " exceeds the "
                + root.bytes() + " bytes of the tensor it views (ggml checks the packed size, not the strided extent)", a);
        MemorySegment v = switch (ne.length) {
            case 1 -> Ggml.ggml_view_1d(ctx, a.address(), ne[0], offset);
            case 2 -> Ggml.ggml_view_2d(ctx, a.address(), ne[0], ne[1], nb[0], offset);
            case 3 -> Ggml.ggml_view_3d(ctx, a.address(), ne[0], ne[1], ne[2], nb[0], nb[1], offset);
            default -> Ggml.ggml_view_4d(ctx, a.address(), ne[0], ne[1], ne[2], ne[3], nb[0], nb[1], nb[2], offset);
        };
        return tensor(v);
    }

    /**
     * The bytes of {@code a} read as elements of {@code type}: a view whose rows (dim 0) hold the
     * same bytes, {@code ne[0] * size(a) / size(type)} elements each; dims 1-3 and their strides
     * are kept. ggml has no such op; the view is made by ggml and its type rewritten, which every
     * backend treats as any view (no copy). Both types must be plain (not block-quantized) and
     * a's rows contiguous. It lets rows of an F16 cache be gathered as I32 pairs: ggml's get_rows
     * returns F32 for every source but I32, so this is how gathered rows keep the cache's type.
     */
    public Tensor bitcast(Tensor a, GgmlType type) {
        requireOpRoom(a);
        GgmlType from = a.type();
        require(!from.isQuantized() && !type.isQuantized(), "bitcast: " + from + " and " + type + " must not be block-quantized", a);
        require(a.nb(0) == from.typeSize, "bitcast: a's rows must be contiguous", a);
        long rowBytes = a.ne(0) * from.typeSize;
        require(rowBytes % type.typeSize == 0, "bitcast: a row of " + rowBytes + " bytes holds no whole number of " + type, a);
        Tensor v = view(a, a.shape(), new long[] {a.nb(1), a.nb(2), a.nb(3)}, 0);
        v.retype(type, rowBytes / type.typeSize);
        return v;
    }

    /** 1-D pooling along dim 0 (POOL_MAX or POOL_AVG), kernel k, stride s, padding p. */
    public Tensor pool1d(Tensor a, int op, int k, int s, int p) {
        requireOpRoom(a);
        require(op == POOL_MAX || op == POOL_AVG, "pool_1d: op must be MAX(0) or AVG(1)", a);
        require(a.type() == GgmlType.F32 && a.isContiguous(), "pool_1d: input must be contiguous F32 (ggml-cuda asserts F32 while computing)", a);
        // ggml computes the output length in floats: a kernel longer than the padded row gives 0 rows, not 1
        require(k > 0 && s > 0 && p >= 0 && a.ne(0) + 2L * p >= k, "pool_1d: bad kernel/stride/padding", a);
        return tensor(Ggml.ggml_pool_1d(ctx, a.address(), op, k, s, p));
    }

    /** a and b joined along {@code dim}; the other dimensions and the types must agree. */
    public Tensor concat(Tensor a, Tensor b, int dim) {
        requireOpRoom(a, b);
        require(dim >= 0 && dim < 4, "concat: dim must be 0..3", a, b);
        require(a.type() == b.type(), "concat: types differ", a, b);
        for (int i = 0; i < 4; i++) {
            require(i == dim || a.ne(i) == b.ne(i), "concat: dimension " + i + " differs", a, b);
        }
        return tensor(Ggml.ggml_concat(ctx, a.address(), b.address(), dim));
    }

    /** Accumulation precision of a mul_mat result (PREC_F32 for more precision); ggml asserts the op. */
    public void setMulMatPrecision(Tensor mulMatResult, int prec) {
        requireOp(mulMatResult, OP_MUL_MAT, "mul_mat precision: the tensor is not a mul_mat result");
        Ggml.ggml_mul_mat_set_prec(mulMatResult.address(), prec);
    }

    public Tensor sumRows(Tensor a) {
        requireOpRoom(a);
        return tensor(Ggml.ggml_sum_rows(ctx, a.address()));
    }

    public Tensor mean(Tensor a) {
        requireOpRoom(a);
        return tensor(Ggml.ggml_mean(ctx, a.address()));
    }

    public Tensor argmax(Tensor a) {
        requireOpRoom(a);
        require(a.ne(2) == 1 && a.ne(3) == 1, "argmax: a must be a matrix", a);
        return tensor(Ggml.ggml_argmax(ctx, a.address()));
    }

    /** Running sums along dim 0 of every row (F32): out[i] = a[0] + ... + a[i]. */
    public Tensor cumsum(Tensor a) {
        requireOpRoom(a);
        require(a.type() == GgmlType.F32 && a.nb(0) == a.type().typeSize, "cumsum: a must be F32 with contiguous rows", a);
        return tensor(Ggml.ggml_cumsum(ctx, a.address()));
    }

    /** s * a + b, element-wise. */
    public Tensor scaleBias(Tensor a, float s, float b) {
        requireOpRoom(a);
        requirePadded1d(a, "scale_bias");
        return tensor(Ggml.ggml_scale_bias(ctx, a.address(), s, b));
    }

    /** F32 [ceil((stop - start) / step)]: start, start + step, ... below stop. */
    public Tensor arange(float start, float stop, float step) {
        requireOpen();
        if (!(stop > start) || !(step > 0)) {
            throw new IllegalArgumentException("arange: need stop > start and step > 0, got " + start + ", " + stop + ", " + step);
        }
        long n = (long) Math.ceil((stop - start) / step);
        requireRoom(noAlloc ? 0 : n * GgmlType.F32.typeSize);
        return tensor(Ggml.ggml_arange(ctx, start, stop, step));
    }

    private static void requireRepeatable(Tensor small, Tensor big, String op) {
        for (int i = 0; i < 4; i++) {
            if (small.ne(i) == 0 || big.ne(i) % small.ne(i) != 0) {
                throw new IllegalArgumentException(op + ": " + small + " cannot be broadcast over " + big);
            }
        }
    }

    /** The node computes {@code op} (enum ggml_op): ggml's setters for one op's parameters assert it. */
    private static void requireOp(Tensor node, int op, String message) {
        require(node.address().get(java.lang.foreign.ValueLayout.JAVA_INT, Tensor.OFF_OP) == op, message, node);
    }

    /** ggml_is_padded_1d: packed above the first dimension (scale, scale_bias). */
    private static void requirePadded1d(Tensor a, String op) {
        require(a.nb(0) == a.type().typeSize && a.nb(2) == a.nb(1) * a.ne(1) && a.nb(3) == a.nb(2) * a.ne(2),
                op + ": a tensor whose dimensions above the first are not packed (ggml_cont it first)", a);
    }

    /** ggml_is_contiguous_rows: each row's elements adjacent (the unary ops). */
    private static void requireContiguousRows(Tensor a, String op) {
        require(a.ne(0) == a.type().blockSize || a.nb(0) == a.type().typeSize,
                op + ": a row's elements must be adjacent (a transposed view: ggml_cont it first)", a);
    }

    private static void require(boolean ok, String message, Tensor... tensors) {
        if (!ok) {
            throw new IllegalArgumentException(message + ": " + Arrays.toString(tensors));
        }
    }
}
