package org.rbench.harness.run;

import org.junit.jupiter.api.Test;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.model.Architecture;
import org.rbench.core.model.HyperParameters;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MethodTest {
    private static String error(String spec) {
        return assertThrows(IllegalArgumentException.class, () -> Method.parse(spec)).getMessage();
    }

    @Test
    void anEngineStrategyCarriesItsSpecAndStrategy() {
        Method m = Method.parse("recycled:k=4096,s=50");
        Method.EngineStrategy e = assertInstanceOf(Method.EngineStrategy.class, m);
        assertFalse(m.isReference());
        assertEquals("recycled:k=4096,s=50", m.text());
        assertEquals("recycled", m.name());
        assertEquals("recycled", e.strategy().name());
        assertEquals("4096", e.spec().params().get("k"));
        assertEquals("recycled:k=4096,s=50", m.toString(), "messages and printf show the spec text");
    }

    @Test
    void llamacppIsTheReferenceAndTakesNoParameters() {
        Method m = Method.parse("llamacpp");
        assertInstanceOf(Method.Reference.class, m);
        assertTrue(m.isReference());
        assertEquals("llamacpp", m.text());
        assertEquals("llamacpp", m.name());
        assertEquals("llamacpp", m.toString());
        String e = error("llamacpp:k=4096");
        assertTrue(e.contains("unknown parameter 'k'"), e);
        assertTrue(e.contains("llamacpp:k=4096"), e);
    }

    @Test
    void llamacppShiftIsAReferenceWithAContextOfKTokens() {
        Method m = Method.parse("llamacpp-shift:k=4096");
        Method.Reference r = assertInstanceOf(Method.Reference.class, m);
        assertTrue(m.isReference());
        assertEquals("llamacpp-shift", m.name());
        assertEquals(new org.rbench.core.reference.ContextShift(4096, 4), r.contextShift(), "keep defaults to 4");
        assertEquals(new org.rbench.core.reference.ContextShift(64, 0),
                ((Method.Reference) Method.parse("llamacpp-shift:k=64,keep=0")).contextShift());
        assertEquals(null, ((Method.Reference) Method.parse("llamacpp")).contextShift());
        assertTrue(error("llamacpp-shift").contains("k (the context in tokens) is required"));
        assertTrue(error("llamacpp-shift:k=0").contains("k must be positive"));
        assertTrue(error("llamacpp-shift:k=4").contains("more than 4 tokens"));
        assertTrue(error("llamacpp-shift:k=64,keep=-1").contains("keep must be >= 0"));
        assertTrue(error("llamacpp-shift:k=64,sink=4").contains("unknown parameter 'sink'"));
        assertTrue(error("fulll").contains("llamacpp-shift"), "the unknown-method message lists it");
        assertEquals(List.of("full", "llamacpp-shift:k=64,keep=2", "llamacpp"),
                Method.parseList("full,llamacpp-shift:k=64,keep=2,llamacpp").stream().map(Method::text).toList());
        String e = assertThrows(IllegalArgumentException.class, () -> Method.parseEngine("llamacpp-shift:k=64", "generate"))
                .getMessage();
        assertTrue(e.startsWith("generate runs the engine's methods"), e);
    }

    @Test
    void theTextIsWhatCsvRowsWrite() {
        // the method column is the spec as written (trimmed); method_name its lower-case name
        assertEquals("recycled:k=4096;s=50", Method.parse(" recycled:k=4096;s=50 ").text());
        assertEquals("H2O:k=256", Method.parse("H2O:k=256").text());
        assertEquals("h2o", Method.parse("H2O:k=256").name());
        assertEquals("full", Method.parse("full").text());
    }

    @Test
    void unknownMethodsListTheKnownOnesWithTheReference() {
        String e = error("fulll");
        assertTrue(e.startsWith("unknown method 'fulll'"), e);
        assertTrue(e.contains("full") && e.contains("h2o") && e.contains("recycled") && e.contains("llamacpp"), e);
    }

    @Test
    void badParametersAreClearErrors() {
        assertTrue(error("recycled:k=8,stride=2").contains("unknown parameter 'stride'"));
        assertTrue(error("h2o:k=many").contains("k must be an integer, not 'many'"));
        assertTrue(error("recycled:k=-4").contains("k must be positive"));
        assertTrue(error("h2o:gqa=median").contains("gqa must be one of"));
        assertTrue(error("full:x").contains("is not key=value"));
        assertTrue(error("full:k=1").contains("unknown parameter 'k'"));
        assertTrue(error("").contains("empty method spec"));
        assertTrue(error("!full").contains("bad method name"));
    }

    @Test
    void engineOnlyUsersRefuseTheReference() {
        assertEquals("h2o:k=8", Method.parseEngine("h2o:k=8", "generate").text());
        String e = assertThrows(IllegalArgumentException.class, () -> Method.parseEngine("llamacpp", "generate")).getMessage();
        assertTrue(e.startsWith("generate runs the engine's methods; 'llamacpp'"), e);
        assertThrows(IllegalArgumentException.class, () -> Method.parseEngine("fulll", "generate"));
    }

    @Test
    void llamaBenchTheProgramIsABenchOnlyReference() {
        Method m = Method.parseForBench("llama-bench");
        assertInstanceOf(Method.LlamaBench.class, m);
        assertTrue(m.isReference(), "not the engine: it needs a real prefill like the references");
        assertEquals("llama-bench", m.text());
        assertInstanceOf(Method.EngineStrategy.class, Method.parseForBench("full"));
        assertInstanceOf(Method.Reference.class, Method.parseForBench("llamacpp"));
        String sweep = error("llama-bench");
        assertTrue(sweep.contains("runs only in rbench bench"), sweep);
        String params = assertThrows(IllegalArgumentException.class, () -> Method.parseForBench("llama-bench:t=2")).getMessage();
        assertTrue(params.contains("unknown parameter 't'"), params);
    }

    @Test
    void listsSplitBeforeNamesNotBeforeParameters() {
        List<Method> list = Method.parseList("full,recycled:k=1024,s=50,h2o:heavy=8,recent=24,llamacpp, streamingllm:k=64");
        assertEquals(List.of("full", "recycled:k=1024,s=50", "h2o:heavy=8,recent=24", "llamacpp", "streamingllm:k=64"),
                list.stream().map(Method::text).toList());
        assertEquals(List.of(false, false, false, true, false), list.stream().map(Method::isReference).toList());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Method.parseList("full,recycled:k=8,stride=2"))
                .getMessage().contains("unknown parameter 'stride'"));
    }

    @Test
    void theRecordsHoldOnlyValidSpecs() {
        org.rbench.core.attention.Strategy h2o = ((Method.EngineStrategy) Method.parse("h2o:k=8")).strategy();
        assertThrows(IllegalArgumentException.class,
                () -> new Method.EngineStrategy(org.rbench.core.attention.MethodSpec.parse("h2o:k=x"), h2o));
        assertThrows(IllegalArgumentException.class,
                () -> new Method.EngineStrategy(org.rbench.core.attention.MethodSpec.parse("full"), h2o));
        assertThrows(IllegalArgumentException.class,
                () -> new Method.Reference(org.rbench.core.attention.MethodSpec.parse("full")));
        assertThrows(IllegalArgumentException.class,
                () -> new Method.Reference(org.rbench.core.attention.MethodSpec.parse("llamacpp:shift=1")));
    }

    @Test
    void equalSpecsAreEqualMethods() {
        assertEquals(Method.parse("h2o:k=8"), Method.parse("h2o:k=8"));
        assertEquals(Method.parse("h2o:k=8").hashCode(), Method.parse("h2o:k=8").hashCode());
        assertEquals(Method.parse("llamacpp"), Method.parse("llamacpp"));
        assertNotEquals(Method.parse("h2o:k=8"), Method.parse("h2o:k=16"));
    }

    @Test
    void anEngineStrategyMakesAFreshPolicyPerRun() {
        HyperParameters hp = new HyperParameters(Architecture.LLAMA, 64, 2, 4, 2, 16, 256, 1024, 32000, 1e-5f, 5e5f, 1f, 0,
                false);
        Method.EngineStrategy full = Method.parseEngine("full", "test");
        AttentionPolicy a = full.create(hp, 100);
        AttentionPolicy b = full.create(hp, 100);
        assertEquals("full", a.name());
        assertTrue(a != b, "one policy per run");
        AttentionPolicy h2o = Method.parseEngine("h2o:k=8", "test").create(hp, 100);
        assertTrue(h2o.name().startsWith("h2o"), h2o.name());
        a.close();
        b.close();
        h2o.close();
    }
}
