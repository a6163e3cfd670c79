package org.rbench.llamacpp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Each ggml operator the engine uses, run on the CPU backend and checked against plain Java math. */
class GraphOpsTest {
    private static Backend backend;
    private final Random random = new Random(7);

    @BeforeAll
    static void open() {
        LlamaCpp.initialise();
        backend = Backends.open("cpu", 2);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    /** Inputs live in their own context on the backend; the graph's intermediates in the allocator's buffer. */
    private static final class Run implements AutoCloseable {
        final GgmlContext inputs = GgmlContext.forMetadata(32, 0);
        final GgmlContext graphCtx = GgmlContext.forMetadata(256, 512);
        BackendBuffer buffer;

        Tensor input(GgmlType t, long... ne) {
            return inputs.newTensor(t, ne);
        }

        void allocateInputs() {
            buffer = BackendBuffer.allocate(inputs, backend);
        }

        float[] compute(Function<GgmlContext, Tensor> build) {
            ComputeGraph g = graphCtx.newGraph(512);
            Tensor out = build.apply(graphCtx).output();
            g.expand(out);
            try (GraphAllocator alloc = new GraphAllocator(backend)) {
                alloc.allocate(g);
                backend.compute(g);
                return out.getFloats();
            }
        }

        @Override
        public void close() {
            if (buffer != null) {
                buffer.close();
            }
            graphCtx.close();
            inputs.close();
        }
    }

    private float[] randoms(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    private static void assertClose(float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, "length");
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]) / Math.max(1.0, Math.abs(expected[i]));
            if (err > tol) {
                throw new AssertionError("element " + i + ": expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    @Test
    void mulMatMatchesJava() {
        int k = 64, m = 24, n = 5;
        float[] a = randoms(k * m), b = randoms(k * n);
        try (Run r = new Run()) {
            Tensor ta = r.input(GgmlType.F32, k, m), tb = r.input(GgmlType.F32, k, n);
            r.allocateInputs();
            ta.setFloats(a);
            tb.setFloats(b);
            float[] got = r.compute(c -> c.mulMat(ta, tb));
            float[] want = new float[m * n];
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) {
                    double s = 0;
                    for (int x = 0; x < k; x++) {
                        s += a[i * k + x] * b[j * k + x];
                    }
                    want[j * m + i] = (float) s;
                }
            }
            assertClose(want, got, 1e-4);
        }
    }

    @Test
    void outProdSumsOverTheSharedDimensionWithBroadcast() {
        // a [rows, k, 2] broadcast over b [cols, k, 4]: out[i, j, h] = sum_x a[i, x, h / 2] * b[j, x, h]
        int rows = 7, k = 5, cols = 3, aHeads = 2, heads = 4;
        float[] a = randoms(rows * k * aHeads), b = randoms(cols * k * heads);
        try (Run r = new Run()) {
            Tensor ta = r.input(GgmlType.F32, rows, k, aHeads), tb = r.input(GgmlType.F32, cols, k, heads);
            r.allocateInputs();
            ta.setFloats(a);
            tb.setFloats(b);
            float[] got = r.compute(c -> c.outProd(ta, tb));
            float[] want = new float[rows * cols * heads];
            for (int h = 0; h < heads; h++) {
                for (int j = 0; j < cols; j++) {
                    for (int i = 0; i < rows; i++) {
                        double sum = 0;
                        for (int x = 0; x < k; x++) {
                            sum += a[(h / 2) * rows * k + x * rows + i] * b[h * cols * k + x * cols + j];
                        }
                        want[h * cols * rows + j * rows + i] = (float) sum;
                    }
                }
            }
            assertClose(want, got, 1e-5);
        }
    }

