package org.rbench.llamacpp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/** A ggml compute graph (lives in the memory of the context that made it). */
public final class ComputeGraph {
    private final MemorySegment graph;
    private final int maxNodes;
    private final Set<Long> seen = new HashSet<>();
    private int nodes;
    private int leafs;

    ComputeGraph(MemorySegment graph, int maxNodes) {
        if (graph.equals(MemorySegment.NULL)) {
            throw new NativeCallException("ggml_new_graph_custom returned NULL." + NativeLog.tail(3));
        }
        this.graph = graph;
        this.maxNodes = maxNodes;
    }

    public MemorySegment address() {
        return graph;
    }

    /**
     * Adds {@code t} and everything it depends on. Nodes are computed in the order they
     * were expanded, which is how a cache write is forced before the read that needs it.
     */
    public ComputeGraph expand(Tensor t) {
        countNew(t);
        Ggml.ggml_build_forward_expand(graph, t.address());
        return this;
    }

    /**
     * ggml asserts (and aborts) when a graph's node or leaf array is full, so the tensors
     * that expanding {@code t} would add are counted here first, walking src pointers.
     */
    private void countNew(Tensor root) {
        int newNodes = 0;
        int newLeafs = 0;
        Set<Long> added = new HashSet<>();
        ArrayDeque<MemorySegment> stack = new ArrayDeque<>();
        stack.push(root.address());
        while (!stack.isEmpty()) {
            MemorySegment t = stack.pop().reinterpret(Tensor.SIZE);
            long key = t.address();
            if (seen.contains(key) || !added.add(key)) {
                continue;
            }
            boolean isLeaf = t.get(ValueLayout.JAVA_INT, Tensor.OFF_OP) == 0;
            if (isLeaf) {
                newLeafs++;
            } else {
                newNodes++;
            }
            for (int i = 0; i < Tensor.MAX_SOURCES; i++) {
                MemorySegment src = t.get(ValueLayout.ADDRESS, Tensor.OFF_SRC + 8L * i);
                if (!src.equals(MemorySegment.NULL)) {
                    stack.push(src);
                }
            }
        }
        if (nodes + newNodes > maxNodes || leafs + newLeafs > maxNodes) {
            throw new IllegalStateException("compute graph of " + maxNodes + " nodes is too small: it would hold "
                    + (nodes + newNodes) + " nodes and " + (leafs + newLeafs) + " leafs");
        }
        seen.addAll(added);
        nodes += newNodes;
        leafs += newLeafs;
    }

    /**
     * Makes this graph hold {@code node} alone, its sources read as they are: for computing a
     * built and allocated graph one node at a time (an op profile). ggml_graph_add_node does
     * not walk the sources, so the node must have been computed in order after them.
     */
    public ComputeGraph holdOnly(Tensor node) {
        if (maxNodes < 1) {
            throw new IllegalStateException("a graph of " + maxNodes + " nodes holds none");
        }
        Ggml.ggml_graph_clear(graph);
        Ggml.ggml_graph_add_node(graph, node.address());
        seen.clear();
        seen.add(node.address().address());
        nodes = 1;
        leafs = 0;
        return this;
    }

    public int nodeCount() {
        return Ggml.ggml_graph_n_nodes(graph);
    }

    public int maxNodes() {
        return maxNodes;
    }

    /** The last node (i < 0 counts from the end, as in ggml_graph_node). */
    public Tensor node(int i) {
        int n = nodeCount();
        if (i >= n || i < -n) {
            throw new IndexOutOfBoundsException("node " + i + " of " + n);
        }
        return Tensor.of(Ggml.ggml_graph_node(graph, i));
    }
}
