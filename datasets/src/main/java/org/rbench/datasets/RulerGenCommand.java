package org.rbench.datasets;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IntSummaryStatistics;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ruler-gen}: writes RULER samples for tasks x lengths to a folder.
 *
 * <pre>
 * ruler-gen --out DIR [--tasks all|a,b,...] [--lengths 4096,8K,...] [--samples N] [--seed S]
 *           [--chat] [--squad FILE] [--hotpotqa FILE] [--sources DIR] [--token-ids] [--full-counts]
 *           [--tokenizer FILE]
 * </pre>
 * Defaults are the reference's: all tasks, 4K/8K/16K/32K, 500 samples, seed 42. Output:
 * {@code DIR/<length>/<task>.jsonl} (and {@code <task>.ids.jsonl} with {@code --token-ids}),
 * and {@code DIR/summary.tsv} with one line per task and length: generated, or skipped with
 * the reason (qa without its dataset), never a zero. Exit status: 0 done (skips included),
 * 1 error, 2 bad arguments.
 *
 * <p>A picocli command. On its own it knows only the approximate vocabularies
 * ({@code --tokenizer approx-spm} or {@code approx-bpe}, for dry runs); the harness's
 * {@code rbench ruler-gen} extends it with llama.cpp vocabularies by overriding
 * {@link #vocabulary(Path)} and {@link #loadVocabulary(Path)}, and installs missing sources in
 * {@link #prepareSources()}.
 */
@Command(name = "ruler-gen", sortOptions = false, showDefaultValues = true,
        description = {"Generate RULER samples (JSONL, optional token ids) for tasks x lengths.",
                "Writes DIR/<length>/<task>.jsonl (and <task>.ids.jsonl with --token-ids) and DIR/summary.tsv with one"
                        + " line per task and length: generated, or skipped with the reason (qa_1/qa_2 without their"
                        + " dataset), never a zero.", ""},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:done (skipped tasks included)", "1:error", "2:bad arguments"})
public class RulerGenCommand implements Callable<Integer> {

    /** The task ids, listed in the help of {@code --tasks}. */
    static final class TaskIds implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Arrays.stream(RulerTask.values()).map(RulerTask::id).iterator();
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--tokenizer", paramLabel = "VOCABULARY", description = "Vocabulary that sizes the prompts. rbench:"
            + " a GGUF vocabulary file or a name from the llama.cpp bundle (llama-bpe, llama-spm, qwen2, ...)."
            + " Stand-alone: approx-spm or approx-bpe (approximate, for dry runs).")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write the samples into.")
    Path out;

    @Option(names = "--tasks", paramLabel = "all|a,b,...", defaultValue = "all", completionCandidates = TaskIds.class,
            description = "Tasks: all, or a comma-separated list of ${COMPLETION-CANDIDATES}.")
    String tasks;

    @Option(names = "--lengths", paramLabel = "L1,L2,...", defaultValue = "4K,8K,16K,32K",
            description = "Target lengths in tokens, tokens to generate included; 4096 or 4K.")
    String lengths;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "500", description = "Samples per task and length.")
    int samples;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Random seed.")
    long seed;

    @Option(names = "--chat", description = "Wrap the templates in the vocabulary's chat template.")
    boolean chat;

    @Option(names = "--squad", paramLabel = "FILE", description = "SQuAD v2 dev JSON for qa_1 (else qa_1 is skipped).")
    Path squad;

    @Option(names = "--hotpotqa", paramLabel = "FILE",
            description = "HotpotQA dev distractor JSON for qa_2 (else qa_2 is skipped).")
    Path hotpotQa;

    @Option(names = "--sources", paramLabel = "DIR",
            description = "Installed haystack sources (default: $RBENCH_DATA or <repo>/.cache/datasets).")
    Path sources;

    @Option(names = "--token-ids", description = "Also write token ids (<task>.ids.jsonl), for training.")
    boolean tokenIds;

    @Option(names = "--full-counts", description = "Count every prompt in one tokenizer call. By default long prompts"
            + " are counted piecewise with cached pieces (exact for llama-bpe/llama-spm, checked, much faster).")
    boolean fullCounts;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    /** The stand-alone command: approximate vocabularies only. */
    public RulerGenCommand() {
    }

    /** Runs with a tokenizer the caller already loaded ({@code --tokenizer} is then only recorded). */
    public static int run(String[] args, Tokenizer tokenizer, PrintStream out, PrintStream err) {
        Tokenizer loaded = Objects.requireNonNull(tokenizer, "tokenizer");
        return execute(new RulerGenCommand() {
            @Override
            protected Tokenizer vocabulary(Path nameOrFile) {
                return loaded;
            }
        }, args, out, err);
    }

    /**
     * Runs loading the vocabulary named by {@code --tokenizer FILE} with {@code loader}; a
     * missing file or a loader failure is reported as a clear error.
     */
    public static int run(String[] args, Function<Path, Tokenizer> loader, PrintStream out, PrintStream err) {
        return execute(new RulerGenCommand() {
            @Override
            protected Tokenizer loadVocabulary(Path file) {
                return loader.apply(file);
            }
        }, args, out, err);
    }

    private static int execute(RulerGenCommand command, String[] args, PrintStream out, PrintStream err) {
        PrintWriter outWriter = new PrintWriter(out, true, out.charset());
        PrintWriter errWriter = new PrintWriter(err, true, err.charset());
        try {
            return new CommandLine(command).setOut(outWriter).setErr(errWriter).execute(args);
        } finally {
            outWriter.flush();
            errWriter.flush();
        }
    }

    /** The options, checked: a bad value is a usage error (exit status 2). */
    private Options options() {
        try {
            if (samples < 1) {
                throw new IllegalArgumentException("--samples must be at least 1, not " + samples);
            }
            List<RulerTask> taskList;
            try {
                taskList = RulerTask.parseList(tasks);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--tasks: " + e.getMessage(), e);
            }
            return new Options(taskList, parseLengths(lengths), samples, seed, out, chat, squad, hotpotQa, sources,
                    tokenIds, tokenizer, fullCounts);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    @Override
    public Integer call() {
        Options options = options();
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        try {
            prepareSources();
            return generate(options, vocabulary(options.tokenizer()), stdout);
        } catch (RuntimeException e) {
            stderr.println("ruler-gen: " + e.getMessage());
            return 1;
        } finally {
            stdout.flush();
            stderr.flush();
        }
    }

    /**
     * Runs once the arguments are checked, before the vocabulary is loaded and the sources are
     * located; here it does nothing (the harness installs missing sources).
     */
    protected void prepareSources() {
    }

    /**
     * The vocabulary named by {@code --tokenizer} ({@code null} when it was not given): checks
     * that the file exists and loads it with {@link #loadVocabulary(Path)}, turning a failure
     * into a clear error. Subclasses that map names to files resolve the name and call this.
     */
    protected Tokenizer vocabulary(Path file) {
        if (file == null) {
            throw new IllegalArgumentException("no vocabulary given: pass --tokenizer FILE");
        }
        if (!file.toString().startsWith("approx-") && !Files.isRegularFile(file)) {
            throw new IllegalArgumentException("vocabulary file not found: " + file);
        }
        Tokenizer loaded;
        try {
            loaded = loadVocabulary(file);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot load vocabulary " + file + ": " + e.getMessage(), e);
        }
        if (loaded == null) {
            throw new IllegalArgumentException("cannot load vocabulary " + file);
        }
        return loaded;
    }

    /** Loads a vocabulary file; this class knows only {@code approx-spm} and {@code approx-bpe}. */
    protected Tokenizer loadVocabulary(Path file) {
        return switch (file.toString()) {
            case "approx-spm" -> ApproximateTokenizer.spmLike();
            case "approx-bpe" -> ApproximateTokenizer.bpeLike();
            default -> throw new IllegalArgumentException("this entry point only knows approx-spm and approx-bpe; "
                    + "load real vocabularies through the harness (./rbench ruler-gen)");
        };
    }

    /** The options of one run, checked. */
    record Options(List<RulerTask> tasks, List<Integer> lengths, int samples, long seed, Path out, boolean chat,
                   Path squad, Path hotpotQa, Path sources, boolean tokenIds, Path tokenizer, boolean fullCounts) {
    }

    /** "4096,8K,128k" -> [4096, 8192, 131072]. */
    static List<Integer> parseLengths(String value) {
        List<Integer> lengths = new ArrayList<>();
        for (String part : value.split(",")) {
            String p = part.strip().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            int factor = 1;
            if (p.endsWith("k")) {
                factor = 1024;
                p = p.substring(0, p.length() - 1);
            }
            int length;
            try {
                length = Math.multiplyExact(Integer.parseInt(p), factor);
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException("--lengths: '" + part + "' is not a length in tokens");
            }
            if (length < 1) {
                throw new IllegalArgumentException("--lengths: lengths must be positive, not " + length);
            }
            lengths.add(length);
        }
        if (lengths.isEmpty()) {
            throw new IllegalArgumentException("--lengths: no lengths given");
        }
        return lengths;
    }

    private static int generate(Options options, Tokenizer tokenizer, PrintWriter out) {
        ChatFormatter chat = ChatFormatter.IDENTITY;
        if (options.chat()) {
            chat = tokenizer.chatFormatter().orElseThrow(() -> new IllegalArgumentException(
                    "--chat: the vocabulary " + tokenizer.name() + " has no chat template"));
        }
        Sources sources = Sources.locate(options.sources());
        checkSources(options.tasks(), sources);
        RulerGenerator generator = RulerGenerator.builder(tokenizer).chat(chat).sources(sources)
                .squad(options.squad()).hotpotQa(options.hotpotQa()).pieceCounting(!options.fullCounts()).build();

        List<String> summary = new ArrayList<>();
        summary.add("# ruler-gen tokenizer=" + tokenizer.name() + " seed=" + options.seed() + " samples="
                + options.samples() + " chat=" + options.chat());
        summary.add("task\ttarget_length\tstatus\tsamples\tmin_length\tmean_length\tmax_length\treason");
        for (int length : options.lengths()) {
            for (RulerTask task : options.tasks()) {
                Optional<String> skip = generator.skipReason(task);
                if (skip.isPresent()) {
                    out.printf(Locale.ROOT, "%-16s %6d  skipped: %s%n", task.id(), length, skip.get());
                    summary.add(task.id() + "\t" + length + "\tskipped\t0\t\t\t\t" + skip.get());
                    continue;
                }
                long start = System.nanoTime();
                List<Sample> samples = generator.generateAll(task, length, options.samples(), options.seed());
                Path dir = options.out().resolve(Integer.toString(length));
                SampleWriter.writeSamples(samples, dir.resolve(task.id() + ".jsonl"));
                if (options.tokenIds()) {
                    SampleWriter.writeTokenIds(samples, tokenizer, dir.resolve(task.id() + ".ids.jsonl"));
                }
                IntSummaryStatistics stats = samples.stream().mapToInt(Sample::length).summaryStatistics();
                out.printf(Locale.ROOT, "%-16s %6d  %d samples, length %d..%d (mean %.0f), %.2f s%n", task.id(), length,
                        samples.size(), stats.getMin(), stats.getMax(), stats.getAverage(),
                        (System.nanoTime() - start) / 1e9);
                summary.add(String.format(Locale.ROOT, "%s\t%d\tgenerated\t%d\t%d\t%.1f\t%d\t", task.id(), length,
                        samples.size(), stats.getMin(), stats.getAverage(), stats.getMax()));
            }
        }
        writeSummary(options.out().resolve("summary.tsv"), summary);
        String counting = generator.pieceCounter()
                .map(p -> p.active() ? ", piecewise counts: " + p.pieceCounts() + " pieces and " + p.fullCounts()
                        + " full counts tokenized" : ", piecewise counting off (" + p.mismatches() + " mismatches)")
                .orElse(", full counts");
        out.println("wrote " + options.out().toAbsolutePath() + " (" + generator.tokenizerCalls() + " prompts counted"
                + counting + ")");
        return 0;
    }

    /** Fails before generating anything when a chosen task needs sources that are not installed. */
    private static void checkSources(List<RulerTask> tasks, Sources sources) {
        List<String> needEssay = tasks.stream().filter(RulerTask::needsEssay).map(RulerTask::id).toList();
        List<String> needWords = tasks.stream().filter(RulerTask::needsWordLists).map(RulerTask::id).toList();
        List<String> missing = new ArrayList<>();
        if (!needEssay.isEmpty() && !sources.hasEssay()) {
            missing.add("essay prose (for " + String.join(", ", needEssay) + ")");
        }
        if (!needWords.isEmpty() && !sources.hasWordLists()) {
            missing.add("word lists (for " + String.join(", ", needWords) + ")");
        }
        if (!missing.isEmpty()) {
            throw new Sources.SourcesMissingException("the haystack sources are not installed in " + sources.root()
                    + ": missing " + String.join(" and ", missing) + ". Run " + Sources.INSTALL_SCRIPT
                    + " (it installs into $" + Sources.ENVIRONMENT_VARIABLE + " or <repo>/.cache/datasets),"
                    + " or pass --sources DIR. Tasks that need none: vt, fwe, niah_multikey_3.");
        }
    }

    private static void writeSummary(Path file, List<String> lines) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stand-alone entry for dry runs with the approximate vocabularies
     * ({@code --tokenizer approx-spm} or {@code approx-bpe}); real vocabularies are loaded by
     * the harness ({@code ./rbench ruler-gen}).
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new RulerGenCommand()).execute(args));
    }
}
