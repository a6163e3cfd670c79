package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each task's answer spans (datasets/README.md, "Answer spans") hold its answers: in the
 * characters of the input, and among the prompt's tokens with the approximate and the real
 * llama.cpp vocabularies.
 */
class AnswerSpansTest {

    private static final RulerGenerator SPM_LIKE = TestData.generator(ApproximateTokenizer.spmLike());

    @AfterAll
    static void closeVocabularies() {
        RealVocabularySizingTest.close();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(RulerTask.class)
    void theSpansHoldTheTasksAnswers(RulerTask task) {
        for (int length : new int[] {2048, 4096}) {
            for (int index = 0; index < 2; index++) {
                Sample sample = SPM_LIKE.generate(task, length, index, 42);
                assertSpansHoldAnswers(sample);
            }
        }
    }

    /** What each task's spans must be; shared with the real-vocabulary test. */
    static void assertSpansHoldAnswers(Sample sample) {
        List<Span> spans = sample.answerSpans();
        List<String> texts = sample.answerSpanTexts();
        String input = sample.input();
        String where = sample.task() + " at " + sample.targetLength() + " #" + sample.index();
        for (int i = 1; i < spans.size(); i++) {
            assertTrue(spans.get(i).start() >= spans.get(i - 1).end(), where + ": spans in text order, apart");
        }
        switch (sample.task().family()) {
            case NIAH -> {
                // the asked needles' values, each in its needle sentence
                assertEquals(sorted(sample.outputs()), sorted(texts), where);
                for (Span span : spans) {
                    assertTrue(input.startsWith(" is: ", span.start() - 5) && input.charAt(span.end()) == '.', where);
                }
            }
            case VARIABLE_TRACKING -> {
                // the chain's statements, in chain order, after the one-shot example
                List<String> names = sample.outputs();
                String value = sample.answerPrefix().replaceAll(".*the value (\\d+),.*", "$1");
                List<String> expected = new ArrayList<>();
                expected.add("VAR " + names.getFirst() + " = " + value);
                for (int j = 1; j < names.size(); j++) {
                    expected.add("VAR " + names.get(j) + " = VAR " + names.get(j - 1));
                }
                assertEquals(expected, texts, where);
                assertTrue(spans.getFirst().start() > input.lastIndexOf("Memorize and track"), where);
            }
            case COMMON_WORDS -> {
                // every occurrence of the ten common words in the task's list (not the example's)
                int task = input.lastIndexOf("Below is a numbered list of words.");
                Map<String, Integer> inList = wordCounts(input.substring(task), "\\d+\\. ([a-z]+)");
                Map<String, Integer> inSpans = new HashMap<>();
                texts.forEach(t -> inSpans.merge(t, 1, Integer::sum));
                assertEquals(sorted(sample.outputs()), sorted(new ArrayList<>(inSpans.keySet())), where);
                for (String word : sample.outputs()) {
                    assertEquals(inList.get(word), inSpans.get(word), where + ": every occurrence of " + word);
                }
                for (Span span : spans) {
                    assertTrue(span.start() > task && input.startsWith(". ", span.start() - 2), where);
                }
            }
            case FREQUENT_WORDS -> {
                // every occurrence of the three answer words in the coded text
                Map<String, Integer> inText = wordCounts(input, "(?<=[ .])([a-z]{6})(?= |\\n)");
                Map<String, Integer> inSpans = new HashMap<>();
                texts.forEach(t -> inSpans.merge(t, 1, Integer::sum));
                assertEquals(sorted(sample.outputs()), sorted(new ArrayList<>(inSpans.keySet())), where);
                for (String word : sample.outputs()) {
                    assertEquals(inText.get(word), inSpans.get(word), where + ": every occurrence of " + word);
                }
            }
            case QA -> {
                // the gold documents' text, which holds the answer (in these fixtures, verbatim or a yes/no)
                assertFalse(spans.isEmpty(), where);
                for (Span span : spans) {
                    assertTrue(input.substring(0, span.start()).matches("(?s).*Document \\d+:\n"), where);
                }
                String gold = String.join("\n", texts);
                boolean yesNo = sample.outputs().stream().anyMatch(a -> a.equals("yes") || a.equals("no"));
                assertTrue(yesNo || sample.outputs().stream().anyMatch(gold::contains), where + ": " + sample.outputs());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(RulerTask.class)
    void chatWrappedPromptsKeepTheSpansOnTheAnswers(RulerTask task) {
        RulerGenerator chat = TestData.generator(ApproximateTokenizer.bpeLike(),
                ChatFormatter.fromPattern("<|user|>\n{message}<|end|>\n<|assistant|>\n"));
        assertSpansHoldAnswers(chat.generate(task, 4096, 0, 42));
        // a template that trims the message moves the spans with the text
        RulerGenerator trimming = TestData.generator(ApproximateTokenizer.bpeLike(), message -> "[U]" + message.strip() + "[/U]");
        assertSpansHoldAnswers(trimming.generate(task, 4096, 0, 42));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"spm", "bpe"})
    void approximateTokensCoverExactlyTheSpans(String flavour) {
        Tokenizer tokenizer = flavour.equals("spm") ? ApproximateTokenizer.spmLike() : ApproximateTokenizer.bpeLike();
        RulerGenerator generator = TestData.generator(tokenizer);
        for (RulerTask task : RulerTask.values()) {
            Sample sample = generator.generate(task, 4096, 0, 42);
            PromptTokens tokens = PromptTokens.of(sample, tokenizer);
            TokenizedText text = tokenizer.encodeWithOffsets(sample.prompt());
            assertArrayEquals(tokenizer.encode(sample.prompt()), tokens.ids(), task + ": the prompt's ids");
            assertEquals(sample.answerSpans().size(), tokens.answerSpans().size());
            for (int i = 0; i < tokens.answerSpans().size(); i++) {
                Span chars = sample.answerSpans().get(i);
                Span span = tokens.answerSpans().get(i);
                // the span's tokens cover the characters, and dropping an end token would not
                assertTrue(text.starts()[span.start()] <= chars.start() && text.ends()[span.end() - 1] >= chars.end(),
                        task + " span " + i);
                assertTrue(text.ends()[span.start()] > chars.start() && text.starts()[span.end() - 1] < chars.end(),
                        task + " span " + i + " is minimal");
            }
        }
    }

    /** The real vocabularies: each span's tokens detokenize to text holding its answer, and no token fewer does. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama-spm", "llama-bpe"})
    void realVocabularyTokensDecodeToTheSpans(String vocab) {
        LlamaTokenizer tokenizer = RealVocabularySizingTest.tokenizer(vocab);
        RulerGenerator generator = RealVocabularySizingTest.generator(vocab);
        for (RulerTask task : RulerTask.values()) {
            Sample sample = generator.generate(task, 4096, 0, 42);
            assertSpansHoldAnswers(sample);
            PromptTokens tokens = PromptTokens.of(sample, tokenizer);
            assertArrayEquals(tokenizer.encode(sample.prompt()), tokens.ids(), task + ": the prompt's ids");
            List<String> texts = sample.answerSpanTexts();
            for (int i = 0; i < texts.size(); i++) {
                Span span = tokens.answerSpans().get(i);
                String answer = texts.get(i).strip();
                assertTrue(decode(tokenizer, tokens.ids(), span.start(), span.end()).contains(answer),
                        task + " span " + i + " '" + answer + "'");
                if (span.length() > 1) {
                    assertFalse(decode(tokenizer, tokens.ids(), span.start() + 1, span.end()).contains(answer),
                            task + " span " + i + " starts at its first token");
                    assertFalse(decode(tokenizer, tokens.ids(), span.start(), span.end() - 1).contains(answer),
                            task + " span " + i + " ends at its last token");
                }
            }
        }
    }

    private static String decode(LlamaTokenizer tokenizer, int[] ids, int from, int to) {
        return tokenizer.vocabulary().detokenize(Arrays.copyOfRange(ids, from, to), false, true);
    }

    @Test
    void aDigitNeedleIsOneTokenPerDigitInLlama2sVocabulary() {
        // the case the coverage diagnostics were built for: a 7-digit value is 7 tokens
        LlamaTokenizer tokenizer = RealVocabularySizingTest.tokenizer("llama-spm");
        Sample sample = RealVocabularySizingTest.generator("llama-spm").generate(RulerTask.NIAH_SINGLE_2, 4096, 0, 42);
        PromptTokens tokens = PromptTokens.of(sample, tokenizer).withLeadingToken(1);
        Span span = tokens.answerSpans().getFirst();
        assertEquals(7, span.length());
        assertEquals(1, tokens.ids()[0]);
        assertArrayEquals(java.util.stream.IntStream.range(span.start(), span.end()).toArray(), tokens.answerPositions());
        assertEquals(sample.outputs().getFirst(), decode(tokenizer, tokens.ids(), span.start(), span.end()));
    }

    @Test
    void theFilesHoldTheSpans(@TempDir Path dir) throws IOException {
        Tokenizer tokenizer = ApproximateTokenizer.spmLike();
        Sample sample = TestData.generator(tokenizer).generate(RulerTask.NIAH_MULTIVALUE, 4096, 0, 42);
        SampleWriter.writeSamples(List.of(sample), dir.resolve("s.jsonl"));
        SampleWriter.writeTokenIds(List.of(sample), tokenizer, dir.resolve("s.ids.jsonl"));
        JsonNode json = new ObjectMapper().readTree(Files.readString(dir.resolve("s.jsonl")));
        JsonNode ids = new ObjectMapper().readTree(Files.readString(dir.resolve("s.ids.jsonl")));
        PromptTokens tokens = PromptTokens.of(sample, tokenizer);
        assertEquals(4, json.get("answer_spans").size());
        for (int i = 0; i < 4; i++) {
            Span chars = sample.answerSpans().get(i);
            assertEquals(chars.start(), json.get("answer_spans").get(i).get(0).asInt());
            assertEquals(chars.end(), json.get("answer_spans").get(i).get(1).asInt());
            assertEquals(tokens.answerSpans().get(i).start(), ids.get("answer_token_spans").get(i).get(0).asInt());
            assertEquals(tokens.answerSpans().get(i).end(), ids.get("answer_token_spans").get(i).get(1).asInt());
        }
    }

    @Test
    void characterSpansInTheFileCountCodePoints(@TempDir Path dir) throws IOException {
        // a character outside the BMP before the span: one code point, two UTF-16 units
        String input = "\uD83D\uDE00 key: 1234567.";
        Sample sample = new Sample(0, input, " A:", List.of("1234567"), 10, RulerTask.NIAH_SINGLE_1, 1, 128,
                Metric.STRING_MATCH_ALL, 4096, List.of(new Span(8, 15)));
        assertEquals(List.of("1234567"), sample.answerSpanTexts());
        SampleWriter.writeSamples(List.of(sample), dir.resolve("s.jsonl"));
        JsonNode span = new ObjectMapper().readTree(Files.readString(dir.resolve("s.jsonl"))).get("answer_spans").get(0);
        assertEquals(7, span.get(0).asInt());
        assertEquals(14, span.get(1).asInt());
    }

    @Test
    void spansOutsideTheTextAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Span(3, 2));
        assertThrows(IllegalArgumentException.class, () -> new Sample(0, "abc", "", List.of(), 1, RulerTask.VT, 1, 30,
                Metric.STRING_MATCH_ALL, 4096, List.of(new Span(1, 4))));
        assertThrows(IllegalArgumentException.class, () -> new PromptTokens(new int[] {1, 2}, List.of(new Span(0, 3))));
        TokenizedText text = new TokenizedText(new int[] {5, 6}, new int[] {0, 3}, new int[] {3, 6});
        assertThrows(IllegalArgumentException.class, () -> text.tokenSpans(List.of(new Span(6, 8))));
    }

    private static Map<String, Integer> wordCounts(String text, String regex) {
        Map<String, Integer> counts = new HashMap<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            counts.merge(m.group(1), 1, Integer::sum);
        }
        return counts;
    }

    private static List<String> sorted(List<String> values) {
        List<String> out = new ArrayList<>(values);
        out.sort(null);
        return out;
    }
}
