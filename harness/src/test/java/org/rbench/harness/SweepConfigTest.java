package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.harness.results.ResultsFile;
import org.rbench.harness.results.ResultsMerge;
import org.rbench.harness.run.Method;
import org.rbench.harness.run.RulerRun;
import org.rbench.harness.sweep.ConfigException;
import org.rbench.harness.sweep.Shard;
import org.rbench.harness.sweep.SweepConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SweepConfigTest {
    @TempDir
    Path dir;

    private SweepConfig load(String yaml) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, yaml);
        return SweepConfig.load(f);
    }

    @Test
    void readsAFullConfig() throws Exception {
        SweepConfig c = load("""
                name: small
                methods: [full, "recycled:k=1024,s=50"]
                tasks: [niah_single_1, vt]
                lengths: [4096, 8192]
                samples: 3
                seed: 7
                backend: cpu
                threads: 2
                out: r.csv
                """);
        assertEquals(List.of("full", "recycled:k=1024,s=50"), c.methods().stream().map(Method::text).toList());
        assertEquals(List.of("full", "recycled"), c.methods().stream().map(Method::name).toList());
        assertEquals(List.of(4096, 8192), c.lengths());
        assertEquals(3, c.samples());
        assertEquals(dir.resolve("r.csv"), c.out());
        assertEquals(List.of("default"), c.models());
        assertFalse(c.diagnostics());
        assertEquals(null, c.diagnosticsSteps());
    }

    @Test
    void diagnosticsAndTheirStepLimit() throws Exception {
        String rest = "methods: [full]\ntasks: [vt]\nlengths: [1024]\n";
        SweepConfig c = load(rest + "diagnostics: true\ndiagnostics_steps: 24\n");
        assertTrue(c.diagnostics());
        assertEquals(24, c.diagnosticsSteps());
        assertTrue(load(rest).withDiagnostics(true).diagnostics());
        assertTrue(assertThrows(ConfigException.class, () -> load(rest + "diagnostics: yes please\n"))
                .getMessage().contains("'diagnostics' must be true or false"));
        assertTrue(assertThrows(ConfigException.class, () -> load(rest + "diagnostics_steps: 0\n"))
                .getMessage().contains("diagnostics_steps must be positive"));
    }

    @Test
    void prefillIsSharedOrOwn() throws Exception {
        String rest = "methods: [full, \"h2o:k=64\"]\ntasks: [vt]\nlengths: [1024]\n";
        assertEquals(RulerRun.Prefill.SHARED, load(rest).prefill(), "shared by default");
        assertEquals(RulerRun.Prefill.SHARED, load(rest + "prefill: shared\n").prefill());
        assertEquals(RulerRun.Prefill.OWN, load(rest + "prefill: own\n").prefill());
        assertEquals(RulerRun.Prefill.OWN, load(rest + "prefill: own\n").withDiagnostics(true).prefill());
        for (String bad : List.of("Own", "separate", "true", "[own]")) {
            String message = assertThrows(ConfigException.class, () -> load(rest + "prefill: " + bad + "\n")).getMessage();
            assertTrue(message.contains("'prefill' must be one of [shared, own]") || message.contains("'prefill' must be a single value"),
                    message);
            assertTrue(message.startsWith(dir.resolve("c.yaml").toString()), message);
        }
        assertTrue(assertThrows(ConfigException.class, () -> load(rest + "prefill: separate\n")).getMessage()
                .contains("'prefill' must be one of [shared, own], not 'separate'"));
        assertTrue(assertThrows(ConfigException.class, () -> load("kind: ppl\n" + rest + "prefill: own\n")).getMessage()
                .contains("'prefill' applies to kind: ruler only"));
    }

    @Test
    void malformedYamlNamesTheLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> load("methods: [full\nlengths: 4096\n"));
        assertTrue(e.getMessage().contains("malformed YAML at line"), e.getMessage());
    }

    @Test
    void typosAndWrongTypesAreErrors() {
        assertTrue(assertThrows(ConfigException.class, () -> load("metods: [full]\nlengths: [1]\ntasks: [vt]\n"))
                .getMessage().contains("unknown setting 'metods'"));
        assertTrue(assertThrows(ConfigException.class, () -> load("methods: [full]\ntasks: [vt]\nlengths: [4k]\n"))
                .getMessage().contains("list of integers"));
        assertTrue(assertThrows(ConfigException.class, () -> load("methods: [full]\ntasks: [vt]\nlengths: [1]\nsamples: 2.5\n"))
                .getMessage().contains("must be an integer"));
        assertTrue(assertThrows(ConfigException.class, () -> load("tasks: [vt]\nlengths: [1]\n"))
                .getMessage().contains("'methods' is required"));
        assertTrue(assertThrows(ConfigException.class, () -> load("- a\n- b\n")).getMessage().contains("mapping"));
    }

    @Test
    void methodsAreParsedWhenTheConfigIsRead() throws Exception {
        String rest = "tasks: [vt]\nlengths: [1024]\n";
        SweepConfig c = load("methods: [full, llamacpp, \"h2o:k=64\"]\n" + rest);
        assertEquals(List.of(false, true, false), c.methods().stream().map(Method::isReference).toList());
        assertTrue(c.methods().get(2) instanceof Method.EngineStrategy);
        String unknown = assertThrows(ConfigException.class, () -> load("methods: [full, fulll]\n" + rest)).getMessage();
        assertTrue(unknown.contains("'methods': unknown method 'fulll'"), unknown);
        assertTrue(unknown.startsWith(dir.resolve("c.yaml").toString()), unknown);
        assertTrue(assertThrows(ConfigException.class, () -> load("methods: [\"llamacpp:k=8\"]\n" + rest))
                .getMessage().contains("unknown parameter 'k'"));
        assertTrue(assertThrows(ConfigException.class, () -> load("methods: [\"h2o:k=x\"]\n" + rest))
                .getMessage().contains("k must be an integer"));
        assertTrue(assertThrows(ConfigException.class, () -> load("methods: [full, \" full\"]\n" + rest))
                .getMessage().contains("lists 'full' twice"));
    }

    @Test
    void shardsPartitionTheWork() {
        List<Integer> units = IntStream.range(0, 10).boxed().toList();
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            all.addAll(new Shard(i, 3).select(units));
        }
        all.sort(null);
        assertEquals(units, all);
        assertEquals(List.of(1, 4, 7), Shard.parse("1/3").select(units));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("3/3"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("x"));
    }

    @Test
    void mergeCombinesShardsAndDropsDuplicates() throws Exception {
        Path a = dir.resolve("a.csv"), b = dir.resolve("b.csv"), out = dir.resolve("m.csv");
        try (ResultsFile f = ResultsFile.open(a)) {
            f.append(Map.of("kind", "ruler", "sample_index", "0"));
            f.append(Map.of("kind", "ruler", "sample_index", "2"));
        }
        try (ResultsFile f = ResultsFile.open(b)) {
            f.append(Map.of("kind", "ruler", "sample_index", "1"));
            f.append(Map.of("kind", "ruler", "sample_index", "2"));
        }
        ResultsMerge.Summary s = ResultsMerge.merge(List.of(a, b), out);
        assertEquals(new ResultsMerge.Summary(2, 3, 1, 0, List.of()), s);
        assertThrows(java.io.IOException.class, () -> ResultsMerge.merge(List.of(a, b), out), "never overwrites");
    }
}
