package org.rbench.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ./rbench} launcher runs the CLI from a copy of the jars, so that {@code mvn clean}
 * or a rebuild while a run is going (which deletes or rewrites harness/target) does not pull
 * the classes from under it. Tested on a fake checkout whose "CLI" waits for a signal, then
 * loads a class from a library jar that the JVM has not opened yet.
 */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("..", "rbench");

    @TempDir
    Path root;

    @Test
    void aRunOutlivesTheDeletionOfHarnessTarget() throws Exception {
        Path target = fakeBuild("first");
        Path go = root.resolve("go");
        Path log = root.resolve("run.log");
        Process run = launch(log, go.toString());
        waitFor(log, "started");
        deleteTree(target); // mvn clean
        Files.writeString(go, "");
        assertTrue(run.waitFor(60, TimeUnit.SECONDS), "the run did not finish");
        String said = Files.readString(log);
        assertEquals(0, run.exitValue(), said);
        assertTrue(said.contains("later: first"), said);
    }

    @Test
    void aBuildGetsItsOwnCopyAndOldCopiesNoRunHoldsAreRemoved() throws Exception {
        fakeBuild("first");
        Path go = Files.writeString(root.resolve("go"), "");
        assertEquals(0, launch(root.resolve("1.log"), go.toString()).waitFor());
        assertEquals(0, launch(root.resolve("2.log"), go.toString()).waitFor());
        assertEquals(1, copies().size(), "the same jars run from the same copy");
        fakeBuild("second");
        assertEquals(0, launch(root.resolve("3.log"), go.toString()).waitFor());
        assertTrue(Files.readString(root.resolve("3.log")).contains("later: second"));
        boolean flock = new ProcessBuilder("bash", "-c", "command -v flock").start().waitFor() == 0;
        assertEquals(flock ? 1 : 2, copies().size(), "the first build's copy, unused and beyond RBENCH_LAUNCH_COPIES=1, is removed where flock exists");
    }

    private List<Path> copies() throws IOException {
        try (Stream<Path> s = Files.list(root.resolve(".cache/launch"))) {
            return s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
        }
    }

    private Process launch(Path log, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", root.resolve("rbench").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("RBENCH_AOT", "0");
        pb.environment().put("RBENCH_LAUNCH_COPIES", "1");
        return pb.start();
    }

    private static void waitFor(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!(Files.exists(log) && Files.readString(log).contains(text))) {
            assertTrue(System.nanoTime() < deadline, "no '" + text + "' in the log");
            Thread.sleep(20);
        }
    }

    /**
     * A checkout with the launcher and a built harness/target (newer than any source, so the
     * launcher does not build): rbench.jar whose main class waits for a file, then loads
     * {@code Later} from lib/later.jar and prints its word.
     */
    private Path fakeBuild(String word) throws Exception {
        Files.copy(LAUNCHER, root.resolve("rbench"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path src = Files.createDirectories(root.resolve("fake-src-" + word));
        Files.writeString(src.resolve("Waiter.java"), """
                public class Waiter {
                    public static void main(String[] args) throws Exception {
                        System.out.println("started");
                        System.out.flush();
                        while (!java.nio.file.Files.exists(java.nio.file.Path.of(args[0]))) {
                            Thread.sleep(10);
                        }
                        System.out.println("later: " + Later.WORD);
                    }
                }
                """);
        Files.writeString(src.resolve("Later.java"), "public class Later { public static String WORD = \"" + word + "\"; }\n");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertEquals(0, javac.run(null, null, null, "-d", src.toString(), src.resolve("Waiter.java").toString(),
                src.resolve("Later.java").toString()));
        Path target = root.resolve("harness/target");
        if (Files.exists(target)) {
            deleteTree(target);
        }
        Files.createDirectories(target.resolve("lib"));
        Manifest main = new Manifest();
        main.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Waiter");
        main.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib/later.jar");
        jar(target.resolve("rbench.jar"), main, src.resolve("Waiter.class"));
        Manifest lib = new Manifest();
        lib.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        jar(target.resolve("lib/later.jar"), lib, src.resolve("Later.class"));
        Files.writeString(target.resolve(".rbench-built"), "");
        return target;
    }

    private static void jar(Path jar, Manifest manifest, Path classFile) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
            j.putNextEntry(new JarEntry(classFile.getFileName().toString()));
            j.write(Files.readAllBytes(classFile));
            j.closeEntry();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
