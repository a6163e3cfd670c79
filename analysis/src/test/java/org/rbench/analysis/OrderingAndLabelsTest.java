package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class OrderingAndLabelsTest {

    @Test
    void fullAttentionFirstThenByNameWithNumbersByValue() {
        List<String> methods = new ArrayList<>(List.of("streamingllm:k=4096", "recycled:k=4096,s=50",
                "recycled-dynamic:k=4096", "h2o:k=4096", "recycled:k=512,s=50", "full", "llamacpp",
                "recycled:k=4096,s=10"));
        methods.sort(MethodOrder.INSTANCE);
        assertEquals(List.of("full", "h2o:k=4096", "llamacpp", "recycled:k=512,s=50", "recycled:k=4096,s=10",
                "recycled:k=4096,s=50", "recycled-dynamic:k=4096", "streamingllm:k=4096"), methods);
    }

    @Test
    void naturalOrderComparesDigitRunsByValue() {
        List<String> tasks = new ArrayList<>(List.of("niah_multikey_10", "niah_multikey_2", "cwe", "niah_multikey_1",
                "qa_1"));
        tasks.sort(NaturalOrder.INSTANCE);
        assertEquals(List.of("cwe", "niah_multikey_1", "niah_multikey_2", "niah_multikey_10", "qa_1"), tasks);
        assertEquals(0, NaturalOrder.INSTANCE.compare("a7", "a7"));
        // Equal values spelled differently still order consistently with equals.
        assertEquals(-NaturalOrder.INSTANCE.compare("a07", "a7"), NaturalOrder.INSTANCE.compare("a7", "a07"));
    }

    @Test
    void methodLabelsUseThePapersNotation() {
        assertEquals("Full attention", MethodLabel.of("full"));
        assertEquals("Recycled K=4096 S=50", MethodLabel.of("recycled:k=4096,s=50"));
        assertEquals("StreamingLLM K=4096", MethodLabel.of("streamingllm:k=4096"));
        assertEquals("Oracle top-K K=512", MethodLabel.of("oracle:k=512"));
        assertEquals("llama.cpp (context shift) K=512", MethodLabel.of("llamacpp-shift:k=512"));
        assertEquals("H2O K=4096", MethodLabel.of("h2o:k=4096"));
        assertEquals("Recycled (dynamic) K=4096 sink=4", MethodLabel.of("recycled-dynamic:k=4096,sink=4"));
        assertEquals("mystery X=1 width=2", MethodLabel.of("mystery:x=1,width=2"));
    }

    @Test
    void lengthsReadLikeThePaper() {
        assertEquals("32K", LengthLabel.of(32768));
        assertEquals("128K", LengthLabel.of(131072));
        assertEquals("1000", LengthLabel.of(1000));
        assertEquals("512", LengthLabel.of(512));
    }

    @Test
    void groupKeysSortByModelMethodLengthTask() {
        List<GroupKey> keys = new ArrayList<>(List.of(
                new GroupKey("b", "full", 1, null),
                new GroupKey("a", "recycled:k=1", 2, "t"),
                new GroupKey("a", "full", 2, "t2"),
                new GroupKey("a", "full", 2, null),
                new GroupKey("a", "full", 1, "t")));
        keys.sort(GroupKey.ORDER);
        assertEquals(List.of(
                new GroupKey("a", "full", 1, "t"),
                new GroupKey("a", "full", 2, null),
                new GroupKey("a", "full", 2, "t2"),
                new GroupKey("a", "recycled:k=1", 2, "t"),
                new GroupKey("b", "full", 1, null)), keys);
    }
}
