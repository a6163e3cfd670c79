package org.rbench.llamacpp;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * Where the llama.cpp shared libraries are. Resolution order:
 * <ol>
 *   <li>system property {@code rbench.llamacpp.dir}</li>
 *   <li>environment variable {@code RBENCH_LLAMACPP_DIR}</li>
 *   <li>the pinned install made by {@code native/scripts/install-llamacpp.sh}:
 *       {@code $RBENCH_NATIVE_HOME/llama.cpp-VERSION/lib/PLATFORM}, where
 *       RBENCH_NATIVE_HOME defaults to {@code .native} in the repository root (found by
 *       walking up from the working directory and from this class's jar).</li>
 * </ol>
 */
public record LibraryLocation(Path directory, String source, String npmVersion, String release) {

    public static final String DIR_PROPERTY = "rbench.llamacpp.dir";
    public static final String DIR_ENV = "RBENCH_LLAMACPP_DIR";
    public static final String HOME_ENV = "RBENCH_NATIVE_HOME";

    /** The pinned version, from the build (parent pom property llamacpp.npm.version). */
    public static Properties pinned() {
        try (InputStream in = LibraryLocation.class.getResourceAsStream("llamacpp.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String platform() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        boolean arm = arch.equals("aarch64") || arch.equals("arm64");
        if (os.contains("mac")) {
            return arm ? "mac-arm64-metal" : "mac-x64";
        }
        if (os.contains("win")) {
            return arm ? "win-arm64" : "win-x64";
        }
        return arm ? "linux-arm64" : "linux-x64";
    }

    /** Resolves the directory or throws a {@link NativeLibraryException} saying what was tried. */
    public static LibraryLocation resolve() {
        Properties pinned = pinned();
        String npmVersion = pinned.getProperty("npm.version", "unknown");
        String release = pinned.getProperty("release", "unknown");
        String fromProperty = System.getProperty(DIR_PROPERTY);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return checked(Path.of(fromProperty), "system property " + DIR_PROPERTY, npmVersion, release);
        }
        String fromEnv = System.getenv(DIR_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return checked(Path.of(fromEnv), "environment variable " + DIR_ENV, npmVersion, release);
        }
        List<Path> tried = new ArrayList<>();
        for (Path home : nativeHomes()) {
            Path dir = home.resolve("llama.cpp-" + npmVersion).resolve("lib").resolve(platform());
            tried.add(dir);
            if (Files.isDirectory(dir)) {
                return checked(dir, "pinned install", npmVersion, release);
            }
        }
        throw new NativeLibraryException("llama.cpp libraries not found. Tried: " + tried
                + ". Install them with native/scripts/install-llamacpp.sh (the Maven build runs it),"
                + " or point -D" + DIR_PROPERTY + "=DIR or " + DIR_ENV + "=DIR at a directory holding"
                + " libggml-base, libggml and libllama.");
    }

    private static LibraryLocation checked(Path dir, String source, String npmVersion, String release) {
        if (!Files.isDirectory(dir)) {
            throw new NativeLibraryException("llama.cpp library directory " + dir + " (from " + source
                    + ") does not exist or is not a directory.");
        }
        return new LibraryLocation(dir.toAbsolutePath().normalize(), source, npmVersion, release);
    }

    private static List<Path> nativeHomes() {
        List<Path> homes = new ArrayList<>();
        String env = System.getenv(HOME_ENV);
        if (env != null && !env.isBlank()) {
            homes.add(Path.of(env));
        }
        repositoryRoot(Path.of("").toAbsolutePath()).ifPresent(r -> homes.add(r.resolve(".native")));
        try {
            Path code = Path.of(LibraryLocation.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            repositoryRoot(code).ifPresent(r -> homes.add(r.resolve(".native")));
        } catch (Exception ignored) {
            // No code source (e.g. a custom class loader): the other candidates remain.
        }
        return homes;
    }

    /** The nearest ancestor that holds the Maven wrapper, i.e. the suite's checkout. */
    public static Optional<Path> repositoryRoot(Path start) {
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("native"))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The llama.cpp source tree installed beside the libraries (headers, vocab GGUFs). */
    public static Optional<Path> sourceTree() {
        String npmVersion = pinned().getProperty("npm.version", "unknown");
        for (Path home : nativeHomes()) {
            Path src = home.resolve("llama.cpp-" + npmVersion).resolve("src");
            if (Files.isDirectory(src.resolve("models"))) {
                return Optional.of(src);
            }
        }
        return Optional.empty();
    }
}
