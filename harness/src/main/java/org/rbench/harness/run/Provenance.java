package org.rbench.harness.run;

import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.LibraryLocation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * Where a result came from: suite commit, llama.cpp version, backend and device, threads, model file and hash, and
 * the rows from which the backend decodes with flash attention's tensor-core kernel (empty: stock's kernel choice).
 */
public record Provenance(String suiteCommit, String llamacppVersion, String backend, String device, int threads,
                        String modelFile, String modelSha256, OptionalLong tensorCoreFrom) {

    /**
     * The provenance of results computed on {@code backend}.
     *
     * @throws IllegalArgumentException where the backend's tensor-core setting is malformed ({@link
     *                                  Backend#flashAttentionTensorCoreFrom}), before any result is computed
     */
    public static Provenance of(Path model, Backend backend, int threads) throws IOException {
        OptionalLong tensorCoreFrom = backend.flashAttentionTensorCoreFrom();
        return new Provenance(currentSuiteCommit(), LibraryLocation.pinned().getProperty("release", "unknown"), backend.kind(),
                backend.deviceDescription(), threads, model.getFileName().toString(), sha256Prefix(model), tensorCoreFrom);
    }

    /** The columns this provenance fills in a results row. */
    public Map<String, String> columns() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("suite_commit", suiteCommit);
        m.put("llamacpp_version", llamacppVersion);
        m.put("backend", backend);
        m.put("device", device);
        m.put("threads", Integer.toString(threads));
        m.put("model_file", modelFile);
        m.put("model_sha256", modelSha256);
        m.put("fa_tensor_core_from", tensorCoreFrom.isPresent() ? Long.toString(tensorCoreFrom.getAsLong()) : "");
        return m;
    }

    /**
     * The suite's commit: RBENCH_SUITE_COMMIT when set (the launcher sets it to the checkout's
     * commit when it starts the JVM); else the {@code COMMIT} file beside the running jar (a bundle
     * packed for another machine records its commit there: that machine's copy of the checkout may
     * carry another history); else git rev-parse HEAD of the checkout whose build is running (the
     * one holding this class's jar; else the working directory's), with "+dirty" for uncommitted
     * changes, or "unknown".
     */
    static String currentSuiteCommit() {
        String known = launchedCommit;
        if (known == null) {
            known = launchedCommit = readSuiteCommit();
        }
        return known;
    }

    /** Read once per JVM: the code running does not change when the checkout moves on. */
    private static volatile String launchedCommit;

    private static String readSuiteCommit() {
        String packed = System.getenv("RBENCH_SUITE_COMMIT");
        if (packed != null && !packed.isBlank()) {
            return packed.trim();
        }
        Path code = codeLocation();
        String bundled = bundledCommit(code);
        if (bundled != null) {
            return bundled;
        }
        for (Path root : java.util.stream.Stream.of(runningCheckout(code), Checkout.root())
                .flatMap(java.util.Optional::stream).distinct().toList()) {
            String commit = gitCommit(root);
            if (commit != null) {
                return commit;
            }
        }
        return "unknown";
    }

    /** The commit recorded in a {@code COMMIT} file beside the jar at {@code codeLocation} (a device bundle's), or null. */
    static String bundledCommit(Path codeLocation) {
        if (codeLocation == null || codeLocation.getParent() == null) {
            return null;
        }
        Path file = codeLocation.getParent().resolve("COMMIT");
        try {
            String commit = Files.isRegularFile(file) ? Files.readString(file).trim() : "";
            return commit.isEmpty() ? null : commit;
        } catch (IOException e) {
            return null;
        }
    }

    /** HEAD of the git checkout at {@code root} (+dirty), or null where git cannot tell (no .git, no git). */
    private static String gitCommit(Path root) {
        try {
            String head = run(root, "git", "rev-parse", "--short=12", "HEAD");
            String dirty = run(root, "git", "status", "--porcelain", "--untracked-files=no");
            return head == null ? null : head + (dirty != null && !dirty.isBlank() ? "+dirty" : "");
        } catch (Exception e) {
            return null;
        }
    }

    /** Where this class was loaded from (a jar, or a classes folder), or null when not known. */
    private static Path codeLocation() {
        try {
            return Path.of(Provenance.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception | Error e) {
            return null;
        }
    }

    /**
     * The checkout that built the code at {@code codeLocation}: a jar run from another checkout's
     * folder (an A/B of two builds) records its own commit, not the folder's.
     */
    static java.util.Optional<Path> runningCheckout(Path codeLocation) {
        return codeLocation == null ? java.util.Optional.empty()
                : org.rbench.llamacpp.LibraryLocation.repositoryRoot(codeLocation.toAbsolutePath());
    }

    private static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    }

    /**
     * The first 16 hex digits of the file's SHA-256. Hashing a 16 GB model takes a while,
     * so the digest is cached beside the file, keyed by size and modification time.
     */
    static String sha256Prefix(Path file) throws IOException {
        long size = Files.size(file);
        FileTime mtime = Files.getLastModifiedTime(file);
        Path cache = file.resolveSibling(file.getFileName() + ".sha256");
        String key = size + " " + mtime.toMillis();
        if (Files.isRegularFile(cache)) {
            String[] parts = Files.readString(cache).trim().split("\\s+", 2);
            if (parts.length == 2 && parts[1].equals(key)) {
                return parts[0];
            }
        }
        String digest;
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            digest = HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try {
            Files.writeString(cache, digest + " " + key + "\n");
        } catch (IOException ignored) {
            // read-only location: hash again next time
        }
        return digest;
    }
}
