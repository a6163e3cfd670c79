package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Slurm array script and the Kubernetes Indexed Job run the shards that rbench expects. */
class ClusterScriptsTest {
    private static final Path CLUSTER = Path.of("cluster");

    @Test
    void slurmArrayTasksRunEveryShardOnce(@TempDir Path dir) throws Exception {
        Path fake = dir.resolve("rbench");
        Files.writeString(fake, "#!/bin/sh\necho \"$@\"\n");
        fake.toFile().setExecutable(true);
        List<String> lines = new ArrayList<>();
        for (int task = 1; task <= 4; task++) { // --array=1-4
            ProcessBuilder pb = new ProcessBuilder("bash", CLUSTER.resolve("slurm-array.sh").toString(), "s.yaml",
                    dir.resolve("out").toString());
            pb.environment().put("RBENCH", fake.toString());
            pb.environment().put("SLURM_ARRAY_TASK_ID", Integer.toString(task));
            pb.environment().put("SLURM_ARRAY_TASK_MIN", "1");
            pb.environment().put("SLURM_ARRAY_TASK_COUNT", "4");
            Process p = pb.redirectErrorStream(true).start();
            lines.add(new String(p.getInputStream().readAllBytes()).trim());
            assertEquals(0, p.waitFor());
        }
        for (int i = 0; i < 4; i++) {
            assertEquals("run s.yaml --shard " + i + "/4 --out " + dir.resolve("out") + "/shard-" + i + "-of-4.csv", lines.get(i));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void indexedJobShardsMatchItsCompletions() throws Exception {
        List<Object> docs = new ArrayList<>();
        for (Object d : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(Files.readString(CLUSTER.resolve("k8s-indexed-job.yaml")))) {
            docs.add(d);
        }
        Map<String, Object> job = (Map<String, Object>) docs.stream().filter(d -> "Job".equals(((Map<?, ?>) d).get("kind")))
                .findFirst().orElseThrow();
        Map<String, Object> spec = (Map<String, Object>) job.get("spec");
        assertEquals("Indexed", spec.get("completionMode"));
        Map<String, Object> container = ((List<Map<String, Object>>) ((Map<String, Object>) ((Map<String, Object>) spec.get("template"))
                .get("spec")).get("containers")).getFirst();
        String shards = ((List<Map<String, Object>>) container.get("env")).stream()
                .filter(e -> "SHARDS".equals(e.get("name"))).map(e -> (String) e.get("value")).findFirst().orElseThrow();
        assertEquals(spec.get("completions").toString(), shards, "completions and SHARDS must agree");
        String args = String.join(" ", (List<String>) container.get("args"));
        assertTrue(args.contains("--shard \"${JOB_COMPLETION_INDEX}/${SHARDS}\""), args);
        Map<String, Object> config = (Map<String, Object>) docs.stream().filter(d -> "ConfigMap".equals(((Map<?, ?>) d).get("kind")))
                .findFirst().orElseThrow();
        String sweep = (String) ((Map<String, Object>) config.get("data")).get("sweep.yaml");
        Path tmp = Files.createTempFile("sweep", ".yaml");
        Files.writeString(tmp, sweep);
        org.rbench.harness.sweep.SweepConfig.load(tmp); // the embedded sweep is valid
        Files.delete(tmp);
    }
}
