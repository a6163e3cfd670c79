package org.rbench.datasets;

import java.util.List;

/** How a task's predictions are scored; see {@link Scoring}. */
public enum Metric {
    /** Per sample, the fraction of the references found in the prediction. */
    STRING_MATCH_ALL("string_match_all"),
    /** Per sample, 1 if any reference is found in the prediction. */
    STRING_MATCH_PART("string_match_part");

    private final String id;

    Metric(String id) {
        this.id = id;
    }

    /** The reference's name of the metric, as written to the JSONL files. */
    public String id() {
        return id;
    }

    /** One sample's score in [0, 1]; the prediction is post-processed first. */
    public double scoreSample(String prediction, List<String> references) {
        return switch (this) {
            case STRING_MATCH_ALL -> Scoring.sampleMatchAll(prediction, references);
            case STRING_MATCH_PART -> Scoring.sampleMatchPart(prediction, references);
        };
    }

    /** The task score: mean over samples x 100, rounded to two decimals like the reference. */
    public double score(List<String> predictions, List<List<String>> references) {
        return switch (this) {
            case STRING_MATCH_ALL -> Scoring.stringMatchAll(predictions, references);
            case STRING_MATCH_PART -> Scoring.stringMatchPart(predictions, references);
        };
    }
}
