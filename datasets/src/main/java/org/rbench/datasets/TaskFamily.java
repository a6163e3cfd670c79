package org.rbench.datasets;

/** The five generators behind RULER's 13 tasks, with their generation settings. */
public enum TaskFamily {
    NIAH(128, Metric.STRING_MATCH_ALL, Templates.NIAH, Templates.NIAH_ANSWER_PREFIX),
    VARIABLE_TRACKING(30, Metric.STRING_MATCH_ALL, Templates.VARIABLE_TRACKING, Templates.VARIABLE_TRACKING_ANSWER_PREFIX),
    COMMON_WORDS(120, Metric.STRING_MATCH_ALL, Templates.COMMON_WORDS, Templates.COMMON_WORDS_ANSWER_PREFIX),
    FREQUENT_WORDS(50, Metric.STRING_MATCH_ALL, Templates.FREQUENT_WORDS, Templates.FREQUENT_WORDS_ANSWER_PREFIX),
    QA(32, Metric.STRING_MATCH_PART, Templates.QA, Templates.QA_ANSWER_PREFIX);

    private final int tokensToGenerate;
    private final Metric metric;
    private final String template;
    private final String answerPrefix;

    TaskFamily(int tokensToGenerate, Metric metric, String template, String answerPrefix) {
        this.tokensToGenerate = tokensToGenerate;
        this.metric = metric;
        this.template = template;
        this.answerPrefix = answerPrefix;
    }

    /** Tokens the model may generate; the target length includes them. */
    public int tokensToGenerate() {
        return tokensToGenerate;
    }

    public Metric metric() {
        return metric;
    }

    /** The template with its placeholders, verbatim from the reference. */
    public String template() {
        return template;
    }

    /** The answer prefix with its placeholders, verbatim from the reference. */
    public String answerPrefix() {
        return answerPrefix;
    }
}
