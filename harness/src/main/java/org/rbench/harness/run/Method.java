package org.rbench.harness.run;

import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategies;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.reference.ContextShift;
import org.rbench.core.reference.LlamaReference;
import org.rbench.llamacpp.GgmlType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A method as the harness runs it, parsed and validated once where it enters (a command-line
 * option, a sweep config): either an {@link EngineStrategy} (a registered {@link Strategy}
 * and its spec, which makes the engine's {@link AttentionPolicy} for each run) or a
 * {@link Reference} (stock {@code llama_decode} of the same model, through core's
 * {@link LlamaReference}). Both carry their {@link MethodSpec}: {@link #text()} is what CSV
 * rows write in the {@code method} column, {@link #name()} what they write in
 * {@code method_name}.
 */
public sealed interface Method permits Method.EngineStrategy, Method.Reference, Method.LlamaBench {

    /**
     * Where a comma-separated list starts a new method: before a name followed by ':', ','
     * or the end, never before a key=value parameter ({@code full,recycled:k=1024,s=50,h2o:k=1024}
     * holds three methods). For picocli's {@code split}.
     */
    String LIST_SEPARATOR = ",(?=\\s*[a-z][a-z0-9_.-]*\\s*(:|,|$))";

    /** The spec as written (trimmed), e.g. {@code recycled:k=4096,s=50}. */
    MethodSpec spec();

    /** Whether this runs stock llama_decode instead of the engine. */
    boolean isReference();

    /** The spec text: the {@code method} column of a CSV row and the key a resumed run matches. */
    default String text() {
        return spec().text();
    }

    /** The spec's name part, lower case: the {@code method_name} column, e.g. {@code recycled}. */
    default String name() {
        return spec().name();
    }

    /**
     * Parses and validates a spec: the stock llama.cpp reference ({@code llamacpp}, no
     * parameters, or {@code llamacpp-shift:k=...[,keep=4]}) or a registered strategy with
     * parameters it knows and values it accepts.
     *
     * @throws IllegalArgumentException naming the method and what is wrong with it
     */
    static Method parse(String text) {
        MethodSpec spec = MethodSpec.parse(text);
        if (Reference.NAMES.contains(spec.name())) {
            return new Reference(spec);
        }
        if (spec.name().equals(LlamaBench.NAME)) {
            throw new IllegalArgumentException("'" + LlamaBench.NAME + "' (the llama-bench program) runs only in rbench bench");
        }
        Map<String, Strategy> all = Strategies.all();
        Strategy strategy = all.get(spec.name());
        if (strategy == null) {
            Set<String> known = new TreeSet<>(all.keySet());
            known.addAll(Reference.NAMES);
            throw new IllegalArgumentException("unknown method '" + spec.name() + "' (known: " + known + ")");
        }
        return new EngineStrategy(spec, strategy);
    }

    /**
     * Parses a spec for {@code rbench bench}: any method, or stock llama-bench ({@link LlamaBench},
     * which only bench runs).
     */
    static Method parseForBench(String text) {
        MethodSpec spec = MethodSpec.parse(text);
        return spec.name().equals(LlamaBench.NAME) ? new LlamaBench(spec) : parse(text);
    }

    /**
     * Parses a spec that must run on the engine; {@code user} names what refuses the
     * reference in the message, e.g. "generate".
     */
    static EngineStrategy parseEngine(String text, String user) {
        return parse(text).requireEngine(user);
    }

    /** Parses a comma-separated list ({@link #LIST_SEPARATOR}); blank entries are skipped. */
    static List<Method> parseList(String list) {
        List<Method> out = new ArrayList<>();
        for (String part : list.split(LIST_SEPARATOR)) {
            if (!part.isBlank()) {
                out.add(parse(part));
            }
        }
        return List.copyOf(out);
    }

    /**
     * This method as an engine strategy, or an IllegalArgumentException saying that
     * {@code user} runs only the engine's methods.
     */
    default EngineStrategy requireEngine(String user) {
        if (this instanceof EngineStrategy e) {
            return e;
        }
        throw new IllegalArgumentException(user + " runs the engine's methods; '" + text()
                + "' is the stock llama_decode path (see rbench methods)");
    }

    /**
     * A registered strategy with its spec, which the strategy validates on construction.
     * Equal when the specs are equal (the strategy follows from the spec's name).
     */
    record EngineStrategy(MethodSpec spec, Strategy strategy) implements Method {
        public EngineStrategy {
            if (!strategy.name().equals(spec.name())) {
                throw new IllegalArgumentException("strategy '" + strategy.name() + "' for method '" + spec.text() + "'");
            }
            strategy.validate(spec);
        }

        @Override
        public boolean isReference() {
            return false;
        }

        /**
         * A fresh policy for one run over a prompt of {@code promptTokens} tokens (some
         * defaults depend on it); close it after the run.
         */
        public AttentionPolicy create(HyperParameters model, int promptTokens) {
            return strategy.create(spec, model, promptTokens);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof EngineStrategy other && spec.equals(other.spec);
        }

        @Override
        public int hashCode() {
            return spec.hashCode();
        }

        @Override
        public String toString() {
            return spec.text();
        }
    }

    /**
     * Stock llama_decode of the same model with its own KV cache: the speed and correctness
     * reference ({@code llamacpp}, no parameters, a context that holds the whole run), or
     * llama.cpp's own context handling at a budget ({@code llamacpp-shift:k=N[,keep=4]}: a
     * context of N tokens, the prompt truncated as llama.cpp's server truncates it and the
     * context shifted when generation fills it; see {@link ContextShift}). The spec is checked
     * on construction.
     */
    record Reference(MethodSpec spec) implements Method {
        /** The spec name of plain llama.cpp. */
        public static final String NAME = "llamacpp";

        /** The spec name of llama.cpp with a context of k tokens, truncated and shifted. */
        public static final String SHIFT_NAME = "llamacpp-shift";

        /** Both names. */
        public static final Set<String> NAMES = Set.of(NAME, SHIFT_NAME);

        /** The line {@code rbench methods} prints for it. */
        public static final String DESCRIPTION = "stock llama_decode of the same model (the speed and correctness reference)";

        /** The line {@code rbench methods} prints for the shifting variant. */
        public static final String SHIFT_DESCRIPTION = "stock llama_decode with a context of k tokens, as a llama.cpp user has"
                + " it: a longer prompt truncated as llama.cpp's server does (the first keep tokens kept, whole blocks erased"
                + " from the middle), and when generation fills the context, (cached - keep) / 2 tokens after the kept ones"
                + " discarded and the rest shifted back; k (required), keep=4";

        /** Default of {@code keep}: the first tokens a shift and a truncation keep (METHOD.md). */
        public static final int DEFAULT_KEEP = 4;

        public Reference {
            if (!NAMES.contains(spec.name())) {
                throw new IllegalArgumentException("method '" + spec.text() + "' is not " + NAME + " or " + SHIFT_NAME);
            }
            if (spec.name().equals(NAME)) {
                spec.requireOnly(Set.of());
            } else {
                spec.requireOnly(Set.of("k", "keep"));
                contextShift(spec);
            }
        }

        @Override
        public boolean isReference() {
            return true;
        }

        /** The context shift of {@code llamacpp-shift}, or null for plain {@code llamacpp}. */
        public ContextShift contextShift() {
            return spec.name().equals(SHIFT_NAME) ? contextShift(spec) : null;
        }

        private static ContextShift contextShift(MethodSpec spec) {
            if (!spec.has("k")) {
                throw new IllegalArgumentException("method '" + spec.text() + "': k (the context in tokens) is required");
            }
            int k = spec.positiveInt("k", 0);
            int keep = spec.intParam("keep", DEFAULT_KEEP);
            if (keep < 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': keep must be >= 0, got " + keep);
            }
            try {
                return new ContextShift(k, keep);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("method '" + spec.text() + "': " + e.getMessage(), e);
            }
        }

        /**
         * llama.cpp over {@code model} as this method runs it: flash attention, an F16 KV
         * cache, prompts in batches of 512, every layer on the first GPU when {@code onGpu}.
         * Plain llama.cpp gets a context of {@code contextSize} rows (enough for the run);
         * {@code llamacpp-shift} gets its k, whatever the run needs.
         */
        public LlamaReference open(Path model, int contextSize, int threads, boolean onGpu) {
            ContextShift shift = contextShift();
            if (shift != null) {
                return new LlamaReference(model, shift, 512, threads, true, GgmlType.F16, onGpu);
            }
            return new LlamaReference(model, contextSize, 512, threads, true, GgmlType.F16, onGpu);
        }

        @Override
        public String toString() {
            return spec.text();
        }
    }

    /**
     * Stock llama-bench, the program (tools/llama-bench of the pinned llama.cpp, built by
     * scripts/build-llama-bench.sh), run by {@code rbench bench} beside the engine on the same
     * model, threads, depth and tokens: the yardstick both the engine and {@link Reference} are
     * held to. It takes no parameters; it fills its own cache (a prefill of random tokens), so
     * it needs {@code --fill prefill} like the references.
     */
    record LlamaBench(MethodSpec spec) implements Method {
        /** Its spec name. */
        public static final String NAME = "llama-bench";

        /** The line {@code rbench methods} prints for it. */
        public static final String DESCRIPTION = "stock llama-bench, the program, run beside the engine (rbench bench only;"
                + " built by scripts/build-llama-bench.sh); depth=D: at depth D whatever the length (depth=0: an empty"
                + " context, the speed a long context is measured against)";

        public LlamaBench {
            if (!spec.name().equals(NAME)) {
                throw new IllegalArgumentException("method '" + spec.text() + "' is not " + NAME);
            }
            spec.requireOnly(Set.of("depth"));
            if (spec.intParam("depth", 0) < 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': depth must be 0 or more");
            }
        }

        /** The depth llama-bench decodes at for a bench length of {@code length}: its own, or the spec's depth. */
        public int depthFor(int length) {
            return spec.has("depth") ? spec.intParam("depth", 0) : length;
        }

        @Override
        public boolean isReference() {
            return true;
        }

        @Override
        public String toString() {
            return spec.text();
        }
    }
}
