package org.rbench.analysis;

/** Builds {@link ResultRow}s for unit tests, with neutral defaults for every column. */
final class TestRows {
    private String runId = "run-1";
    private Kind kind = Kind.RULER;
    private String model = "m.gguf";
    private String device = "dev";
    private String method = "full";
    private long seed = 0;
    private String task = "task";
    private int length = 32768;
    private int sampleIndex = 0;
    private double score = 100;
    private double prefillMs = Double.NaN;
    private double decodeMs = Double.NaN;
    private double tokensGenerated = Double.NaN;
    private double attendedRows = Double.NaN;
    private double nllSum = Double.NaN;
    private double tokensScored = Double.NaN;
    private double recall = Double.NaN;
    private double bound = Double.NaN;
    private String suiteCommit = "";
    private String backend = "";
    private String kvFill = "";

    static TestRows ruler(String method, String task, int sample, double score) {
        TestRows rows = new TestRows();
        rows.method = method;
        rows.task = task;
        rows.sampleIndex = sample;
        rows.seed = sample;
        rows.score = score;
        return rows;
    }

    static TestRows latency(String method, int length, int repetition, double decodeMs) {
        TestRows rows = new TestRows();
        rows.kind = Kind.LATENCY;
        rows.method = method;
        rows.task = "latency";
        rows.length = length;
        rows.sampleIndex = repetition;
        rows.score = Double.NaN;
        rows.decodeMs = decodeMs;
        return rows;
    }

    static TestRows ppl(String method, String dataset, double nllSum, double tokens) {
        TestRows rows = new TestRows();
        rows.kind = Kind.PPL;
        rows.method = method;
        rows.task = dataset;
        rows.score = Double.NaN;
        rows.nllSum = nllSum;
        rows.tokensScored = tokens;
        return rows;
    }

    TestRows run(String value) {
        runId = value;
        return this;
    }

    TestRows model(String value) {
        model = value;
        return this;
    }

    TestRows device(String value) {
        device = value;
        return this;
    }

    TestRows length(int value) {
        length = value;
        return this;
    }

    TestRows seed(long value) {
        seed = value;
        return this;
    }

    TestRows decode(double value) {
        decodeMs = value;
        return this;
    }

    TestRows timing(double prefill, double tokens, double decode) {
        prefillMs = prefill;
        tokensGenerated = tokens;
        decodeMs = decode;
        return this;
    }

    TestRows attended(double value) {
        attendedRows = value;
        return this;
    }

    TestRows recall(double value) {
        recall = value;
        return this;
    }

    TestRows provenance(String commit, String backendName) {
        suiteCommit = commit;
        backend = backendName;
        return this;
    }

    TestRows kvFill(String value) {
        kvFill = value;
        return this;
    }

    TestRows bound(double value) {
        bound = value;
        return this;
    }

    ResultRow build() {
        return new ResultRow("test.csv", 2, runId, kind, model, device, method, MethodOrder.nameOf(method), seed, task,
                length, sampleIndex, score, prefillMs, decodeMs, decodeMs, decodeMs, tokensGenerated, attendedRows,
                nllSum, tokensScored, recall, bound, suiteCommit, backend, kvFill);
    }
}
