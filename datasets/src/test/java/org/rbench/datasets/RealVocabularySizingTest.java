package org.rbench.datasets;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rbench.llamacpp.LibraryLocation;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sizing contract with the real llama.cpp vocabularies (llama-bpe = Llama 3,
 * llama-spm = Llama 2, from the pinned source bundle): each prompt plus its tokens to
 * generate fits the target, one more increment would not, and the answers are in the
 * prompt. 4K and 8K run by default; {@link RealVocabularyLongSizingTest} adds 16K and 32K
 * (tag "slow").
 */
class RealVocabularySizingTest {
    private static final long SEED = 42;
    private static final Map<String, LlamaTokenizer> TOKENIZERS = new ConcurrentHashMap<>();
    private static final Map<String, RulerGenerator> GENERATORS = new ConcurrentHashMap<>();

    static LlamaTokenizer tokenizer(String vocab) {
        return TOKENIZERS.computeIfAbsent(vocab, v -> LlamaTokenizer.open(LibraryLocation.sourceTree()
                .orElseThrow(() -> new AssertionError("llama.cpp source bundle not installed"))
                .resolve("models").resolve("ggml-vocab-" + v + ".gguf")));
    }

    static RulerGenerator generator(String vocab) {
        return GENERATORS.computeIfAbsent(vocab, v -> TestData.generator(tokenizer(v)));
    }

    @AfterAll
    static void close() {
        TOKENIZERS.values().forEach(LlamaTokenizer::close);
        TOKENIZERS.clear();
        GENERATORS.clear();
    }

    static Stream<Arguments> cases(int... lengths) {
        List<Arguments> cases = new ArrayList<>();
        for (RulerTask task : RulerTask.values()) {
            for (int length : lengths) {
                for (String vocab : List.of("llama-bpe", "llama-spm")) {
                    cases.add(Arguments.of(task, length, vocab));
                }
            }
        }
        return cases.stream();
    }

    static Stream<Arguments> shortCases() {
        return cases(4096, 8192);
    }

    static Stream<Arguments> longCases() {
        return cases(16384, 32768);
    }

    @ParameterizedTest(name = "{0} at {1} ({2})")
    @MethodSource("shortCases")
    void fitsFillsAndHoldsTheAnswers(RulerTask task, int length, String vocab) {
        check(task, length, vocab);
    }

    static void check(RulerTask task, int length, String vocab) {
        RulerGenerator generator = generator(vocab);
        if (generator.skipReason(task).isPresent()) {
            return; // qa tasks without their datasets: reported as skipped by the CLI
        }
        Tokenizer tokenizer = tokenizer(vocab);
        Sample sample = generator.generate(task, length, 0, SEED);
        int promptTokens = tokenizer.count(sample.input() + sample.answerPrefix());
        assertEquals(promptTokens + task.tokensToGenerate(), sample.length(), "length = prompt + to generate");
        assertTrue(sample.length() <= length, "over the target: " + sample.length());
        int increment = generator.increment(task, length, SEED);
        PromptSizer.Fitted fitted = generator.fit(task, length, 0, SEED);
        PromptSizer.Fitted larger = generator.buildAt(task, length, 0, SEED, fitted.units() + increment);
        assertTrue(larger.promptTokens() + task.tokensToGenerate() > length, "one more increment would still fit");
        SizingTest.assertAnswersInPrompt(sample);
    }
}
