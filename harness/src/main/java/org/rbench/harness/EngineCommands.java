package org.rbench.harness;

import org.rbench.core.ModelSession;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.Strategies;
import org.rbench.core.attention.Strategy;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.generate.GenerationOptions;
import org.rbench.core.generate.GenerationResult;
import org.rbench.core.parity.Parity;
import org.rbench.core.parity.ParityReport;
import org.rbench.core.parity.ParityRequest;
import org.rbench.gguf.GgufFile;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.harness.run.Method;
import org.rbench.harness.run.Models;
import org.rbench.llamacpp.GgmlType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** Subcommands over the engine: generate, parity, make-model, methods. */
final class EngineCommands {
    private EngineCommands() {
    }

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = "Generate text with a method, streaming it; prints prefill and decode timings.")
    static final class Generate implements Callable<Integer> {
        @Option(names = "--model", defaultValue = Models.DEFAULT, description = "GGUF model (default: the embedded model).")
        String model;

        static final class PromptSource {
            @Option(names = "--prompt", description = "The prompt text.")
            String text;

            @Option(names = "--prompt-file", paramLabel = "FILE", description = "A UTF-8 file holding the prompt.")
            Path file;
        }

        @ArgGroup(exclusive = true, multiplicity = "1")
        PromptSource prompt;

        @Option(names = "--method", defaultValue = "full", converter = MethodConverters.EngineOnly.class,
                description = "Method spec (default: ${DEFAULT-VALUE}); see rbench methods.")
        Method.EngineStrategy method;

        @Option(names = "--max-tokens", defaultValue = "128")
        int maxTokens;

        @Option(names = "--stop", description = "Stop strings (repeatable).")
        String[] stops = new String[0];

        @Option(names = "--backend", defaultValue = "best")
        String backend;

        @Mixin
        ThreadsOption threads;

        @Option(names = "--context", description = "Context size (default: prompt + max tokens).")
        Integer context;

        @Option(names = "--queue-ahead", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "On a GPU, queue each step before the host has read the token it feeds, the step graph"
                        + " taking it from the step before (default); --no-queue-ahead waits for every token.")
        boolean queueAhead;

        @Override
        public Integer call() throws IOException {
            Path file = Models.resolve(model, System.err).path();
            String text = prompt.text != null ? prompt.text : Files.readString(prompt.file, StandardCharsets.UTF_8);
            if (text.isEmpty()) {
                throw new IllegalArgumentException("the prompt is empty");
            }
            int promptTokens;
            try (var vocabOnly = org.rbench.llamacpp.LlamaModel.load(file, org.rbench.llamacpp.LlamaModel.Options.vocabularyOnly())) {
                promptTokens = vocabOnly.vocabulary().tokenize(text, true, true).length;
            }
            int ctx = context != null ? context : promptTokens + maxTokens + 1;
            try (ModelSession s = ModelSession.open(file, backend, threads.count, EngineOptions.defaults(ctx))) {
                AttentionPolicy policy = method.create(s.weights().hyperParameters(), promptTokens);
                GenerationOptions options = GenerationOptions.maxTokens(maxTokens).withStopStrings(stops).withQueueAhead(queueAhead);
                GenerationResult r = s.generator().generate(text, options, policy, (i, token, piece) -> {
                    System.out.print(piece);
                    System.out.flush();
                });
                policy.close();
                System.out.println();
                System.err.printf(Locale.ROOT, "[%s on %s: %d prompt tokens, prefill %.1f ms; %d tokens, %.2f ms/token; stop: %s]%n",
                        method.text(), s.backend().deviceDescription(), promptTokens, r.prefill().nanos() / 1e6, r.tokens().length,
                        r.decode().steps() == 0 ? 0 : r.decode().totalWallNanos() / 1e6 / r.decode().steps(), r.stopReason());
            }
            return 0;
        }
    }

    @Command(name = "parity", mixinStandardHelpOptions = true,
            description = "Run the engine and stock llama_decode side by side on a model; compare every logit."
                    + " Exit 1 beyond tolerance.")
    static final class ParityCheck implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "GGUF model file.")
        Path model;

        @Option(names = "--tokens", defaultValue = "256", description = "Prompt tokens (random ids, seeded).")
        int tokens;

        @Option(names = "--steps", defaultValue = "64", description = "Greedy decode steps after the prompt.")
        int steps;

        @Option(names = "--backend", defaultValue = "cpu")
        String backend;

        @Mixin
        ThreadsOption threads;

        @Option(names = "--method", defaultValue = "full", converter = MethodConverters.EngineOnly.class,
                description = "Method spec; one whose budget covers the context must match full attention.")
        Method.EngineStrategy method;

        @Option(names = "--cache", defaultValue = "f32",
                description = "KV cache type: f32 (exact: no flash attention, tolerance 1e-4, every argmax agrees) or f16"
                        + " (flash attention; relative tolerance 1e-2, argmax may differ only at near-ties).")
        String cache;

        @Option(names = "--queued-only",
                description = "Check only the engine against itself: the method's greedy decode with each step waited for"
                        + " against the same with steps queued ahead (known tokens) and fed on the device (a generation);"
                        + " any budget. Exit 1 if a pick differs.")
        boolean queuedOnly;

        @Option(names = "--against-cpu",
                description = "Hold the method on --backend against the same method on the CPU (no llama_decode): both decode"
                        + " the CPU's greedy tokens; every step's rows read per layer and KV head, picks and logits are compared;"
                        + " any budget. Exit 1 unless 99%% of the selections are the CPU's and, at the steps where all are,"
                        + " the picks agree and the logits are within the tolerance.")
        boolean againstCpu;

        @Option(names = "--tolerance",
                description = "Largest relative logit difference accepted; with an f32 cache 1e-4 on the CPU, 2e-3 on a GPU,"
                        + " where the engine's and llama.cpp's F32 kernels sum in different orders (5.7e-4 seen on an H200);"
                        + " with f16, 1e-2 (2.3e-3 seen on a Xeon, 1.5e-3 on an H200).")
        Double tolerance;

        @Option(names = "--micro-batch", defaultValue = "64",
                description = "Prompt tokens per prefill graph on both sides (1: the prompt takes the decode steps' kernels).")
        int microBatch;

        @Option(names = "--reference", defaultValue = "same",
                description = "Where llama_decode runs: same (the engine's backend) or cpu (to hold a GPU engine against"
                        + " the CPU's results, e.g. to tell which of two differing GPU paths departs from them).")
        String reference;

        @Override
        public Integer call() throws IOException {
            if (!reference.equalsIgnoreCase("same") && !reference.equalsIgnoreCase("cpu")) {
                throw new IllegalArgumentException("--reference must be same or cpu, got '" + reference + "'");
            }
            if (!Files.isRegularFile(model)) {
                throw new java.nio.file.NoSuchFileException(model.toString(), null, "model file not found");
            }
            boolean exact = cache.equalsIgnoreCase("f32");
            if (!exact && !cache.equalsIgnoreCase("f16")) {
                throw new IllegalArgumentException("--cache must be f32 or f16");
            }
            ParityRequest req = (exact ? ParityRequest.exact(model) : ParityRequest.defaults(model))
                    .withTokens(tokens, steps).withBackend(backend, threads.count).withReferenceOnCpu(reference.equalsIgnoreCase("cpu"))
                    .withMicroBatch(microBatch);
            if (queuedOnly && againstCpu) {
                throw new IllegalArgumentException("--queued-only and --against-cpu are two different checks: choose one");
            }
            if (againstCpu) {
                org.rbench.core.parity.BackendCheck.Report b = org.rbench.core.parity.BackendCheck.run(req, method.text());
                System.out.println(b.summary());
                double limit = tolerance != null ? tolerance
                        : !exact ? 1e-2 : backend.equalsIgnoreCase("cpu") ? 1e-4 : 2e-3;
                boolean ok = b.passes(limit);
                System.out.println(ok ? "PASS" : "FAIL (tolerance " + limit + "; at least "
                        + Math.round(100 * org.rbench.core.parity.BackendCheck.MIN_SELECTION_SHARE) + "% of the selections as the CPU's)");
                return ok ? 0 : 1;
            }
            if (queuedOnly) {
                org.rbench.core.parity.QueuedCheck.Report q = org.rbench.core.parity.QueuedCheck.run(req, method.text());
                System.out.println(q.summary());
                System.out.println(q.passes() ? "PASS" : "FAIL (a queued step picked another token, or a method that plans ahead"
                        + " queued no step)");
                return q.passes() ? 0 : 1;
            }
            ParityReport r = Parity.run(req, method.text());
            System.out.println(method.text() + ": " + r.summary());
            double limit = tolerance != null ? tolerance
                    : !exact ? 1e-2 : r.backend().equalsIgnoreCase("cpu") ? 1e-4 : 2e-3;
            boolean ok = exact ? r.passes(limit) : r.passesRounded(limit);
            System.out.println(ok ? "PASS" : "FAIL (tolerance " + limit + (exact ? "" : "; argmax may differ only at near-ties") + ")");
            return ok ? 0 : 1;
        }
    }

    @Command(name = "make-model", mixinStandardHelpOptions = true,
            description = "Write a random-weight GGUF with a real model's shapes (for latency work without downloading weights).")
    static final class MakeModel implements Callable<Integer> {
        @Option(names = "--like", required = true,
                description = "llama-3.1-8b, llama-3.2-1b, qwen2-7b, bench-512, tiny-llama, tiny-llama3, tiny-qwen2, tiny-qwen3, tiny-mistral")
        String like;

        @Option(names = "--type", defaultValue = "f16", description = "Weight type: f32, f16, bf16, q8_0, q4_k, q6_k ...")
        String type;

        @Option(names = "--out", required = true)
        Path out;

        @Option(names = "--vocab", description = "Copy this vocabulary (bundle name such as llama-bpe, or a GGUF file).")
        String vocab;

        @Option(names = "--layers", description = "Override the layer count (smaller files, same per-layer shapes).")
        Integer layers;

        @Option(names = "--context", paramLabel = "TOKENS",
                description = "The context length the model declares (llama.context_length; default the preset's), which bounds"
                        + " the depths bench and run accept: e.g. 524288 for 512K-token latency work with a synthetic cache.")
        Integer context;

        @Option(names = "--seed", defaultValue = "1")
        long seed;

        @Override
        public Integer call() throws IOException {
            GgmlType t;
            try {
                t = GgmlType.valueOf(type.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown weight type '" + type + "'");
            }
            ModelSpec spec = ModelSpec.preset(like, t).withSeed(seed);
            if (layers != null) {
                spec = spec.withLayers(layers);
            }
            if (context != null) {
                spec = spec.withContextLength(context);
            }
            if (vocab != null) {
                Path v = BundledVocabularies.resolve(Path.of(vocab));
                try (GgufFile g = GgufFile.open(v)) {
                    g.require("tokenizer.ggml.tokens");
                }
                spec = spec.withVocabulary(v);
            }
            long t0 = System.nanoTime();
            RandomModelWriter.write(spec, out);
            System.out.printf(Locale.ROOT, "wrote %s: %s %dL d%d, %d heads / %d KV heads, head dim %d, context %d, %s weights, %.2f GB in %.1f s%n",
                    out, spec.architecture(), spec.layers(), spec.embedding(), spec.heads(), spec.kvHeads(), spec.headDim(),
                    spec.contextLength(), t, Files.size(out) / 1e9, (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    @Command(name = "methods", mixinStandardHelpOptions = true, description = "List the attention methods and their parameters.")
    static final class Methods implements Callable<Integer> {
        @Override
        public Integer call() {
            for (Map.Entry<String, Strategy> e : Strategies.all().entrySet()) {
                System.out.printf("%-18s %s%n", e.getKey(), e.getValue().description());
            }
            System.out.printf("%-18s %s%n", Method.Reference.NAME, Method.Reference.DESCRIPTION);
            System.out.printf("%-18s %s%n", Method.Reference.SHIFT_NAME, Method.Reference.SHIFT_DESCRIPTION);
            System.out.printf("%-18s %s%n", Method.LlamaBench.NAME, Method.LlamaBench.DESCRIPTION);
            return 0;
        }
    }
}
