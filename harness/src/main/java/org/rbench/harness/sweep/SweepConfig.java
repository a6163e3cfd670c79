package org.rbench.harness.sweep;

import org.rbench.harness.run.CpuThreads;
import org.rbench.harness.run.Method;
import org.rbench.harness.run.RulerRun;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sweep: models x methods x tasks x lengths x samples, read from YAML. Unknown keys and
 * wrongly typed values are errors that name the key (a typo must not silently run the
 * default); methods are parsed and validated here, before any work. Example:
 * <pre>
 * name: ruler-small
 * kind: ruler            # ruler | ppl | latency
 * models: [default]      # GGUF paths; "default" is the embedded model
 * methods: [full, "recycled:k=1024,s=50", "streamingllm:sink=4,window=1020", "h2o:heavy=512,recent=512"]
 * tasks: [niah_single_1, vt]
 * lengths: [4096, 8192]
 * samples: 5
 * seed: 42
 * backend: cpu
 * threads: 1           # default: all cores but one (CpuThreads)
 * out: results/ruler-small.csv
 * diagnostics: false     # true: also decode each sample again, untimed, beside full attention: attention mass
 *                        # recall and answer coverage per step and layer (results columns and X.diagnostics.csv)
 * diagnostics_steps: 32  # per-step rows only for the first N decode steps (default: all; the columns cover all)
 * prefill: shared        # kind: ruler. shared (default): one prefill per sample, with the statistics every method
 *                        # asks for, serves every method; own: each method prefills itself (its own prefill_ms)
 * </pre>
 */
