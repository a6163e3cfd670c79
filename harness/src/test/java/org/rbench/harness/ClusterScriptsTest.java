package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Slurm array script and the Kubernetes Indexed Job run the shards that rbench expects. */
class ClusterScriptsTest {
    private static final Path CLUSTER = Path.of("cluster");

    @Test
    void slurmArrayTasksRunEveryShardOnce(@TempDir Path dir) throws Exception {
        Path fake = fakeRbench(dir.resolve("rbench"));
        List<String> lines = new ArrayList<>();
        for (int task = 0; task < 4; task++) { // --array=0-3
            Result r = slurmTask(CLUSTER.resolve("slurm-array.sh"), dir, List.of("s.yaml", dir.resolve("out").toString(), "4"),
                    Map.of("RBENCH", fake.toString(), "SLURM_ARRAY_TASK_ID", Integer.toString(task),
                            "SLURM_ARRAY_TASK_MIN", "0", "SLURM_ARRAY_TASK_MAX", "3", "SLURM_ARRAY_TASK_COUNT", "4"));
            assertEquals(0, r.code(), r.output());
            lines.add(r.output());
        }
        for (int i = 0; i < 4; i++) {
            assertEquals("run s.yaml --shard " + i + "/4 --out " + dir.resolve("out") + "/shard-" + i + "-of-4.csv", lines.get(i));
        }
    }

    /** A resubmitted task is an array of one (--array=2): it is still shard 2 of 4, not the whole sweep. */
    @Test
    void resubmittedTaskRunsItsOwnShard(@TempDir Path dir) throws Exception {
        Path fake = fakeRbench(dir.resolve("rbench"));
        Result r = slurmTask(CLUSTER.resolve("slurm-array.sh"), dir, List.of("s.yaml", "out", "4"),
                Map.of("RBENCH", fake.toString(), "SLURM_ARRAY_TASK_ID", "2", "SLURM_ARRAY_TASK_MIN", "2",
                        "SLURM_ARRAY_TASK_MAX", "2", "SLURM_ARRAY_TASK_COUNT", "1"));
        assertEquals(0, r.code(), r.output());
        assertEquals("run s.yaml --shard 2/4 --out out/shard-2-of-4.csv", r.output());
    }

    @Test
    void taskBeyondTheShardsOrNoShardCountIsRefused(@TempDir Path dir) throws Exception {
        Path fake = fakeRbench(dir.resolve("rbench"));
        Result beyond = slurmTask(CLUSTER.resolve("slurm-array.sh"), dir, List.of("s.yaml", "out", "4"),
                Map.of("RBENCH", fake.toString(), "SLURM_ARRAY_TASK_ID", "4"));
        assertEquals(2, beyond.code(), beyond.output());
        assertTrue(beyond.output().contains("not a shard of 4"), beyond.output());
        Result noCount = slurmTask(CLUSTER.resolve("slurm-array.sh"), dir, List.of("s.yaml", "out"),
                Map.of("RBENCH", fake.toString(), "SLURM_ARRAY_TASK_ID", "0"));
        assertTrue(noCount.code() != 0 && noCount.output().contains("SHARDS"), noCount.output());
    }

    /**
     * Slurm runs a copy of the script from its spool directory: the launcher is found in the
     * checkout the script was submitted from (scontrol's Command field), not beside the copy.
     */
    @Test
    void launcherIsFoundFromTheSubmittedScriptNotTheSpoolCopy(@TempDir Path dir) throws Exception {
        Path checkout = dir.resolve("checkout");
        Path submitted = checkout.resolve("harness/cluster/slurm-array.sh");
        Files.createDirectories(submitted.getParent());
        Files.copy(CLUSTER.resolve("slurm-array.sh"), submitted);
        fakeRbench(checkout.resolve("rbench"));
        Path spool = dir.resolve("spool/job00042/slurm_script");
        Files.createDirectories(spool.getParent());
        Files.copy(CLUSTER.resolve("slurm-array.sh"), spool);
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path scontrol = bin.resolve("scontrol");
        Files.writeString(scontrol, "#!/bin/sh\necho \"JobId=42 ArrayJobId=40 ArrayTaskId=1 Command=" + submitted + " WorkDir=/x\"\n");
        scontrol.toFile().setExecutable(true);
        Map<String, String> env = new HashMap<>(Map.of("SLURM_JOB_ID", "42", "SLURM_ARRAY_TASK_ID", "1",
                "SLURM_SUBMIT_DIR", dir.toString(), "PATH", bin + ":" + System.getenv("PATH")));
        Result r = slurmTask(spool, dir, List.of("s.yaml", "out", "2"), env);
        assertEquals(0, r.code(), r.output());
        assertEquals("checkout run s.yaml --shard 1/2 --out out/shard-1-of-2.csv", r.output());
    }

    private record Result(int code, String output) {
    }

    /** A stand-in launcher that prints its arguments, prefixed by its folder's name when in a checkout. */
    private static Path fakeRbench(Path at) throws Exception {
        String prefix = at.getParent().getFileName().toString().equals("checkout") ? "checkout " : "";
        Files.writeString(at, "#!/bin/sh\necho \"" + prefix + "$*\"\n");
        at.toFile().setExecutable(true);
        return at;
    }

    /** Runs the script as Slurm would run an array task; stdout is the stand-in's echo, stderr is dropped unless it fails. */
    private static Result slurmTask(Path script, Path workDir, List<String> args, Map<String, String> env) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", script.toAbsolutePath().toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("SLURM_") || k.equals("RBENCH"));
        pb.environment().putAll(env);
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        Process p = pb.redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        int code = p.waitFor();
        return new Result(code, code == 0 ? out : out + Files.readString(err));
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
