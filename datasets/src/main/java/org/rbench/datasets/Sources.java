package org.rbench.datasets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Where the installed haystack sources live, and loading them (each at most once).
 *
 * <p>The folder is, in this order: the one given ({@code --sources DIR}), {@code $RBENCH_DATA},
 * or {@code .cache/datasets} under the repository root (the nearest folder above the working
 * directory that holds {@code mvnw}). {@value #INSTALL_SCRIPT} fills it:
 * <pre>
 *   sotu/*.txt                   State of the Union addresses (essay haystack, perplexity)
 *   moby-dick/moby-dick.txt      Moby-Dick (perplexity)
 *   wordnet/index.{adj,noun,verb} WordNet 3.0 indexes (needle keys, cwe)
 *   wamerican/american-english   English word list (cwe when the pool runs short)
 * </pre>
 */
public final class Sources {

    /** The script that installs the sources, relative to the repository root. */
    public static final String INSTALL_SCRIPT = "datasets/scripts/install-sources.sh";
    /** The environment variable naming the sources folder. */
    public static final String ENVIRONMENT_VARIABLE = "RBENCH_DATA";

    /** Long texts available for perplexity, by name. */
    public static final List<String> LONG_TEXTS = List.of("sotu", "moby-dick");

    private final Path root;
    private EssayHaystack essay;
    private WordLists wordLists;

    private Sources(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** Sources in exactly this folder. */
    public static Sources at(Path dir) {
        return new Sources(Objects.requireNonNull(dir, "dir"));
    }

    /** Sources in {@code explicitDir} if given, else $RBENCH_DATA, else the repository's .cache/datasets. */
    public static Sources locate(Path explicitDir) {
        return locate(explicitDir, System.getenv(), Path.of(System.getProperty("user.dir")));
    }

    static Sources locate(Path explicitDir, Map<String, String> environment, Path workingDir) {
        if (explicitDir != null) {
            return at(explicitDir);
        }
        String fromEnvironment = environment.get(ENVIRONMENT_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return at(Path.of(fromEnvironment));
        }
        Path dir = workingDir.toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw"))) {
                return at(p.resolve(".cache").resolve("datasets"));
            }
        }
        return at(dir.resolve(".cache").resolve("datasets"));
    }

    public Path root() {
        return root;
    }

    /** Whether the essay prose is installed. */
    public boolean hasEssay() {
        return Files.isDirectory(root.resolve("sotu"));
    }

    /** Whether the part-of-speech word lists are installed. */
    public boolean hasWordLists() {
        return Files.isRegularFile(root.resolve("wordnet").resolve("index.noun"));
    }

    /** The essay haystack: the State of the Union addresses, oldest first. */
    public synchronized EssayHaystack essay() {
        if (essay == null) {
            essay = new EssayHaystack(longText("sotu"));
        }
        return essay;
    }

    /** The part-of-speech word lists (WordNet) and the English list (wamerican). */
    public synchronized WordLists wordLists() {
        if (wordLists == null) {
            Path wordNet = root.resolve("wordnet");
            require(Files.isRegularFile(wordNet.resolve("index.noun")), "WordNet word lists", wordNet);
            wordLists = WordLists.read(wordNet, root.resolve("wamerican").resolve("american-english"));
        }
        return wordLists;
    }

    /**
     * A long public-domain text by name: "sotu" (all addresses, oldest first, separated by
     * blank lines) or "moby-dick".
     */
    public String longText(String name) {
        return switch (name) {
            case "sotu" -> {
                Path dir = root.resolve("sotu");
                require(Files.isDirectory(dir), "State of the Union prose", dir);
                List<Path> files = list(dir);
                require(!files.isEmpty(), "State of the Union prose", dir);
                StringBuilder text = new StringBuilder();
                for (Path file : files) {
                    if (!text.isEmpty()) {
                        text.append("\n\n");
                    }
                    text.append(read(file).strip());
                }
                yield text.toString();
            }
            case "moby-dick" -> {
                Path file = root.resolve("moby-dick").resolve("moby-dick.txt");
                require(Files.isRegularFile(file), "Moby-Dick", file);
                yield read(file);
            }
            default -> throw new IllegalArgumentException("unknown long text '" + name + "'; known: " + LONG_TEXTS);
        };
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            // File names start with the year, so name order is chronological.
            return files.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private void require(boolean present, String what, Path where) {
        if (!present) {
            throw new SourcesMissingException(what + " not found at " + where + ". The haystack sources are not "
                    + "installed in " + root + ": run " + INSTALL_SCRIPT + " (it installs into $" + ENVIRONMENT_VARIABLE
                    + " or <repo>/.cache/datasets), or pass --sources DIR.");
        }
    }

    /** The installed sources a task needs are absent. */
    public static final class SourcesMissingException extends IllegalStateException {
        public SourcesMissingException(String message) {
            super(message);
        }
    }
}
