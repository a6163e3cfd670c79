package org.rbench.datasets;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * RULER's scoring functions, as in the reference's scripts/eval.
 *
 * <p>A prediction is first stripped and its control characters [\x00-\x1f] replaced by
 * newlines (then stripped again). A reference counts as found when it is contained in the
 * prediction, ignoring case. {@code string_match_all} averages, per sample, the fraction
 * of references found; {@code string_match_part} counts a sample as 1 when any reference
 * is found. Both return the mean over samples x 100, rounded to two decimals.
 */
public final class Scoring {

    private static final Pattern CONTROL_CHARACTERS = Pattern.compile("[\\x00-\\x1f]");

    private Scoring() {
    }

    /** The reference's post-processing of a model's output. */
    public static String postprocess(String prediction) {
        Objects.requireNonNull(prediction, "prediction");
        return CONTROL_CHARACTERS.matcher(prediction.strip()).replaceAll("\n").strip();
    }

    /** string_match_all over samples: mean of per-sample fractions x 100, two decimals. */
    public static double stringMatchAll(List<String> predictions, List<List<String>> references) {
        checkSizes(predictions, references);
        double sum = 0;
        for (int i = 0; i < predictions.size(); i++) {
            sum += sampleMatchAll(predictions.get(i), references.get(i));
        }
        return percent(sum, predictions.size());
    }

    /** string_match_part over samples: share of samples with any reference found x 100, two decimals. */
    public static double stringMatchPart(List<String> predictions, List<List<String>> references) {
        checkSizes(predictions, references);
        double sum = 0;
        for (int i = 0; i < predictions.size(); i++) {
            sum += sampleMatchPart(predictions.get(i), references.get(i));
        }
        return percent(sum, predictions.size());
    }

    /** One sample of string_match_all: the fraction of references found, in [0, 1]. */
    public static double sampleMatchAll(String prediction, List<String> references) {
        checkReferences(references);
        String text = postprocess(prediction).toLowerCase(Locale.ROOT);
        int found = 0;
        for (String reference : references) {
            if (text.contains(reference.toLowerCase(Locale.ROOT))) {
                found++;
            }
        }
        return (double) found / references.size();
    }

    /** One sample of string_match_part: 1 if any reference is found, else 0. */
    public static double sampleMatchPart(String prediction, List<String> references) {
        checkReferences(references);
        String text = postprocess(prediction).toLowerCase(Locale.ROOT);
        for (String reference : references) {
            if (text.contains(reference.toLowerCase(Locale.ROOT))) {
                return 1.0;
            }
        }
        return 0.0;
    }

    private static double percent(double sum, int samples) {
        // Like Python's round(x, 2): the exact binary value, rounded half to even.
        return new BigDecimal(sum / samples * 100).setScale(2, RoundingMode.HALF_EVEN).doubleValue();
    }

    private static void checkSizes(List<String> predictions, List<List<String>> references) {
        Objects.requireNonNull(predictions, "predictions");
        Objects.requireNonNull(references, "references");
        if (predictions.isEmpty()) {
            throw new IllegalArgumentException("no predictions to score");
        }
        if (predictions.size() != references.size()) {
            throw new IllegalArgumentException(predictions.size() + " predictions but " + references.size() + " reference lists");
        }
    }

    private static void checkReferences(List<String> references) {
        if (references == null || references.isEmpty()) {
            throw new IllegalArgumentException("a sample needs at least one reference");
        }
    }
}
