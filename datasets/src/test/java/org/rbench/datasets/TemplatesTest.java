package org.rbench.datasets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Templates and answer prefixes match shared/docs/RULER.md byte for byte. */
class TemplatesTest {

    // Copied from RULER.md; "\n" in the spec is a newline.
    private static final String NIAH = "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all the special magic {type_needle_v} for {query} mentioned in the provided text?";
    private static final String VT = "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.";
    private static final String CWE = "Below is a numbered list of words. In these words, some appear more often than others. Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common words in the above list?";
    private static final String FWE = "Read the following coded text and track the frequency of each coded word. Find the three most frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. Please ignore the dots '....'. What are the three most frequently appeared words in the above coded text?";
    private static final String QA = "Answer the question based on the given documents. Only give me the answer and do not output any other words.\n\nThe following are given documents.\n\n{context}\n\nAnswer the question based on the given documents. Only give me the answer and do not output any other words.\n\nQuestion: {query}";

    @Test
    void templatesAreVerbatim() {
        assertEquals(NIAH, Templates.NIAH);
        assertEquals(VT, Templates.VARIABLE_TRACKING);
        assertEquals(CWE, Templates.COMMON_WORDS);
        assertEquals(FWE, Templates.FREQUENT_WORDS);
        assertEquals(QA, Templates.QA);
    }

    @Test
    void answerPrefixesAreVerbatim() {
        assertEquals(" The special magic {type_needle_v} for {query} mentioned in the provided text are", Templates.NIAH_ANSWER_PREFIX);
        assertEquals(" Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are assigned the value {query}, they are: ", Templates.VARIABLE_TRACKING_ANSWER_PREFIX);
        assertEquals(" Answer: The top 10 words that appear most often in the list are:", Templates.COMMON_WORDS_ANSWER_PREFIX);
        assertEquals(" Answer: According to the coded text above, the three most frequently appeared words are:", Templates.FREQUENT_WORDS_ANSWER_PREFIX);
        assertEquals(" Answer:", Templates.QA_ANSWER_PREFIX);
        assertEquals("One of the special magic {type_needle_v} for {key} is: {value}.", Templates.NIAH_NEEDLE);
        assertEquals("The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.", Templates.NOISE_LINE);
        assertEquals("Document {i}:\n{text}", Templates.QA_DOCUMENT);
    }

    @Test
    void generationSettingsMatchTheSpec() {
        assertEquals(128, TaskFamily.NIAH.tokensToGenerate());
        assertEquals(30, TaskFamily.VARIABLE_TRACKING.tokensToGenerate());
        assertEquals(120, TaskFamily.COMMON_WORDS.tokensToGenerate());
        assertEquals(50, TaskFamily.FREQUENT_WORDS.tokensToGenerate());
        assertEquals(32, TaskFamily.QA.tokensToGenerate());
        assertEquals(Metric.STRING_MATCH_PART, RulerTask.QA_1.metric());
        assertEquals(Metric.STRING_MATCH_ALL, RulerTask.CWE.metric());
        assertEquals(13, RulerTask.values().length);
    }

    /** Reads the spec itself when this checkout has it, so a change there fails here. */
    @Test
    void templatesMatchTheSpecFile() throws IOException {
        Optional<Path> spec = findSpec();
        Assumptions.assumeTrue(spec.isPresent(), "shared/docs/RULER.md not found above " + Path.of("").toAbsolutePath());
        String text = Files.readString(spec.get());

        Map<String, String> templates = new HashMap<>();
        Matcher t = Pattern.compile("(?m)^(niah|vt|cwe|fwe|qa): `(.*)`$").matcher(text);
        while (t.find()) {
            templates.put(t.group(1), t.group(2).replace("\\n", "\n"));
        }
        assertEquals(Templates.NIAH, templates.get("niah"));
        assertEquals(Templates.VARIABLE_TRACKING, templates.get("vt"));
        assertEquals(Templates.COMMON_WORDS, templates.get("cwe"));
        assertEquals(Templates.FREQUENT_WORDS, templates.get("fwe"));
        assertEquals(Templates.QA, templates.get("qa"));

        Map<String, String> prefixes = new HashMap<>();
        Map<String, Integer> toGenerate = new HashMap<>();
        Matcher p = Pattern.compile("(?m)^\\| (niah|vt|cwe|fwe|qa) \\| (\\d+) \\| `(.*)` \\| (all|part) \\|$").matcher(text);
        while (p.find()) {
            toGenerate.put(p.group(1), Integer.parseInt(p.group(2)));
            prefixes.put(p.group(1), p.group(3));
        }
        assertEquals(Templates.NIAH_ANSWER_PREFIX, prefixes.get("niah"));
        assertEquals(Templates.VARIABLE_TRACKING_ANSWER_PREFIX, prefixes.get("vt"));
        assertEquals(Templates.COMMON_WORDS_ANSWER_PREFIX, prefixes.get("cwe"));
        assertEquals(Templates.FREQUENT_WORDS_ANSWER_PREFIX, prefixes.get("fwe"));
        assertEquals(Templates.QA_ANSWER_PREFIX, prefixes.get("qa"));
        assertEquals(TaskFamily.NIAH.tokensToGenerate(), toGenerate.get("niah"));
        assertEquals(TaskFamily.VARIABLE_TRACKING.tokensToGenerate(), toGenerate.get("vt"));
        assertEquals(TaskFamily.COMMON_WORDS.tokensToGenerate(), toGenerate.get("cwe"));
        assertEquals(TaskFamily.FREQUENT_WORDS.tokensToGenerate(), toGenerate.get("fwe"));
        assertEquals(TaskFamily.QA.tokensToGenerate(), toGenerate.get("qa"));

        assertTrue(text.contains("`" + Templates.NIAH_NEEDLE + "`"), "needle");
        assertTrue(text.contains("`" + Templates.NOISE_LINE + "`"), "noise line");
        assertTrue(text.contains("`" + Templates.QA_DOCUMENT.replace("\n", "\\n") + "`"), "qa document");
    }