public record SweepConfig(String name, String kind, List<String> models, List<Method> methods, List<String> tasks,
                          List<Integer> lengths, int samples, long seed, String backend, int threads, Path out,
                          Integer maxTokens, boolean diagnostics, Integer diagnosticsSteps, RulerRun.Prefill prefill) {

    private static final Set<String> KEYS = Set.of("name", "kind", "models", "methods", "tasks", "lengths", "samples",
            "seed", "backend", "threads", "out", "max_tokens", "diagnostics", "diagnostics_steps", "prefill");
    private static final Set<String> KINDS = Set.of("ruler", "ppl", "latency");

    /** This sweep with diagnostics on or off ({@code rbench run --diagnostics}). */
    public SweepConfig withDiagnostics(boolean on) {
        return new SweepConfig(name, kind, models, methods, tasks, lengths, samples, seed, backend, threads, out, maxTokens, on,
                diagnosticsSteps, prefill);
    }

    public static SweepConfig load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "sweep config not found");
        }
        Object doc;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (MarkedYAMLException e) {
            throw new ConfigException(file + ": malformed YAML at line " + (e.getProblemMark().getLine() + 1)
                    + ", column " + (e.getProblemMark().getColumn() + 1) + ": " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(file + ": malformed YAML: " + e.getMessage());
        }
        if (!(doc instanceof Map<?, ?> map)) {
            throw new ConfigException(file + ": expected a mapping of settings at the top level");
        }
        return fromMap(file.toString(), map, file.toAbsolutePath().getParent());
    }

    public static SweepConfig fromMap(String source, Map<?, ?> map, Path baseDir) {
        for (Object k : map.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new ConfigException(source + ": unknown setting '" + k + "' (known: " + new java.util.TreeSet<>(KEYS) + ")");
            }
        }
        Fields f = new Fields(source, map);
        String kind = f.string("kind", "ruler");
        if (!KINDS.contains(kind)) {
            throw new ConfigException(source + ": kind must be one of " + KINDS + ", not '" + kind + "'");
        }
        String name = f.string("name", "sweep");
        List<String> models = f.strings("models", List.of("default"));
        List<Method> methods = f.methods("methods");
        List<String> tasks = f.strings("tasks", kind.equals("latency") ? List.of("latency") : null);
        List<Integer> lengths = f.ints("lengths");
        int samples = f.integer("samples", 1);
        if (samples <= 0) {
            throw new ConfigException(source + ": samples must be positive");
        }
        for (int len : lengths) {
            if (len <= 0) {
                throw new ConfigException(source + ": lengths must be positive, got " + len);
            }
        }
        Path out = Path.of(f.string("out", "results/" + name + ".csv"));
        if (!out.isAbsolute() && baseDir != null && map.containsKey("out")) {
            out = baseDir.resolve(out);
        }
        Integer maxTokens = map.containsKey("max_tokens") ? f.integer("max_tokens", 0) : null;
        Object diag = map.get("diagnostics");
        if (diag != null && !(diag instanceof Boolean)) {
            throw new ConfigException(source + ": 'diagnostics' must be true or false");
        }
        int threads = f.integer("threads", CpuThreads.defaultCount());
        CpuThreads.invalid(threads).ifPresent(why -> {
            throw new ConfigException(source + ": " + why);
        });
        Integer diagnosticsSteps = map.containsKey("diagnostics_steps") ? f.integer("diagnostics_steps", 0) : null;
        if (diagnosticsSteps != null && diagnosticsSteps <= 0) {
            throw new ConfigException(source + ": diagnostics_steps must be positive");
        }
        String prefillText = f.string("prefill", RulerRun.Prefill.SHARED.configName());
        RulerRun.Prefill prefill = RulerRun.Prefill.ofConfigName(prefillText).orElseThrow(() -> new ConfigException(
                source + ": 'prefill' must be one of " + RulerRun.Prefill.configNames() + ", not '" + prefillText + "'"));
        if (map.containsKey("prefill") && !kind.equals("ruler")) {
            throw new ConfigException(source + ": 'prefill' applies to kind: ruler only, not kind: " + kind);
        }
        return new SweepConfig(name, kind, models, methods, tasks, lengths, samples, f.longValue("seed", 42),
                f.string("backend", "best"), threads, out, maxTokens, Boolean.TRUE.equals(diag), diagnosticsSteps, prefill);
    }

    /** Typed access to the YAML map with errors that name the key. */
    private record Fields(String source, Map<?, ?> map) {
        String string(String key, String dflt) {
            Object v = map.get(key);
            if (v == null) {
                if (dflt == null) {
                    throw new ConfigException(source + ": '" + key + "' is required");
                }
                return dflt;
            }
            if (v instanceof Map || v instanceof List) {
                throw new ConfigException(source + ": '" + key + "' must be a single value");
            }
            return v.toString();
        }

        int integer(String key, int dflt) {
            return Math.toIntExact(longValue(key, dflt));
        }

        long longValue(String key, long dflt) {
            Object v = map.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof Number n && !(v instanceof Double) && !(v instanceof Float)) {
                return n.longValue();
            }
            throw new ConfigException(source + ": '" + key + "' must be an integer, not '" + v + "'");
        }

        List<String> strings(String key, List<String> dflt) {
            Object v = map.get(key);
            if (v == null) {
                if (dflt == null) {
                    throw new ConfigException(source + ": '" + key + "' is required (a list)");
                }
                return dflt;
            }
            List<?> list = v instanceof List<?> l ? l : List.of(v);
            if (list.isEmpty()) {
                throw new ConfigException(source + ": '" + key + "' must not be empty");
            }
            Set<String> out = new LinkedHashSet<>();
            for (Object o : list) {
                if (o == null || o instanceof Map || o instanceof List) {
                    throw new ConfigException(source + ": '" + key + "' must be a list of strings");
                }
                if (!out.add(o.toString())) {
                    throw new ConfigException(source + ": '" + key + "' lists '" + o + "' twice");
                }
            }
            return List.copyOf(out);
        }

        /** A required list of method specs, each parsed; two that parse to the same spec text are an error. */
        List<Method> methods(String key) {
            List<Method> out = new ArrayList<>();
            Set<String> texts = new LinkedHashSet<>();
            for (String spec : strings(key, null)) {
                Method m;
                try {
                    m = Method.parse(spec);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(source + ": '" + key + "': " + e.getMessage());
                }
                if (!texts.add(m.text())) {
                    throw new ConfigException(source + ": '" + key + "' lists '" + m.text() + "' twice");
                }
                out.add(m);
            }
            return List.copyOf(out);
        }

        List<Integer> ints(String key) {
            Object v = map.get(key);
            if (v == null) {
                throw new ConfigException(source + ": '" + key + "' is required (a list of integers)");
            }
            List<?> list = v instanceof List<?> l ? l : List.of(v);
            List<Integer> out = new ArrayList<>();
            for (Object o : list) {
                if (!(o instanceof Integer i)) {
                    throw new ConfigException(source + ": '" + key + "' must be a list of integers, found '" + o + "'");
                }
                out.add(i);
            }
            if (out.isEmpty()) {
                throw new ConfigException(source + ": '" + key + "' must not be empty");
            }
            return List.copyOf(out);
        }
    }
}
