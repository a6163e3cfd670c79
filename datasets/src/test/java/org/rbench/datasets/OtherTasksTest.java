package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** Structure of vt, cwe, fwe and qa samples. */
class OtherTasksTest {

    private final RulerGenerator generator = TestData.generator(ApproximateTokenizer.spmLike());

    @Test
    void variableTrackingHasAOneShotExampleThenTheTask() {
        Sample sample = generator.generate(RulerTask.VT, 8192, 0, 42);
        String input = sample.input();
        int task = input.lastIndexOf("Memorize and track the chain(s)");
        assertTrue(task > 0, "the example comes first");
        String example = input.substring(0, task);
        assertTrue(example.startsWith("Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n"));
        assertTrue(example.matches("(?s).*, they are:  [A-Z]{3} [A-Z]{3} [A-Z]{3} [A-Z]{3} [A-Z]{3}\n\n"), "example answer");
        // The example's chain has 3-letter names, the task's 5-letter names.
        assertTrue(Pattern.compile("VAR [A-Z]{3} = \\d{5}\n").matcher(example).find());
        String chainValue = sample.answerPrefix().replaceAll(".*the value (\\d+),.*", "$1");
        String body = input.substring(task);
        assertTrue(body.contains("VAR " + sample.outputs().getFirst() + " = " + chainValue + "\n"));
        assertTrue(body.endsWith("Question: Find all variables that are assigned the value " + chainValue + " in the text above."));
        assertEquals(5, sample.outputs().size());
        assertTrue(sample.outputs().stream().allMatch(n -> n.matches("[A-Z]{5}")));
        // Statements appear in chain order.
        int last = -1;
        for (String name : sample.outputs()) {
            int at = body.indexOf("VAR " + name + " = ");
            assertTrue(at > last);
            last = at;
        }
    }

    @Test
    void commonWordsRepeatTenWordsThirtyTimesAndTheOthersThree() {
        Sample sample = generator.generate(RulerTask.CWE, 8192, 1, 42);
        String input = sample.input();
        int task = input.lastIndexOf("Below is a numbered list of words.");
        String fewShot = input.substring(0, task);
        assertTrue(fewShot.contains(Templates.COMMON_WORDS_ANSWER_PREFIX + " 1. "), "the example's answer follows its prefix");
        assertTrue(fewShot.matches("(?s).* 10\\. [a-z]+\n"));
        Map<String, Integer> counts = counts(input.substring(task));
        for (String word : sample.outputs()) {
            assertEquals(30, counts.get(word));
        }
        long others = counts.entrySet().stream().filter(e -> !sample.outputs().contains(e.getKey())).count();
        assertTrue(others > 100);
        assertTrue(counts.entrySet().stream().filter(e -> !sample.outputs().contains(e.getKey()))
                .allMatch(e -> e.getValue() == 3));
        // Numbered 1..n in order.
        Matcher m = Pattern.compile("(\\d+)\\. [a-z]+").matcher(input.substring(task));
        int expected = 1;
        while (m.find()) {
            assertEquals(expected++, Integer.parseInt(m.group(1)));
        }
    }

    @Test
    void commonWordsBelow4KUseSixAndOne() {
        Sample sample = generator.generate(RulerTask.CWE, 2048, 0, 42);
        String input = sample.input();
        Map<String, Integer> counts = counts(input.substring(input.lastIndexOf("Below is a numbered list of words.")));
        for (String word : sample.outputs()) {
            assertEquals(6, counts.get(word));
        }
        assertTrue(counts.values().stream().allMatch(c -> c == 6 || c == 1));
    }

    @Test
    void frequentWordsFollowZipf() {
        Sample sample = generator.generate(RulerTask.FWE, 8192, 0, 42);
        String text = sample.input().substring(sample.input().indexOf("coded words. ") + 13, sample.input().indexOf("\nQuestion:"));
        Map<String, Integer> counts = new HashMap<>();
        for (String w : text.split(" ")) {
            counts.merge(w, 1, Integer::sum);
        }
        int total = text.split(" ").length;
        // rank 1 is '...', then the three answers, each count int(N * k^-2 / zeta(2)).
        assertEquals(FrequentWords.occurrences(totalWordsFor(total), 1), counts.get("..."));
        for (int rank = 2; rank <= 4; rank++) {
            assertEquals(FrequentWords.occurrences(totalWordsFor(total), rank), counts.get(sample.outputs().get(rank - 2)));
        }
        assertTrue(counts.keySet().stream().allMatch(w -> w.equals("...") || w.matches("[a-z]{6}")));
        assertTrue(counts.size() <= (8192 - 50) / 50);
    }

    /** The haystack size N whose Zipf counts sum to {@code total} words. */
    private static int totalWordsFor(int total) {
        int n = total;
        while (sum(n) < total) {
            n++;
        }
        return n;
    }

    private static int sum(int n) {
        int s = 0;
        for (int rank = 1; rank <= (8192 - 50) / 50; rank++) {
            s += FrequentWords.occurrences(n, rank);
        }
        return s;
    }

    @Test
    void questionAnsweringPutsTheGoldDocumentAmongNumberedDocuments() {
        Sample sample = generator.generate(RulerTask.QA_1, 4096, 1, 42);
        assertEquals(List.of("Ada Brenner"), sample.outputs()); // the second answerable question
        assertTrue(sample.input().contains("Document 1:\n"));
        assertTrue(sample.input().contains("The last keeper, Ada Brenner, left in 1952"));
        Matcher m = Pattern.compile("Document (\\d+):\n").matcher(sample.input());
        int expected = 1;
        while (m.find()) {
            assertEquals(expected++, Integer.parseInt(m.group(1)));
        }
        Sample hotpot = generator.generate(RulerTask.QA_2, 4096, 1, 42);
        assertEquals(List.of("yes"), hotpot.outputs());
        assertTrue(hotpot.input().contains("Harbour Lights\nHarbour Lights is a novel about a fishing town."));
    }

    @Test
    void smallQaHaystacksPreferDocumentsOfTheSameArticle() {
        QaDataset squad = QaDataset.readSquad(TestData.resource("/qa/squad-dev-mini.json"));
        QuestionAnswering qa = new QuestionAnswering(squad);
        Prompt prompt = qa.build(2, 0, 7);
        assertTrue(prompt.userMessage().contains("Gull Point was built in 1871"));
        assertTrue(prompt.userMessage().contains("Keepers lived in a cottage"), "same article comes first");
        assertTrue(!prompt.userMessage().contains("orchards"));
        Prompt larger = qa.build(4, 0, 7);
        assertEquals(4, larger.userMessage().split("Document \\d+:").length - 1);
    }

    private static Map<String, Integer> counts(String task) {
        Map<String, Integer> counts = new HashMap<>();
        Matcher m = Pattern.compile("\\d+\\. ([a-z]+)").matcher(task);
        while (m.find()) {
            counts.merge(m.group(1), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void everyTaskHasItsMetricAndBudget() {
        for (RulerTask task : RulerTask.values()) {
            Sample sample = generator.generate(task, 4096, 0, 3);
            assertEquals(task.metric(), sample.metric());
            assertEquals(task.tokensToGenerate(), sample.tokensToGenerate());
            assertEquals(4096, sample.targetLength());
            assertEquals(task, sample.task());
            assertTrue(Arrays.asList(RulerTask.values()).contains(sample.task()));
        }
    }
}
