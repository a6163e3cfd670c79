package org.rbench.datasets;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Question answering, qa_1 and qa_2 (reference: scripts/data/synthetic/qa.py): a question
 * with its gold documents hidden among distractor documents.
 *
 * <p>Sample i asks question i of the dataset (in file order, wrapping around). Documents:
 * the gold ones, then the related ones (SQuAD: same article), then random others, as many
 * as the haystack size; shuffled, formatted {@code Document {i}:\n{text}} and joined by
 * blank lines. A haystack larger than the dataset repeats all its documents.
 */
final class QuestionAnswering implements SizedTask {

    private final QaDataset dataset;

    QuestionAnswering(QaDataset dataset) {
        this.dataset = dataset;
    }

    private QaDataset.Question question(int index) {
        return dataset.questions().get(Math.floorMod(index, dataset.questions().size()));
    }

    @Override
    public Prompt build(int units, int index, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        SplittableRandom pickRng = rng.split();
        SplittableRandom orderRng = rng.split();
        QaDataset.Question question = question(index);
        List<String> documents = dataset.documents();

        List<Integer> chosen = new ArrayList<>(units);
        if (units < documents.size()) {
            int[] gold = question.gold();
            int[] related = question.related();
            for (int doc : gold) {
                chosen.add(doc);
            }
            int wanted = Math.max(0, units - gold.length);
            if (wanted > related.length) {
                for (int doc : related) {
                    chosen.add(doc);
                }
                chosen.addAll(others(wanted - related.length, gold, related, pickRng));
            } else {
                for (int i : Draws.sample(related.length, wanted, pickRng)) {
                    chosen.add(related[i]);
                }
            }
        } else {
            for (int i = 0; i < units; i++) {
                chosen.add(i % documents.size());
            }
        }
        Draws.shuffle(chosen, orderRng);

        Set<Integer> gold = new HashSet<>();
        for (int doc : question.gold()) {
            gold.add(doc);
        }
        StringBuilder context = new StringBuilder();
        List<Span> spans = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            if (i > 0) {
                context.append("\n\n");
            }
            Templates.Filled document = Templates.fillMarked(Templates.QA_DOCUMENT,
                    Map.of("i", Integer.toString(i + 1), "text", documents.get(chosen.get(i))));
            if (gold.contains(chosen.get(i))) {
                // The answer spans: the text of every gold document (the answer may be worded otherwise).
                int start = context.length() + document.start("text");
                spans.add(new Span(start, start + documents.get(chosen.get(i)).length()));
            }
            context.append(document.text());
        }
        Templates.Filled message = Templates.fillMarked(Templates.QA,
                Map.of("context", context.toString(), "query", question.query()));
        int contextStart = message.start("context");
        return new Prompt(message.text(), Templates.QA_ANSWER_PREFIX, question.answers(),
                spans.stream().map(span -> span.shift(contextStart)).toList());
    }

    /** {@code count} random documents that are neither gold nor related. */
    private List<Integer> others(int count, int[] gold, int[] related, SplittableRandom rng) {
        Set<Integer> excluded = new HashSet<>();
        for (int doc : gold) {
            excluded.add(doc);
        }
        for (int doc : related) {
            excluded.add(doc);
        }
        List<Integer> candidates = new ArrayList<>(dataset.documents().size());
        for (int i = 0; i < dataset.documents().size(); i++) {
            if (!excluded.contains(i)) {
                candidates.add(i);
            }
        }
        int take = Math.min(count, candidates.size());
        List<Integer> picked = new ArrayList<>(take);
        for (int i : Draws.sample(candidates.size(), take, rng)) {
            picked.add(candidates.get(i));
        }
        return picked;
    }

    @Override
    public int minUnits() {
        int most = 1;
        for (QaDataset.Question q : dataset.questions()) {
            most = Math.max(most, q.gold().length);
        }
        return Math.min(most, dataset.documents().size());
    }

    @Override
    public int increment() {
        return 10;
    }

    @Override
    public int minTokensPerIncrement() {
        return increment() * 4; // "Document i:\n" alone is a few tokens
    }

    @Override
    public String unitName() {
        return "documents";
    }
}