    static Optional<Path> findSpec() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path spec = dir.resolve("shared").resolve("docs").resolve("RULER.md");
            if (Files.isRegularFile(spec)) {
                return Optional.of(spec);
            }
        }
        return Optional.empty();
    }

    @Test
    void singularRewriteOfTemplateAndPrefix() {
        String template = Templates.fill(Templates.singular(Templates.NIAH),
                Map.of("type_needle_v", "number", "context", "CONTEXT are Some", "query", "k"));
        assertEquals("A special magic number is hidden within the following text. Make sure to memorize it. "
                + "I will quiz you about the number afterwards.\nCONTEXT are Some\n"
                + "What is the special magic number for k mentioned in the provided text?", template);
        String prefix = Templates.fill(Templates.singular(Templates.NIAH_ANSWER_PREFIX),
                Map.of("type_needle_v", "uuid", "query", "k"));
        assertEquals(" The special magic uuid for k mentioned in the provided text is", prefix);
        assertEquals("is answer", Templates.singular("are answers"));
        assertEquals("number", NiahConfig.NeedleType.NUMBERS.singular());
        assertEquals("uuid", NiahConfig.NeedleType.UUIDS.singular());
    }

    @Test
    void fillReplacesPlaceholdersOnceAndRejectsUnknownOnes() {
        assertEquals("a {query} b", Templates.fill("a {context} b", Map.of("context", "{query}", "query", "x")));
        assertThrows(IllegalArgumentException.class, () -> Templates.fill("{nope}", Map.of()));
        assertThrows(IllegalArgumentException.class, () -> Templates.fill("{open", Map.of()));
    }

    @Test
    void samplesUseTheTemplatesAndPrefixes() {
        RulerGenerator generator = TestData.generator(ApproximateTokenizer.spmLike());
        Sample single = generator.generate(RulerTask.NIAH_SINGLE_3, 4096, 0, 1);
        assertTrue(single.input().startsWith("A special magic uuid is hidden within the following text."));
        assertTrue(single.input().contains("One of the special magic uuids for "), "needles keep the plural");
        assertTrue(single.answerPrefix().matches(" The special magic uuid for [a-z]+-[a-z]+ mentioned in the provided text is"));

        Sample multi = generator.generate(RulerTask.NIAH_MULTIVALUE, 4096, 0, 1);
        assertTrue(multi.input().startsWith("Some special magic numbers are hidden"));
        assertTrue(multi.input().endsWith("\nWhat are all the special magic numbers for " + multi.answerPrefix()
                .replace(" The special magic numbers for ", "").replace(" mentioned in the provided text are", "")
                + " mentioned in the provided text?"));

        Sample vt = generator.generate(RulerTask.VT, 4096, 0, 1);
        assertTrue(vt.answerPrefix().matches(" Answer: According to the chain\\(s\\) of variable assignment in the text "
                + "above, 5 variables are assigned the value \\d{5}, they are: "));
        assertEquals(Templates.COMMON_WORDS_ANSWER_PREFIX, generator.generate(RulerTask.CWE, 4096, 0, 1).answerPrefix());
        assertEquals(Templates.FREQUENT_WORDS_ANSWER_PREFIX, generator.generate(RulerTask.FWE, 4096, 0, 1).answerPrefix());
        Sample qa = generator.generate(RulerTask.QA_1, 4096, 0, 1);
        assertEquals(" Answer:", qa.answerPrefix());
        assertTrue(qa.input().endsWith("\n\nQuestion: When was the lighthouse on Gull Point built?"));
    }
}
