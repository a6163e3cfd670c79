package org.rbench.datasets;

import java.util.HashMap;
import java.util.Map;

/**
 * The reference's task templates and answer prefixes, verbatim (shared/docs/RULER.md), and
 * the two operations on them: filling {@code {placeholders}} and niah's singular rewrite.
 */
public final class Templates {

    public static final String NIAH =
            "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. "
                    + "I will quiz you about the {type_needle_v} afterwards.\n{context}\n"
                    + "What are all the special magic {type_needle_v} for {query} mentioned in the provided text?";
    public static final String NIAH_ANSWER_PREFIX =
            " The special magic {type_needle_v} for {query} mentioned in the provided text are";
    /** A needle of the niah haystack; {@code type_needle_v} stays plural even in the singular form. */
    public static final String NIAH_NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}.";
    /** One noise line of the noise haystack (niah_single_1 and vt). */
    public static final String NOISE_LINE =
            "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

    public static final String VARIABLE_TRACKING =
            "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n"
                    + "Question: Find all variables that are assigned the value {query} in the text above.";
    public static final String VARIABLE_TRACKING_ANSWER_PREFIX =
            " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are "
                    + "assigned the value {query}, they are: ";

    public static final String COMMON_WORDS =
            "Below is a numbered list of words. In these words, some appear more often than others. "
                    + "Memorize the ones that appear most often.\n{context}\n"
                    + "Question: What are the 10 most common words in the above list?";
    public static final String COMMON_WORDS_ANSWER_PREFIX =
            " Answer: The top 10 words that appear most often in the list are:";

    public static final String FREQUENT_WORDS =
            "Read the following coded text and track the frequency of each coded word. "
                    + "Find the three most frequently appeared coded words. {context}\n"
                    + "Question: Do not provide any explanation. Please ignore the dots '....'. "
                    + "What are the three most frequently appeared words in the above coded text?";
    public static final String FREQUENT_WORDS_ANSWER_PREFIX =
            " Answer: According to the coded text above, the three most frequently appeared words are:";

    public static final String QA =
            "Answer the question based on the given documents. Only give me the answer and do not output any other "
                    + "words.\n\nThe following are given documents.\n\n{context}\n\n"
                    + "Answer the question based on the given documents. Only give me the answer and do not output any "
                    + "other words.\n\nQuestion: {query}";
    public static final String QA_ANSWER_PREFIX = " Answer:";
    /** One document of the qa context; documents are joined by blank lines. */
    public static final String QA_DOCUMENT = "Document {i}:\n{text}";

    private Templates() {
    }

    /**
     * Replaces each {@code {name}} by its value in one pass, so that values (long contexts)
     * are never scanned for placeholders. Unknown placeholders are an error.
     */
    public static String fill(String template, Map<String, String> values) {
        return fillMarked(template, values).text();
    }

    /** A filled template and where the first occurrence of each placeholder's value starts in it. */
    record Filled(String text, Map<String, Integer> starts) {

        /** Where the value of {@code {name}} starts in the text. */
        int start(String name) {
            Integer at = starts.get(name);
            if (at == null) {
                throw new IllegalArgumentException("the template has no placeholder {" + name + "}");
            }
            return at;
        }
    }

    /** {@link #fill}, also saying where each placeholder's value went (for answer spans). */
    static Filled fillMarked(String template, Map<String, String> values) {
        StringBuilder out = new StringBuilder(template.length()
                + values.values().stream().mapToInt(String::length).sum());
        Map<String, Integer> starts = new HashMap<>();
        int i = 0;
        while (i < template.length()) {
            int open = template.indexOf('{', i);
            if (open < 0) {
                out.append(template, i, template.length());
                break;
            }
            int close = template.indexOf('}', open);
            if (close < 0) {
                throw new IllegalArgumentException("unclosed placeholder in template: " + template);
            }
            String name = template.substring(open + 1, close);
            String value = values.get(name);
            if (value == null) {
                throw new IllegalArgumentException("no value for placeholder {" + name + "}");
            }
            out.append(template, i, open);
            starts.putIfAbsent(name, out.length());
            out.append(value);
            i = close + 1;
        }
        return new Filled(out.toString(), starts);
    }

    /**
     * niah's singular form, used when queries x values == 1: 'Some' -> 'A', 'are all' -> 'is',
     * 'are' -> 'is', 'answers' -> 'answer', in this order and everywhere in the text, as the
     * reference does. Applied to the template and the answer prefix before filling, so the
     * context is untouched. (The type name's trailing 's' is dropped by the caller.)
     */
    public static String singular(String template) {
        return template.replace("Some", "A")
                .replace("are all", "is")
                .replace("are", "is")
                .replace("answers", "answer");
    }
}
