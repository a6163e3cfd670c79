package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every task at 4K, 8K, 16K and 32K with both vocabulary shapes: each prompt plus its tokens
 * to generate fits the target, fills it to within one increment (one more increment would
 * not fit), and the answers are in the prompt where they must be.
 */
class SizingTest {

    private static final int[] LENGTHS = {4096, 8192, 16384, 32768};
    private static final int SAMPLES = 3;
    private static final long SEED = 42;

    private static final Tokenizer SPM = ApproximateTokenizer.spmLike();
    private static final Tokenizer BPE = ApproximateTokenizer.bpeLike();
    private static final RulerGenerator SPM_GENERATOR = TestData.generator(SPM);
    private static final RulerGenerator BPE_GENERATOR = TestData.generator(BPE);

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (RulerTask task : RulerTask.values()) {
            for (int length : LENGTHS) {
                cases.add(Arguments.of(task, length, "spm"));
                cases.add(Arguments.of(task, length, "bpe"));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} at {1} ({2})")
    @MethodSource("cases")
    void fitsFillsAndHoldsTheAnswers(RulerTask task, int length, String vocabulary) {
        Tokenizer tokenizer = vocabulary.equals("spm") ? SPM : BPE;
        RulerGenerator generator = vocabulary.equals("spm") ? SPM_GENERATOR : BPE_GENERATOR;
        int increment = generator.increment(task, length, SEED);
        for (int i = 0; i < SAMPLES; i++) {
            int index = i;
            Sample sample = generator.generate(task, length, index, SEED);
            int promptTokens = tokenizer.count(sample.input() + sample.answerPrefix());

            assertEquals(promptTokens + task.tokensToGenerate(), sample.length(), "length = prompt + to generate");
            assertTrue(sample.length() <= length, () -> "sample " + sample.index() + " has " + sample.length()
                    + " tokens, over the target " + length);

            PromptSizer.Fitted fitted = generator.fit(task, length, index, SEED);
            PromptSizer.Fitted larger = generator.buildAt(task, length, index, SEED, fitted.units() + increment);
            assertTrue(larger.promptTokens() + task.tokensToGenerate() > length, () -> "sample " + index
                    + " leaves room: " + (fitted.units() + increment) + " units would still fit " + length);
            assertAnswersInPrompt(sample);
        }
    }

    /** The answers are in the context where the task puts them. */
    static void assertAnswersInPrompt(Sample sample) {
        String input = sample.input();
        switch (sample.task().family()) {
            case NIAH -> {
                assertEquals(sample.task().niah().orElseThrow().values() * sample.task().niah().orElseThrow().queries(),
                        sample.outputs().size());
                for (String value : sample.outputs()) {
                    assertTrue(input.contains(" is: " + value + "."), () -> "needle with " + value + " missing");
                }
            }
            case VARIABLE_TRACKING -> {
                List<String> names = sample.outputs();
                assertEquals(5, names.size());
                String value = sample.answerPrefix().replaceAll(".*the value (\\d+),.*", "$1");
                assertTrue(input.contains("VAR " + names.getFirst() + " = " + value + "\n"));
                for (int j = 1; j < names.size(); j++) {
                    assertTrue(input.contains("VAR " + names.get(j) + " = VAR " + names.get(j - 1) + " "));
                }
            }
            case COMMON_WORDS -> {
                assertEquals(10, sample.outputs().size());
                String task = input.substring(input.lastIndexOf("Below is a numbered list"));
                for (String word : sample.outputs()) {
                    int occurrences = task.split("\\. " + word + "( |\n)", -1).length - 1;
                    assertEquals(sample.targetLength() < 4096 ? 6 : 30, occurrences, word);
                }
            }
            case FREQUENT_WORDS -> {
                assertEquals(3, sample.outputs().size());
                for (String word : sample.outputs()) {
                    assertTrue(input.contains(" " + word), word);
                }
            }
            case QA -> {
                String answer = sample.outputs().getFirst();
                if (!answer.equals("yes") && !answer.equals("no")) {
                    assertTrue(sample.outputs().stream().anyMatch(input::contains), "gold document missing");
                }
            }
        }
    }

    @Test
    void chatWrappedPromptsFitToo() {
        ChatFormatter chat = ChatFormatter.fromPattern("<|start_header_id|>user<|end_header_id|>\n\n{message}<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        RulerGenerator generator = TestData.generator(BPE, chat);
        for (RulerTask task : TestData.offlineTasks()) {
            Sample sample = generator.generate(task, 4096, 0, SEED);
            assertTrue(sample.input().startsWith("<|start_header_id|>user"));
            assertTrue(sample.input().endsWith("assistant<|end_header_id|>\n\n"));
            assertEquals(BPE.count(sample.prompt()) + task.tokensToGenerate(), sample.length());
            assertTrue(sample.length() <= 4096);
        }
    }

    @Test
    void lengthsBelow4KUseTheSmallSettings() {
        RulerGenerator generator = SPM_GENERATOR;
        for (RulerTask task : TestData.offlineTasks()) {
            Sample sample = generator.generate(task, 2048, 0, SEED);
            assertTrue(sample.length() <= 2048, task.id());
            assertAnswersInPrompt(sample);
        }
        assertEquals(5, generator.increment(RulerTask.NIAH_SINGLE_1, 2048, SEED));
        assertEquals(25, generator.increment(RulerTask.NIAH_SINGLE_1, 4096, SEED));
        assertEquals(500, generator.increment(RulerTask.NIAH_SINGLE_2, 2048, SEED));
        assertEquals(5, generator.increment(RulerTask.VT, 2048, SEED));
        assertEquals(10, generator.increment(RulerTask.VT, 4096, SEED));
    }
}
