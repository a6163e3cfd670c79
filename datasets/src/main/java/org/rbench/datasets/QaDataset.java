package org.rbench.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The questions and documents of qa_1 (SQuAD v2 dev) or qa_2 (HotpotQA dev, distractor
 * setting), read from the files the user downloaded, as the reference's qa.py reads them.
 *
 * <p>Documents are the distinct paragraphs, sorted. SQuAD: only answerable questions; a
 * question's gold document is its paragraph, and the other paragraphs of the same article
 * are preferred as distractors. HotpotQA: a document is {@code title\nsentences}; all ten
 * paragraphs given with a question are its documents.
 *
 * @param name      "squad" or "hotpotqa"
 * @param questions in file order
 * @param documents distinct, sorted
 */
public record QaDataset(String name, List<Question> questions, List<String> documents) {

    /**
     * @param query   the question
     * @param answers the reference answers
     * @param gold    indexes of the documents that must be in the context
     * @param related indexes of preferred distractors (SQuAD: same article)
     */
    public record Question(String query, List<String> answers, int[] gold, int[] related) {
    }

    public QaDataset {
        questions = List.copyOf(questions);
        documents = List.copyOf(documents);
        if (questions.isEmpty() || documents.isEmpty()) {
            throw new IllegalArgumentException(name + ": no questions or documents");
        }
    }

    /** Reads SQuAD v2 dev JSON (dev-v2.0.json). */
    public static QaDataset readSquad(Path file) {
        JsonNode root = readTree(file, "SQuAD");
        JsonNode articles = root.path("data");
        if (!articles.isArray()) {
            throw new IllegalArgumentException(file + " is not a SQuAD file: no 'data' array");
        }
        TreeSet<String> paragraphs = new TreeSet<>();
        for (JsonNode article : articles) {
            for (JsonNode paragraph : article.path("paragraphs")) {
                paragraphs.add(paragraph.path("context").asText());
            }
        }
        List<String> documents = new ArrayList<>(paragraphs);
        Map<String, Integer> indexOf = indexes(documents);
        List<Question> questions = new ArrayList<>();
        for (JsonNode article : articles) {
            List<Integer> articleDocs = new ArrayList<>();
            for (JsonNode paragraph : article.path("paragraphs")) {
                articleDocs.add(indexOf.get(paragraph.path("context").asText()));
            }
            for (JsonNode paragraph : article.path("paragraphs")) {
                int doc = indexOf.get(paragraph.path("context").asText());
                int[] related = articleDocs.stream().filter(d -> d != doc).mapToInt(Integer::intValue).toArray();
                for (JsonNode qa : paragraph.path("qas")) {
                    if (qa.path("is_impossible").asBoolean(false)) {
                        continue;
                    }
                    List<String> answers = new ArrayList<>();
                    for (JsonNode answer : qa.path("answers")) {
                        answers.add(answer.path("text").asText());
                    }
                    if (answers.isEmpty()) {
                        continue;
                    }
                    questions.add(new Question(qa.path("question").asText(), answers, new int[] {doc}, related));
                }
            }
        }
        return new QaDataset("squad", questions, documents);
    }

    /** Reads HotpotQA dev distractor JSON (hotpot_dev_distractor_v1.json). */
    public static QaDataset readHotpotQa(Path file) {
        JsonNode root = readTree(file, "HotpotQA");
        if (!root.isArray()) {
            throw new IllegalArgumentException(file + " is not a HotpotQA file: expected a JSON array");
        }
        TreeSet<String> paragraphs = new TreeSet<>();
        for (JsonNode item : root) {
            for (JsonNode context : item.path("context")) {
                paragraphs.add(document(context));
            }
        }
        List<String> documents = new ArrayList<>(paragraphs);
        Map<String, Integer> indexOf = indexes(documents);
        List<Question> questions = new ArrayList<>();
        for (JsonNode item : root) {
            LinkedHashSet<Integer> gold = new LinkedHashSet<>();
            for (JsonNode context : item.path("context")) {
                gold.add(indexOf.get(document(context)));
            }
            questions.add(new Question(item.path("question").asText(), List.of(item.path("answer").asText()),
                    gold.stream().mapToInt(Integer::intValue).toArray(), new int[0]));
        }
        return new QaDataset("hotpotqa", questions, documents);
    }

    /** A HotpotQA paragraph [title, [sentences...]] as "title\nsentence sentence...". */
    private static String document(JsonNode context) {
        StringBuilder text = new StringBuilder(context.path(0).asText()).append('\n');
        for (JsonNode sentence : context.path(1)) {
            text.append(sentence.asText());
        }
        return text.toString();
    }

    private static Map<String, Integer> indexes(List<String> documents) {
        Map<String, Integer> indexOf = new HashMap<>(documents.size() * 2);
        for (int i = 0; i < documents.size(); i++) {
            indexOf.put(documents.get(i), i);
        }
        return indexOf;
    }

    private static JsonNode readTree(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(what + " file not found: " + file);
        }
        ObjectMapper mapper = new ObjectMapper();
        try (JsonParser parser = mapper.getFactory().createParser(file.toFile())) {
            if (parser.nextToken() == null) {
                throw new IllegalArgumentException(what + " file is empty: " + file);
            }
            JsonNode tree = mapper.readTree(parser);
            if (parser.nextToken() != null && parser.currentToken() != JsonToken.NOT_AVAILABLE) {
                throw new IllegalArgumentException(what + " file has trailing content: " + file);
            }
            return tree;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + what + " file " + file + ": " + e.getMessage(), e);
        }
    }
}
