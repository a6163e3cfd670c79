package org.rbench.core.testing;

import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which flash attention reads of a step graph the suite's CUDA build reads in place: the graph-shape rules of
 * native/patches/ggml-cuda-vec-reads-gathered-rows.diff's matcher, for tests that a strategy's graphs keep the
 * shape that matcher looks for (on a GPU a shape it misses costs only time, which no CPU test sees). Not the
 * kernel's own conditions (head size, rows a multiple of 256, the vector kernel chosen), nor where memory lives:
 * the indices must be an output or a tensor outside the graph (a buffer of its own), which the graph shows.
 */
public final class GatheredReads {
    /** Ops that compute nothing (views of their source's memory): ggml_op_is_empty's. */
    private static final List<String> EMPTY_OPS = List.of("NONE", "VIEW", "RESHAPE", "PERMUTE", "TRANSPOSE");

    /** Flash attention reads whose K or V is a gather, and those of them read in place. */
    public record Count(int gathered, int inPlace) {
        public Count plus(Count other) {
            return new Count(gathered + other.gathered, inPlace + other.inPlace);
        }
    }

    private GatheredReads() {
    }

    public static Count count(ComputeGraph graph) {
        List<Tensor> nodes = new ArrayList<>();
        Set<MemorySegment> inGraph = new HashSet<>();
        for (int i = 0; i < graph.nodeCount(); i++) {
            Tensor node = graph.node(i);
            nodes.add(node);
            inGraph.add(node.address());
        }
        int gathered = 0;
        int inPlace = 0;
        for (int i = 0; i < nodes.size(); i++) {
            Tensor fa = nodes.get(i);
            if (!fa.opName().equals("FLASH_ATTN_EXT")) {
                continue;
            }
            int[] kPerIndex = new int[1];
            int[] vPerIndex = new int[1];
            Tensor kg = gather(fa.source(1), kPerIndex);
            Tensor vg = gather(fa.source(2), vPerIndex);
            if (kg == null && vg == null) {
                continue;
            }
            gathered++;
            if (kg == null || vg == null || kPerIndex[0] != vPerIndex[0] || fa.source(5) != null
                    || !same(kg.source(1), vg.source(1))) {
                continue;
            }
            Tensor index = kg.source(1);
            Tensor indexRoot = root(index);
            boolean indexOutlives = indexRoot.isOutput() || index.isOutput() || !inGraph.contains(indexRoot.address());
            if (indexOutlives && onlyFlashAttentionReads(nodes, kg, fa, fa.source(1))
                    && onlyFlashAttentionReads(nodes, vg, fa, fa.source(2)) && !writtenBetween(nodes, kg, vg, i)) {
                inPlace++;
            }
        }
        return new Count(gathered, inPlace);
    }

    /** The get_rows whose retyped rows t is (a view or reshape of it, whole), rows per index in {@code perIndex}; else null. */
    private static Tensor gather(Tensor t, int[] perIndex) {
        if (t.type() != GgmlType.F16 || !(t.opName().equals("VIEW") || t.opName().equals("RESHAPE")) || t.viewOffset() != 0
                || !t.isContiguous()) {
            return null;
        }
        Tensor g = t.viewSource();
        if (g == null || !g.opName().equals("GET_ROWS") || g.type() != GgmlType.I32 || g.viewSource() != null || g.isOutput()) {
            return null;
        }
        Tensor cache = g.source(0);
        Tensor index = g.source(1);
        long rowBytes = t.ne(0) * 2;
        long indexBytes = cache.ne(0) * 4;
        if (cache.type() != GgmlType.I32 || indexBytes % rowBytes != 0) {
            return null;
        }
        long r = indexBytes / rowBytes;
        if ((r != 1 && r != 16) || (r > 1 && cache.nb(1) != r * rowBytes) || g.ne(1) * r != t.ne(1) || index.type() != GgmlType.I32
                || !index.isContiguous() || index.ne(0) != g.ne(1) || index.ne(1) != cache.ne(2)) {
            return null;
        }
        perIndex[0] = (int) r;
        return g;
    }

    /** Nothing but views of g and flash attention's {@code view} reads g's memory. */
    private static boolean onlyFlashAttentionReads(List<Tensor> nodes, Tensor g, Tensor fa, Tensor view) {
        for (Tensor node : nodes) {
            boolean viewOfG = same(node.viewSource(), g);
            if (viewOfG && node.isOutput()) {
                return false;
            }
            for (int s = 0; s < Tensor.MAX_SOURCES; s++) {
                Tensor src = node.source(s);
                if (src == null || !(same(src, g) || same(src.viewSource(), g))) {
                    continue;
                }
                if (!(viewOfG && EMPTY_OPS.contains(node.opName())) && !(same(node, fa) && same(src, view))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Whether a node between the first gather and flash attention {@code fa} writes into the caches' or the index's tensors. */
    private static boolean writtenBetween(List<Tensor> nodes, Tensor kg, Tensor vg, int fa) {
        int first = Math.min(indexOf(nodes, kg), indexOf(nodes, vg));
        List<Tensor> read = List.of(root(kg.source(0)), root(vg.source(0)), root(kg.source(1)));
        for (int j = first + 1; j < fa; j++) {
            Tensor w = nodes.get(j);
            if (EMPTY_OPS.contains(w.opName())) {
                continue;
            }
            for (Tensor r : read) {
                if (same(root(w), r)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int indexOf(List<Tensor> nodes, Tensor t) {
        for (int i = 0; i < nodes.size(); i++) {
            if (same(nodes.get(i), t)) {
                return i;
            }
        }
        return -1;
    }

    private static Tensor root(Tensor t) {
        return t.viewSource() != null ? t.viewSource() : t;
    }

    private static boolean same(Tensor a, Tensor b) {
        return a != null && b != null && a.address().equals(b.address());
    }
}