    @Test
    void outProdRefusesShapesGgmlWouldAbortOn() {
        try (Run r = new Run()) {
            Tensor a = r.input(GgmlType.F32, 4, 3, 2), b = r.input(GgmlType.F32, 2, 5, 2), c = r.input(GgmlType.F32, 2, 3, 3);
            Tensor half = r.input(GgmlType.F16, 4, 3, 2), fits = r.input(GgmlType.F32, 2, 3, 2);
            r.graphCtx.outProd(a, fits);
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.outProd(a, b));     // dim 1 differs
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.outProd(a, c));     // 3 heads do not share 2
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.outProd(half, fits)); // F16
        }
    }

    @Test
    void scaleRefusesAViewGgmlWouldAbortOn() {
        try (Run r = new Run()) {
            Tensor a = r.input(GgmlType.F32, 2, 8, 2);
            // rows 0-3 of each of the two heads: strided above the first dimension
            Tensor strided = r.graphCtx.view(a, new long[] {2, 4, 2}, new long[] {a.nb(1), a.nb(2)}, 0);
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.scale(strided, -1f));
            // strided rows of one head are fine (ggml allows a gap after each row)
            r.graphCtx.scale(r.graphCtx.view(a, new long[] {1, 8}, new long[] {a.nb(1)}, 0), -1f);
            r.graphCtx.scale(r.graphCtx.cont(strided), -1f);
        }
    }

    /**
     * Flash attention writing its scores is the suite's CUDA build's (a patch); the CPU backend
     * (npm's prebuilt) says it does not, so nothing is built, and a scores tensor of the wrong shape
     * or type is refused before any backend is asked.
     */
    @Test
    void flashAttentionScoresAreRefusedWhereTheBackendDoesNotWriteThem() {
        try (Run r = new Run()) {
            GgmlContext c = r.graphCtx;
            Tensor kv = r.input(GgmlType.F16, 64, 256, 2);
            Tensor q = r.input(GgmlType.F32, 64, 1, 4);
            Tensor mask = r.input(GgmlType.F16, 256, 1);
            assertFalse(backend.flashAttentionWritesScores());
            // the CPU backend reads gathered rows as gathered (the suite's CUDA build reads them in place)
            assertFalse(backend.flashAttentionReadsGatheredRows());
            Tensor scores = r.input(GgmlType.F32, 256, 1, 4);
            assertNull(c.flashAttnExtScoring(q, kv, kv, mask, 0.125f, scores, backend));
            assertThrows(IllegalArgumentException.class,
                    () -> c.flashAttnExtScoring(q, kv, kv, mask, 0.125f, r.input(GgmlType.F32, 256, 1, 2), backend));
            assertThrows(IllegalArgumentException.class,
                    () -> c.flashAttnExtScoring(q, kv, kv, mask, 0.125f, r.input(GgmlType.F16, 256, 1, 4), backend));
            // a flash attention op as ggml builds it: no source past the sinks
            Tensor fa = c.flashAttnExt(q, kv, kv, mask, 0.125f, 0f, 0f);
            assertEquals(q.address().address(), fa.source(0).address().address());
            assertNull(fa.source(GgmlContext.FLASH_ATTN_SCORES_SOURCE));
            assertTrue(backend.supportsOp(fa));
        }
    }

    /** Each of these would end in a GGML_ASSERT, which aborts the JVM: refused in Java, with the valid neighbours still built. */
    @Test
    void refusesWhatGgmlWouldAbortOnWhileBuilding() {
        try (Run r = new Run()) {
            GgmlContext c = r.graphCtx;
            Tensor a = r.input(GgmlType.F32, 4, 6, 2);
            Tensor kv = r.input(GgmlType.F16, 4, 6, 2);
            Tensor q = r.input(GgmlType.F32, 4, 1, 2);
            Tensor mask = r.input(GgmlType.F16, 6, 1);
            // ALiBi needs a mask
            assertThrows(IllegalArgumentException.class, () -> c.softMaxExt(a, null, 1f, 8f));
            c.softMaxExt(a, null, 1f, 0f);
            assertThrows(IllegalArgumentException.class, () -> c.flashAttnExt(q, kv, kv, null, 1f, 8f, 0f));
            Tensor fa = c.flashAttnExt(q, kv, kv, mask, 1f, 8f, 0f);
            c.setFlashAttnPrecision(fa, GgmlContext.PREC_F32);
            assertThrows(IllegalArgumentException.class, () -> c.setFlashAttnPrecision(a, GgmlContext.PREC_F32));
            // unary ops need adjacent elements in a row; scale_bias packed dimensions above the first
            Tensor transposed = c.transpose(a);
            assertThrows(IllegalArgumentException.class, () -> c.step(transposed));
            assertThrows(IllegalArgumentException.class, () -> c.silu(transposed));
            c.step(c.view(a, new long[] {4, 3}, new long[] {2 * a.nb(1)}, 0)); // strided rows are fine
            Tensor strided = c.view(a, new long[] {4, 3, 2}, new long[] {a.nb(1), a.nb(2)}, 0);
            assertThrows(IllegalArgumentException.class, () -> c.scaleBias(strided, 2f, 1f));
            // swiglu: one type, packed above the rows
            assertThrows(IllegalArgumentException.class, () -> c.swigluSplit(a, c.cast(a, GgmlType.F16)));
            assertThrows(IllegalArgumentException.class, () -> c.swigluSplit(strided, strided));
            Tensor rows = c.view(a, new long[] {4, 6}, new long[] {a.nb(1)}, 0);
            c.swigluSplit(rows, rows);
            // pooling takes F32 only: ggml-cuda's kernels assert it while computing, whatever supports_op says
            assertThrows(IllegalArgumentException.class, () -> c.pool2d(kv, GgmlContext.POOL_MAX, 1, 2, 1, 2, 0, 0));
            c.pool2d(a, GgmlContext.POOL_MAX, 1, 2, 1, 2, 0, 0);
            // a kernel longer than the row: ggml's float arithmetic gives 0 outputs
            Tensor shortRow = r.input(GgmlType.F32, 3, 2);
            assertThrows(IllegalArgumentException.class, () -> c.pool1d(shortRow, GgmlContext.POOL_MAX, 4, 2, 0));
            c.pool1d(shortRow, GgmlContext.POOL_MAX, 3, 2, 0);
            // views: no dimension below 1, no negative stride, and the packed size within the root tensor
            assertThrows(IllegalArgumentException.class, () -> c.view(a, new long[] {4, -1}, new long[] {a.nb(1)}, 0));
            assertThrows(IllegalArgumentException.class, () -> c.view(a, new long[] {4, 2}, new long[] {-a.nb(1)}, a.nb(2)));
            // rows overlapping by a stride of one element: strided extent fits, packed size does not
            Tensor flat = r.input(GgmlType.F32, 8);
            assertThrows(IllegalArgumentException.class, () -> c.view(flat, new long[] {4, 4}, new long[] {4}, 0));
            c.view(flat, new long[] {4, 2}, new long[] {4}, 0);
            // ggml_is_contiguous_1 step for step: dimension 1 sets where dimension 2 must start, even when it is 1
            Tensor wide = r.input(GgmlType.F32, 16, 3);
            assertTrue(c.view(wide, new long[] {4, 1, 3}, new long[] {64, 64}, 0).isContiguousAbove(1));
            assertFalse(c.view(wide, new long[] {4, 1, 3}, new long[] {64, 16}, 0).isContiguousAbove(1));
            assertTrue(c.view(wide, new long[] {4, 3}, new long[] {64}, 0).isContiguousAbove(1));
            assertFalse(c.view(wide, new long[] {4, 3}, new long[] {64}, 0).isContiguous());
            // a view of a view is checked from the root: the inner view starts 2 rows into 12
            Tensor inner = c.view(a, new long[] {4, 10}, new long[] {a.nb(1)}, 2 * a.nb(1));
            c.view(inner, new long[] {4, 10}, new long[] {a.nb(1)}, 0);
        }
    }

    @Test
    void rmsNormMatchesJava() {
        int d = 96, rows = 3;
        float[] x = randoms(d * rows);
        try (Run r = new Run()) {
            Tensor t = r.input(GgmlType.F32, d, rows);
            r.allocateInputs();
            t.setFloats(x);
            float[] got = r.compute(c -> c.rmsNorm(t, 1e-5f));
            float[] want = new float[x.length];
            for (int row = 0; row < rows; row++) {
                double ss = 0;
                for (int i = 0; i < d; i++) {
                    ss += x[row * d + i] * x[row * d + i];
                }
                double scale = 1 / Math.sqrt(ss / d + 1e-5);
                for (int i = 0; i < d; i++) {
                    want[row * d + i] = (float) (x[row * d + i] * scale);
                }
            }
            assertClose(want, got, 1e-5);
        }
    }

    @Test
    void ropeNormalMatchesJava() {
        int hd = 64, heads = 2, tokens = 3;
        float base = 10000f;
        float[] x = randoms(hd * heads * tokens);
        int[] pos = {0, 7, 1000};
        try (Run r = new Run()) {
            Tensor t = r.input(GgmlType.F32, hd, heads, tokens), p = r.input(GgmlType.I32, tokens);
            r.allocateInputs();
            t.setFloats(x);
            p.setInts(pos);
            float[] got = r.compute(c -> c.ropeExt(t, p, null, hd, GgmlContext.ROPE_NORMAL, 0, base, 1f, 0f, 1f, 0f, 0f));
            float[] want = new float[x.length];
            for (int tok = 0; tok < tokens; tok++) {
                for (int h = 0; h < heads; h++) {
                    int o = (tok * heads + h) * hd;
                    for (int i = 0; i < hd / 2; i++) {
                        double theta = pos[tok] * Math.pow(base, -2.0 * i / hd);
                        double x0 = x[o + 2 * i], x1 = x[o + 2 * i + 1];
                        want[o + 2 * i] = (float) (x0 * Math.cos(theta) - x1 * Math.sin(theta));
                        want[o + 2 * i + 1] = (float) (x0 * Math.sin(theta) + x1 * Math.cos(theta));
                    }
                }
            }
            assertClose(want, got, 1e-4);
        }
    }

    @Test
    void softMaxWithMaskAndScaleMatchesJava() {
        int n = 10, rows = 4;
        float[] a = randoms(n * rows);
        float[] mask = new float[n * rows];
        for (int row = 0; row < rows; row++) {
            for (int i = 0; i < n; i++) {
                mask[row * n + i] = i > row + 5 ? Float.NEGATIVE_INFINITY : 0f;
            }
        }
        try (Run r = new Run()) {
            Tensor ta = r.input(GgmlType.F32, n, rows), tm = r.input(GgmlType.F32, n, rows);
            r.allocateInputs();
            ta.setFloats(a);
            tm.setFloats(mask);
            float[] got = r.compute(c -> c.softMaxExt(ta, tm, 0.5f, 0f));
            float[] want = new float[a.length];
            for (int row = 0; row < rows; row++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                double[] z = new double[n];
                for (int i = 0; i < n; i++) {
                    z[i] = a[row * n + i] * 0.5 + mask[row * n + i];
                    max = Math.max(max, z[i]);
                }
                for (int i = 0; i < n; i++) {
                    sum += Math.exp(z[i] - max);
                }
                for (int i = 0; i < n; i++) {
                    want[row * n + i] = (float) (Math.exp(z[i] - max) / sum);
                }
            }
            assertClose(want, got, 1e-5);
        }
    }

    @Test
    void flashAttentionWithGqaAndMaskMatchesJava() {
        int d = 64, nq = 2, nkv = 16, heads = 4, kvHeads = 2;
        float[] q = randoms(d * nq * heads), k = randoms(d * nkv * kvHeads), v = randoms(d * nkv * kvHeads);
        float[] mask = new float[nkv * nq];
        for (int i = 0; i < nq; i++) {
            for (int j = 0; j < nkv; j++) {
                mask[i * nkv + j] = j > 10 + i ? Float.NEGATIVE_INFINITY : 0f;
            }
        }
        float scale = (float) (1 / Math.sqrt(d));
        try (Run r = new Run()) {
            Tensor tq = r.input(GgmlType.F32, d, nq, heads);
            Tensor tk = r.input(GgmlType.F16, d, nkv, kvHeads);
            Tensor tv = r.input(GgmlType.F16, d, nkv, kvHeads);
            Tensor tm = r.input(GgmlType.F16, nkv, nq);
            r.allocateInputs();
            tq.setFloats(q);
            tk.setHalfs(k);
            tv.setHalfs(v);
            tm.setHalfs(mask);
            float[] got = r.compute(c -> c.flashAttnExt(tq, tk, tv, tm, scale, 0f, 0f));
            // result [d, heads, nq]
            float[] want = new float[d * heads * nq];
            for (int qi = 0; qi < nq; qi++) {
                for (int h = 0; h < heads; h++) {
                    int kh = h / (heads / kvHeads);
                    double[] s = new double[nkv];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < nkv; j++) {
                        double dot = 0;
                        for (int x = 0; x < d; x++) {
                            dot += q[(h * nq + qi) * d + x] * half(k[(kh * nkv + j) * d + x]);
                        }
                        s[j] = dot * scale + mask[qi * nkv + j];
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < nkv; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int x = 0; x < d; x++) {
                        double acc = 0;
                        for (int j = 0; j < nkv; j++) {
                            acc += s[j] / sum * half(v[(kh * nkv + j) * d + x]);
                        }
                        want[(qi * heads + h) * d + x] = (float) acc;
                    }
                }
            }
            assertClose(want, got, 2e-3);
        }
    }

    private static float half(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /** F16 rows gathered through an I32 bitcast come back byte for byte, still F16 (NaN payloads included). */
    @Test
    void bitcastGathersHalfRowsAsTheirBytes() {
        int d = 8, n = 6, heads = 2, k = 3;
        short[] halfs = new short[d * n * heads];
        for (int i = 0; i < halfs.length; i++) {
            halfs[i] = (short) random.nextInt(1 << 16);
        }
        halfs[1] = 0x7F80; // with halfs[0] = 0x0001: the I32 pair 0x7F800001, a signalling NaN as an F32
        halfs[0] = 0x0001;
        int[] idx = {0, 5, 2, 3, 3, 1};
        try (Run r = new Run(); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor ta = r.input(GgmlType.F16, d, n, heads), ti = r.input(GgmlType.I32, k, heads);
            r.allocateInputs();
            java.lang.foreign.MemorySegment src = arena.allocate(2L * halfs.length);
            java.lang.foreign.MemorySegment.copy(halfs, 0, src, java.lang.foreign.ValueLayout.JAVA_SHORT, 0, halfs.length);
            ta.write(src, 0);
            ti.setIndices(idx, n);
            ComputeGraph g = r.graphCtx.newGraph(64);
            Tensor pairs = r.graphCtx.bitcast(ta, GgmlType.I32);
            assertEquals(GgmlType.I32, pairs.type());
            assertArrayEquals(new long[] {d / 2, n, heads, 1}, pairs.shape());
            Tensor out = r.graphCtx.bitcast(r.graphCtx.getRows(pairs, ti), GgmlType.F16).output();
            assertEquals(GgmlType.F16, out.type());
            assertArrayEquals(new long[] {d, k, heads, 1}, out.shape());
            g.expand(out);
            try (GraphAllocator alloc = new GraphAllocator(backend)) {
                alloc.allocate(g);
                backend.compute(g);
                java.lang.foreign.MemorySegment got = arena.allocate(2L * d * k * heads);
                out.read(got, 0);
                short[] want = new short[d * k * heads];
                for (int h = 0; h < heads; h++) {
                    for (int j = 0; j < k; j++) {
                        System.arraycopy(halfs, (h * n + idx[h * k + j]) * d, want, (h * k + j) * d, d);
                    }
                }
                assertArrayEquals(want, got.toArray(java.lang.foreign.ValueLayout.JAVA_SHORT));
            }
        }
    }

    @Test
    void bitcastRefusesRowsThatDoNotDivide() {
        try (Run r = new Run()) {
            Tensor odd = r.input(GgmlType.F16, 3, 2);
            Tensor quantized = r.input(GgmlType.Q8_0, 32, 2);
            r.allocateInputs();
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.bitcast(odd, GgmlType.I32));
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.bitcast(quantized, GgmlType.I32));
        }
    }

    @Test
    void getRowsGathersPerKvHead() {
        int d = 8, n = 12, heads = 3, k = 4;
        float[] a = randoms(d * n * heads);
        int[] idx = {0, 5, 11, 2, 3, 3, 7, 1, 10, 9, 8, 0};
        try (Run r = new Run()) {
            Tensor ta = r.input(GgmlType.F32, d, n, heads), ti = r.input(GgmlType.I32, k, heads);
            r.allocateInputs();
            ta.setFloats(a);
            ti.setIndices(idx, n);
            float[] got = r.compute(c -> c.getRows(ta, ti));
            assertArrayEquals(gathered(a, idx, d, n, heads, k), got);
        }
    }

    /** Rows {@code idx} ({@code [k, heads]}) of {@code a} ({@code [d, n, heads]}), per head: get_rows' result. */
    private static float[] gathered(float[] a, int[] idx, int d, int n, int heads, int k) {
        float[] want = new float[d * k * heads];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < k; j++) {
                System.arraycopy(a, (h * n + idx[h * k + j]) * d, want, (h * k + j) * d, d);
            }
        }
        return want;
    }

    /**
     * A gather computed straight into a persistent tensor (here one as bytes, as a 2-byte cache's
     * rows are copied) leaves there what get_rows and a copy would, and the target's checks hold.
     */
    @Test
    void getRowsIntoWritesTheTargetsMemory() {
        int d = 8, n = 12, heads = 3, k = 4;
        float[] a = randoms(d * n * heads);
        int[] idx = {0, 5, 11, 2, 3, 3, 7, 1, 10, 9, 8, 0};
        try (Run r = new Run()) {
            Tensor ta = r.input(GgmlType.F16, d, n, heads), ti = r.input(GgmlType.I32, k, heads);
            Tensor target = r.input(GgmlType.F16, d, k, heads);
            Tensor small = r.input(GgmlType.F16, d, k - 1, heads);
            r.allocateInputs();
            ta.setHalfs(a);
            ti.setIndices(idx, n);
            target.setHalfs(new float[d * k * heads]);
            ComputeGraph g = r.graphCtx.newGraph(64);
            Tensor bytes = r.graphCtx.bitcast(ta, GgmlType.I32);
            Tensor gather = r.graphCtx.getRowsInto(bytes, ti, r.graphCtx.bitcast(target, GgmlType.I32));
            // its rows outlive the graph: flagged so that no backend leaves it uncomputed
            assertTrue(gather.isOutput());
            assertFalse(r.graphCtx.getRows(bytes, ti).isOutput());
            g.expand(gather);
            try (GraphAllocator alloc = new GraphAllocator(backend)) {
                alloc.allocate(g);
                backend.compute(g);
            }
            float[] halves = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                halves[i] = half(a[i]);
            }
            assertArrayEquals(gathered(halves, idx, d, n, heads, k), target.getFloats());
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.getRowsInto(bytes, ti, r.graphCtx.bitcast(small, GgmlType.I32)));
            Tensor strided = r.graphCtx.view(target, new long[] {d, k - 1, heads}, new long[] {target.nb(1), target.nb(2)}, 0);
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.getRowsInto(ta, ti, strided));
        }
    }

    @Test
    void topKReturnsTheLargestIndices() {
        int n = 50, rows = 3, k = 6;
        float[] a = randoms(n * rows);
        try (Run r = new Run()) {
            Tensor ta = r.input(GgmlType.F32, n, rows);
            r.allocateInputs();
            ta.setFloats(a);
            float[] got = r.compute(c -> c.topK(ta, k));
            for (int row = 0; row < rows; row++) {
                final int rr = row;
                int[] want = java.util.stream.IntStream.range(0, n).boxed()
                        .sorted((x, y) -> Float.compare(a[rr * n + y], a[rr * n + x]))
                        .limit(k).mapToInt(Integer::intValue).sorted().toArray();
                int[] have = new int[k];
                for (int j = 0; j < k; j++) {
                    have[j] = (int) got[row * k + j];
                }
                Arrays.sort(have);
                assertArrayEquals(want, have, "row " + row);
            }
        }
    }

    @Test
    void setRowsWritesIntoACacheTensor() {
        int d = 8, n = 6, heads = 2;
        float[] src = randoms(d * heads);
        try (Run r = new Run()) {
            Tensor cache = r.input(GgmlType.F16, d, n, heads);
            Tensor row = r.input(GgmlType.F32, d, 1, heads);
            Tensor at = r.input(GgmlType.I32, 1);
            r.allocateInputs();
            r.buffer.clear(0);
            row.setFloats(src);
            at.setIndices(new int[] {4}, n);
            r.compute(c -> c.setRows(cache, row, at));
            float[] got = cache.getFloats();
            for (int h = 0; h < heads; h++) {
                for (int j = 0; j < n; j++) {
                    for (int x = 0; x < d; x++) {
                        float want = j == 4 ? half(src[h * d + x]) : 0f;
                        assertEquals(want, got[(h * n + j) * d + x], 0f, "h" + h + " row " + j);
                    }
                }
            }
        }
    }

    @Test
    void badShapesAreRejectedInJavaNotByANativeAbort() {
        try (Run r = new Run()) {
            Tensor a = r.input(GgmlType.F32, 64, 8), b = r.input(GgmlType.F32, 32, 8);
            Tensor idx = r.input(GgmlType.F32, 4, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.graphCtx.mulMat(a, b));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("inner dimensions"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.getRows(a, idx));
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.topK(a, 65));
            Tensor c = r.input(GgmlType.F32, 48, 8);
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.add(a, c));
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.newTensor(GgmlType.Q8_0, 33));
            assertThrows(IllegalArgumentException.class, () -> r.graphCtx.view(a, new long[] {64, 9}, new long[] {256}, 0));
            Tensor ints = r.input(GgmlType.I32, 3);
            r.allocateInputs();
            assertThrows(IndexOutOfBoundsException.class, () -> ints.setIndices(new int[] {0, 8, 1}, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> ints.fillIndex(8, 8));
            assertThrows(IndexOutOfBoundsException.class, () -> ints.fillIndex(-1, 8));
            assertThrows(IllegalArgumentException.class, () -> a.setFloats(new float[3]));
            assertThrows(IllegalArgumentException.class, () -> a.fillInts(1)); // an F32 tensor
        }
    }

    @Test
    void everyElementTakesTheFilledValue() {
        try (Run r = new Run()) {
            Tensor ints = r.input(GgmlType.I32, 3, 2);
            r.allocateInputs();
            ints.fillIndex(7, 8);
            assertArrayEquals(new int[] {7, 7, 7, 7, 7, 7}, ints.getInts());
            ints.fillInts(-5);
            assertArrayEquals(new int[] {-5, -5, -5, -5, -5, -5}, ints.getInts());
        }
    }
}
