package org.rbench.datasets;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

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
 */
public final class RulerGenCommand {

    public static final String USAGE = """
            usage: ruler-gen --out DIR [options]
              --tasks all|a,b,...    tasks (default all): %s
              --lengths L1,L2,...    target lengths in tokens, tokens to generate included;
                                     4096 or 4K (default 4K,8K,16K,32K)
              --samples N            samples per task and length (default 500)
              --seed S               random seed (default 42)
              --chat                 wrap templates in the model's chat template
              --squad FILE           SQuAD v2 dev JSON for qa_1 (else qa_1 is skipped)
              --hotpotqa FILE        HotpotQA dev distractor JSON for qa_2 (else qa_2 is skipped)
              --sources DIR          installed haystack sources (default $RBENCH_DATA or <repo>/.cache/datasets)
              --token-ids            also write token ids (<task>.ids.jsonl) for training
              --full-counts          count every prompt in one tokenizer call; by default long
                                     prompts are counted piecewise with cached pieces (exact
                                     for llama-bpe/llama-spm, checked, much faster)
              --tokenizer FILE       vocabulary to size prompts with
            """.formatted(String.join(",", java.util.Arrays.stream(RulerTask.values()).map(RulerTask::id).toList()));

    private RulerGenCommand() {
    }

    /** Parsed arguments. */
    record Options(List<RulerTask> tasks, List<Integer> lengths, int samples, long seed, Path out, boolean chat,
                   Path squad, Path hotpotQa, Path sources, boolean tokenIds, Path tokenizer, boolean fullCounts) {
    }

    /** Bad arguments: exit status 2 with the usage. */
    static final class UsageException extends IllegalArgumentException {
        UsageException(String message) {
            super(message);
        }
    }

    /** Runs with a tokenizer the caller already loaded ({@code --tokenizer} is then only recorded). */
    public static int run(String[] args, Tokenizer tokenizer, PrintStream out, PrintStream err) {
        return run(args, path -> tokenizer, out, err, tokenizer != null);
    }

    /**
     * Runs loading the vocabulary named by {@code --tokenizer FILE} with {@code loader}; a
     * missing file or a loader failure is reported as a clear error.
     */
    public static int run(String[] args, Function<Path, Tokenizer> loader, PrintStream out, PrintStream err) {
        return run(args, loader, out, err, false);
    }

    private static int run(String[] args, Function<Path, Tokenizer> loader, PrintStream out, PrintStream err,
                           boolean tokenizerGiven) {
        Options options;
        try {
            if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
                out.print(USAGE);
                return 0;
            }
            options = parse(args);
        } catch (IllegalArgumentException e) {
            err.println("ruler-gen: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        try {
            Tokenizer tokenizer = tokenizerGiven ? loader.apply(options.tokenizer()) : loadTokenizer(options.tokenizer(), loader);
            return generate(options, tokenizer, out, err);
        } catch (RuntimeException e) {
            err.println("ruler-gen: " + e.getMessage());
            return 1;
        }
    }

    private static Tokenizer loadTokenizer(Path file, Function<Path, Tokenizer> loader) {
        if (file == null) {
            throw new IllegalArgumentException("no vocabulary given: pass --tokenizer FILE");
        }
        if (!file.toString().startsWith("approx-") && !Files.isRegularFile(file)) {
            throw new IllegalArgumentException("vocabulary file not found: " + file);
        }
        Tokenizer tokenizer;
        try {
            tokenizer = loader.apply(file);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot load vocabulary " + file + ": " + e.getMessage(), e);
        }
        if (tokenizer == null) {
            throw new IllegalArgumentException("cannot load vocabulary " + file);
        }
        return tokenizer;
    }

    static Options parse(String[] args) {
        List<RulerTask> tasks = List.of(RulerTask.values());
        List<Integer> lengths = List.of(4096, 8192, 16384, 32768);
        int samples = 500;
        long seed = 42;
        Path out = null;
        boolean chat = false;
        boolean tokenIds = false;
        boolean fullCounts = false;
        Path squad = null;
        Path hotpotQa = null;
        Path sources = null;
        Path tokenizer = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--chat" -> chat = true;
                case "--token-ids" -> tokenIds = true;
                case "--full-counts" -> fullCounts = true;
                case "--tasks", "--lengths", "--samples", "--seed", "--out", "--squad", "--hotpotqa", "--sources",
                     "--tokenizer" -> {
                    if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                        throw new UsageException(arg + " needs a value");
                    }
                    String value = args[++i];
                    switch (arg) {
                        case "--tasks" -> tasks = RulerTask.parseList(value);
                        case "--lengths" -> lengths = parseLengths(value);
                        case "--samples" -> samples = parseInt(arg, value, 1);
                        case "--seed" -> seed = parseLong(arg, value);
                        case "--out" -> out = Path.of(value);
                        case "--squad" -> squad = Path.of(value);
                        case "--hotpotqa" -> hotpotQa = Path.of(value);
                        case "--sources" -> sources = Path.of(value);
                        case "--tokenizer" -> tokenizer = Path.of(value);
                        default -> throw new AssertionError(arg);
                    }
                }
                default -> throw new UsageException("unknown argument '" + arg + "'");
            }
        }
        if (out == null) {
            throw new UsageException("--out DIR is required");
        }
        return new Options(tasks, lengths, samples, seed, out, chat, squad, hotpotQa, sources, tokenIds, tokenizer,
                fullCounts);
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
                throw new UsageException("--lengths: '" + part + "' is not a length in tokens");
            }
            if (length < 1) {
                throw new UsageException("--lengths: lengths must be positive, not " + length);
            }
            lengths.add(length);
        }
        if (lengths.isEmpty()) {
            throw new UsageException("--lengths: no lengths given");
        }
        return lengths;
    }

    private static int parseInt(String option, String value, int min) {
        try {
            int n = Integer.parseInt(value.strip());
            if (n < min) {
                throw new UsageException(option + " must be at least " + min + ", not " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException(option + ": '" + value + "' is not a number");
        }
    }

    private static long parseLong(String option, String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new UsageException(option + ": '" + value + "' is not a number");
        }
    }

    private static int generate(Options options, Tokenizer tokenizer, PrintStream out, PrintStream err) {
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
        int status = run(args, RulerGenCommand::approximateTokenizer, System.out, System.err);
        System.exit(status);
    }

    private static Tokenizer approximateTokenizer(Path file) {
        return switch (file.toString()) {
            case "approx-spm" -> ApproximateTokenizer.spmLike();
            case "approx-bpe" -> ApproximateTokenizer.bpeLike();
            default -> throw new IllegalArgumentException("this entry point only knows approx-spm and approx-bpe; "
                    + "load real vocabularies through the harness (./rbench ruler-gen)");
        };
    }
}
