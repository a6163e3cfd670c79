package org.rbench.harness.llamabench;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One test as llama-bench's {@code -o jsonl} prints it (one JSON object a line), the fields
 * {@code rbench bench} uses: what was measured ({@code n_prompt}, {@code n_gen},
 * {@code n_depth}, {@code n_threads}, {@code flash_attn}, {@code type_k}/{@code type_v}), where
 * ({@code backends}, {@code build_commit}) and each repetition's time ({@code samples_ns}: the
 * whole generation, every token's llama_decode and llama_synchronize).
 */
public record LlamaBenchResult(String buildCommit, String backends, int nPrompt, int nGen, int nDepth, int nThreads,
                               boolean flashAttention, String typeK, String typeV, long[] samplesNs) {

    /** Mean milliseconds per generated token of each repetition. */
    public double[] msPerToken() {
        double[] ms = new double[samplesNs.length];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = samplesNs[i] / 1e6 / nGen;
        }
        return ms;
    }

    /**
     * The tests in llama-bench's jsonl output (blank lines skipped; JSON is YAML's flow style,
     * so the suite's YAML parser reads it).
     *
     * @throws IOException naming the line when it is not a llama-bench test
     */
    public static List<LlamaBenchResult> parseJsonl(String jsonl) throws IOException {
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        List<LlamaBenchResult> out = new ArrayList<>();
        String[] lines = jsonl.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                if (!(yaml.load(line) instanceof Map<?, ?> m)) {
                    throw new IllegalArgumentException("not a JSON object");
                }
                out.add(of(m));
            } catch (YAMLException | IllegalArgumentException | ClassCastException e) {
                throw new IOException("llama-bench output line " + (i + 1) + " is not a test (" + e.getMessage() + "): "
                        + (line.length() > 120 ? line.substring(0, 120) + "..." : line), e);
            }
        }
        return out;
    }

    private static LlamaBenchResult of(Map<?, ?> m) {
        List<?> samples = (List<?>) required(m, "samples_ns");
        long[] ns = new long[samples.size()];
        for (int i = 0; i < ns.length; i++) {
            ns[i] = ((Number) samples.get(i)).longValue();
        }
        if (ns.length == 0) {
            throw new IllegalArgumentException("no samples_ns");
        }
        int nGen = integer(m, "n_gen");
        if (nGen <= 0) {
            throw new IllegalArgumentException("n_gen " + nGen + ": not a generation test");
        }
        return new LlamaBenchResult(String.valueOf(required(m, "build_commit")), String.valueOf(required(m, "backends")),
                integer(m, "n_prompt"), nGen, integer(m, "n_depth"), integer(m, "n_threads"),
                flashAttention(required(m, "flash_attn")), String.valueOf(required(m, "type_k")),
                String.valueOf(required(m, "type_v")), ns);
    }

    /** flash_attn is a number in the pinned release (-1 auto, 0, 1) and a boolean in older ones. */
    private static boolean flashAttention(Object v) {
        return v instanceof Boolean b ? b : ((Number) v).intValue() == 1;
    }

    private static Object required(Map<?, ?> m, String field) {
        Object v = m.get(field);
        if (v == null) {
            throw new IllegalArgumentException("no field " + field);
        }
        return v;
    }

    private static int integer(Map<?, ?> m, String field) {
        return ((Number) required(m, field)).intValue();
    }

    /**
     * This test, when it is what {@code run} asked for: no prompt test, its tokens, depth and
     * threads, flash attention, an F16 cache and a sample per repetition.
     *
     * @throws IOException saying what differs (another llama-bench, or its defaults changed)
     */
    LlamaBenchResult requireMatches(LlamaBenchProgram.Run run) throws IOException {
        List<String> wrong = new ArrayList<>();
        if (nPrompt != 0) {
            wrong.add("n_prompt " + nPrompt + " (asked 0)");
        }
        if (nGen != run.tokens()) {
            wrong.add("n_gen " + nGen + " (asked " + run.tokens() + ")");
        }
        if (nDepth != run.depth()) {
            wrong.add("n_depth " + nDepth + " (asked " + run.depth() + ")");
        }
        if (nThreads != run.threads()) {
            wrong.add("n_threads " + nThreads + " (asked " + run.threads() + ")");
        }
        if (!flashAttention) {
            wrong.add("flash attention off");
        }
        if (!typeK.equals("f16") || !typeV.equals("f16")) {
            wrong.add("cache " + typeK + "/" + typeV + " (asked f16)");
        }
        if (samplesNs.length != run.repetitions()) {
            wrong.add(samplesNs.length + " samples (asked " + run.repetitions() + ")");
        }
        if (!wrong.isEmpty()) {
            throw new IOException("llama-bench measured something else than asked: " + String.join(", ", wrong));
        }
        return this;
    }
}
