package org.rbench.harness.llamabench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One llama-bench test: a method's decode at one depth, {@code tg<n_gen> @ d<n_depth>} (n_gen
 * tokens generated after n_depth in the cache), with one sample per repetition. A sample's time
 * is its decode steps' total ({@code decode_ms_mean x tokens_generated} of its results row),
 * its tokens/s {@code n_gen / time}: so {@code avg_ts} is the mean of the repetitions' tokens/s
 * and {@code avg_ns} their mean time, as llama-bench reports them.
 *
 * @param buildCommit the suite commit (what was built and measured)
 * @param backends llama-bench's backend name: CPU, CUDA, Metal
 * @param method rbench's method spec: llama-bench has no field for it, so it is added after the
 *     llama-bench fields (tools that read llama-bench's files keep their own fields and skip it)
 * @param testTime the newest sample's time, RFC 3339 to the second
 * @param samplesNs one per repetition, in repetition order
 * @param msPerToken mean of the repetitions' decode_ms_mean, the results file's figure
 */
public record LlamaBenchTest(BenchSetting setting, String buildCommit, String backends, int threads, String method,
                             String kvFill, int nGen, int nDepth, String testTime, long[] samplesNs, double msPerToken) {

    /** The field types of llama-bench's printers (its get_field_type). */
    enum Type {
        STRING, BOOL, INT, FLOAT
    }

    /** llama-bench's fields, in its order (the pinned release's tools/llama-bench), then rbench's own. */
    static final Map<String, Type> FIELDS = fields();

    private static Map<String, Type> fields() {
        Type s = Type.STRING;
        Type i = Type.INT;
        Type b = Type.BOOL;
        Type f = Type.FLOAT;
        Object[] spec = {
            "build_commit", s, "build_number", i, "cpu_info", s, "gpu_info", s, "backends", s, "model_filename", s,
            "model_type", s, "model_size", i, "model_n_params", i, "n_batch", i, "n_ubatch", i, "n_threads", i,
            "cpu_mask", s, "cpu_strict", b, "poll", i, "type_k", s, "type_v", s, "n_gpu_layers", i, "n_cpu_moe", i,
            "split_mode", s, "main_gpu", i, "no_kv_offload", b, "flash_attn", i, "devices", s, "tensor_split", s,
            "tensor_buft_overrides", s, "load_mode", s, "lazy_mode", s, "embeddings", b, "no_op_offload", i,
            "no_host", b, "fit_target", i, "fit_min_ctx", i, "n_prompt", i, "n_gen", i, "n_depth", i, "test_time", s,
            "avg_ns", i, "stddev_ns", i, "avg_ts", f, "stddev_ts", f,
            // rbench's own, after llama-bench's
            "method", s, "kv_fill", s, "ms_per_token", f};
        Map<String, Type> fields = new LinkedHashMap<>();
        for (int k = 0; k < spec.length; k += 2) {
            fields.put((String) spec[k], (Type) spec[k + 1]);
        }
        return java.util.Collections.unmodifiableMap(fields);
    }

    /** llama-bench's test name: "tg64 @ d4096" ("tg64" at depth 0). */
    public String testName() {
        return "tg" + nGen + (nDepth > 0 ? " @ d" + nDepth : "");
    }

    /** Each repetition's tokens/s: n_gen / its time. */
    public double[] samplesTs() {
        return Arrays.stream(samplesNs).mapToDouble(ns -> 1e9 * nGen / ns).toArray();
    }

    public long avgNs() {
        return Math.round(mean(Arrays.stream(samplesNs).mapToDouble(v -> v).toArray()));
    }

    public long stddevNs() {
        return Math.round(stddev(Arrays.stream(samplesNs).mapToDouble(v -> v).toArray()));
    }

    public double avgTs() {
        return mean(samplesTs());
    }

    public double stddevTs() {
        return stddev(samplesTs());
    }

    /** Every field's value as text, as llama-bench's get_values gives them (booleans 0/1, floats %f). */
    public Map<String, String> values() {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("build_commit", buildCommit);
        v.put("build_number", "0");
        v.put("cpu_info", setting.cpuInfo());
        v.put("gpu_info", setting.gpuInfo());
        v.put("backends", backends);
        v.put("model_filename", setting.modelFilename());
        v.put("model_type", setting.modelType());
        v.put("model_size", Long.toString(setting.modelSize()));
        v.put("model_n_params", Long.toString(setting.modelParams()));
        v.put("n_batch", Integer.toString(setting.microBatch()));
        v.put("n_ubatch", Integer.toString(setting.microBatch()));
        v.put("n_threads", Integer.toString(threads));
        v.put("cpu_mask", "0x0");
        v.put("cpu_strict", "0");
        v.put("poll", "50");
        v.put("type_k", setting.cacheType());
        v.put("type_v", setting.cacheType());
        v.put("n_gpu_layers", Integer.toString(setting.gpuLayers()));
        v.put("n_cpu_moe", "0");
        v.put("split_mode", "none");
        v.put("main_gpu", "0");
        v.put("no_kv_offload", "0");
        v.put("flash_attn", setting.flashAttention() ? "1" : "0");
        v.put("devices", "auto");
        v.put("tensor_split", "0.00");
        v.put("tensor_buft_overrides", "none");
        v.put("load_mode", "mmap");
        v.put("lazy_mode", "off");
        v.put("embeddings", "0");
        v.put("no_op_offload", "0");
        v.put("no_host", "0");
        v.put("fit_target", "0");
        v.put("fit_min_ctx", "0");
        v.put("n_prompt", "0");
        v.put("n_gen", Integer.toString(nGen));
        v.put("n_depth", Integer.toString(nDepth));
        v.put("test_time", testTime);
        v.put("avg_ns", Long.toString(avgNs()));
        v.put("stddev_ns", Long.toString(stddevNs()));
        v.put("avg_ts", floating(avgTs()));
        v.put("stddev_ts", floating(stddevTs()));
        v.put("method", method);
        v.put("kv_fill", kvFill);
        v.put("ms_per_token", floating(msPerToken));
        return v;
    }

    /** std::to_string's form of a double: six decimals. */
    static String floating(double value) {
        return String.format(Locale.ROOT, "%.6f", value);
    }

    private static double mean(double[] v) {
        return v.length == 0 ? Double.NaN : Arrays.stream(v).sum() / v.length;
    }

    /** With Bessel's correction, 0 for a single sample, as llama-bench's stdev. */
    private static double stddev(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v);
        return Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / (v.length - 1));
    }
}
