package org.rbench.datasets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Generates RULER samples for any task, target length, sample index and seed.
 *
 * <pre>{@code
 * RulerGenerator generator = RulerGenerator.builder(tokenizer)
 *         .sources(Sources.locate(null))          // essay prose and word lists
 *         .squad(Path.of("dev-v2.0.json"))         // optional: qa_1
 *         .build();
 * Sample s = generator.generate(RulerTask.NIAH_SINGLE_2, 32768, 0, 42);
 * }</pre>
 *
 * <p>Determinism: a sample depends only on (task, target length, index, seed), the
 * tokenizer, the chat formatter and the sources, never on which samples were generated
 * before. Its random draws come from a {@link SplittableRandom} seeded from those four
 * values.
 *
 * <p>Cost: see {@link PromptSizer}. Per (task, target length, seed) the generator
 * calibrates the haystack size once (about 5 to 7 prompt counts) and then needs about one
 * count per sample; {@link #tokenizerCalls()} reports the total. With
 * {@link Builder#pieceCounting} a count of a long prompt mostly reuses cached piece counts.
 */
public final class RulerGenerator {

    private final Tokenizer tokenizer;
    /** What prompts are sized with: the tokenizer, or a piecewise counter over it. */
    private final Tokenizer counter;
    private final ChatFormatter chat;
    private final Sources sources;
    private WordLists wordLists;
    private EssayHaystack essay;
    private final Path squadFile;
    private final Path hotpotQaFile;
    private final Map<RulerTask, QaDataset> qaDatasets = new HashMap<>();
    private final Map<PlanKey, Plan> plans = new HashMap<>();
    private final Map<Long, VariableTracking.Example> vtExamples = new HashMap<>();
    private final Map<Long, List<String>> cwePools = new HashMap<>();
    /** Prompt counts not held by a current plan: vt's example, and plans dropped after a piecewise-count mismatch. */
    private long otherCalls;

    private record PlanKey(RulerTask task, int targetLength, long seed) {
    }

    private record Plan(SizedTask task, PromptSizer sizer, int calibratedUnits) {
    }

    private RulerGenerator(Builder builder) {
        this.tokenizer = Objects.requireNonNull(builder.tokenizer, "tokenizer");
        this.counter = builder.pieceCounting ? new PieceCountingTokenizer(tokenizer) : tokenizer;
        this.chat = builder.chat;
        this.sources = builder.sources;
        this.wordLists = builder.wordLists;
        this.essay = builder.essay;
        this.squadFile = builder.squad;
        this.hotpotQaFile = builder.hotpotQa;
        if (squadFile != null) {
            requireFile(squadFile, "SQuAD", "--squad");
        }
        if (hotpotQaFile != null) {
            requireFile(hotpotQaFile, "HotpotQA", "--hotpotqa");
        }
    }

    public static Builder builder(Tokenizer tokenizer) {
        return new Builder(tokenizer);
    }

    /** Configures a generator; only the tokenizer is required. */
    public static final class Builder {
        private final Tokenizer tokenizer;
        private ChatFormatter chat = ChatFormatter.IDENTITY;
        private Sources sources;
        private WordLists wordLists;
        private EssayHaystack essay;
        private Path squad;
        private Path hotpotQa;
        private boolean pieceCounting;

        private Builder(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
        }

        /** The chat template to wrap templates in; {@link ChatFormatter#IDENTITY} (the default) for base models. */
        public Builder chat(ChatFormatter chat) {
            this.chat = Objects.requireNonNull(chat, "chat");
            return this;
        }

        /** Where the essay prose and word lists are installed. */
        public Builder sources(Sources sources) {
            this.sources = sources;
            return this;
        }

        /** Word lists to use instead of the installed ones. */
        public Builder wordLists(WordLists wordLists) {
            this.wordLists = wordLists;
            return this;
        }

        /** Essay prose to use instead of the installed one. */
        public Builder essay(EssayHaystack essay) {
            this.essay = essay;
            return this;
        }

        /** SQuAD v2 dev JSON for qa_1; without it qa_1 is skipped. */
        public Builder squad(Path file) {
            this.squad = file;
            return this;
        }

        /** HotpotQA dev distractor JSON for qa_2; without it qa_2 is skipped. */
        public Builder hotpotQa(Path file) {
            this.hotpotQa = file;
            return this;
        }

        /**
         * Counts long prompts piecewise with cached piece counts ({@link PieceCountingTokenizer}):
         * much faster with a slow native tokenizer, exact where the tokenizer is additive at
         * spaces (checked; on a difference {@link #generateAll} redoes the samples with full counts).
         */
        public Builder pieceCounting(boolean on) {
            this.pieceCounting = on;
            return this;
        }

        public RulerGenerator build() {
            return new RulerGenerator(this);
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The piecewise counter when {@link Builder#pieceCounting} is on. */
    public Optional<PieceCountingTokenizer> pieceCounter() {
        return counter instanceof PieceCountingTokenizer pieces ? Optional.of(pieces) : Optional.empty();
    }

    /**
     * Why the task cannot run here and must be reported as skipped (never scored as zero):
     * qa_1 and qa_2 without their dataset file. Empty when the task can run.
     */
    public Optional<String> skipReason(RulerTask task) {
        if (task == RulerTask.QA_1 && squadFile == null) {
            return Optional.of("qa_1 needs the SQuAD v2 dev file (dev-v2.0.json): pass --squad FILE");
        }
        if (task == RulerTask.QA_2 && hotpotQaFile == null) {
            return Optional.of("qa_2 needs the HotpotQA dev distractor file (hotpot_dev_distractor_v1.json): "
                    + "pass --hotpotqa FILE");
        }
        return Optional.empty();
    }

    /** Sample {@code sampleIndex} of {@code task} sized to {@code targetLength} tokens (tokens to generate included). */
    public synchronized Sample generate(RulerTask task, int targetLength, int sampleIndex, long seed) {
        PromptSizer.Fitted fitted = fit(task, targetLength, sampleIndex, seed);
        return new Sample(sampleIndex, fitted.input(), fitted.prompt().answerPrefix(), fitted.prompt().outputs(),
                fitted.promptTokens() + task.tokensToGenerate(), task, seed, task.tokensToGenerate(), task.metric(),
                targetLength, answerSpansInInput(task, fitted));
    }

    /**
     * The prompt's answer spans moved from the user message into the input the chat template
     * made of it. A template may trim the message (Llama 3's does): then the spans move with
     * the trimmed text.
     */
    private static List<Span> answerSpansInInput(RulerTask task, PromptSizer.Fitted fitted) {
        String message = fitted.prompt().userMessage();
        String input = fitted.input();
        List<Span> spans = fitted.prompt().answerSpans();
        if (input.equals(message)) {
            return spans;
        }
        int offset;
        int at = input.indexOf(message);
        if (at >= 0) {
            offset = at;
        } else {
            String trimmed = message.strip();
            int lead = message.indexOf(trimmed);
            at = input.indexOf(trimmed);
            if (at < 0) {
                throw new IllegalStateException(task.id() + ": the chat template changed the task's text, so the"
                        + " answer spans cannot be placed in the prompt");
            }
            offset = at - lead;
        }
        return spans.stream().map(span -> span.shift(offset)).toList();
    }

    /**
     * Samples 0 to count - 1. With piecewise counting, if a check finds a piecewise count
     * that differs from the full count, the samples are generated again with full counts.
     */
    public synchronized List<Sample> generateAll(RulerTask task, int targetLength, int count, long seed) {
        if (count < 0) {
            throw new IllegalArgumentException("the number of samples must not be negative: " + count);
        }
        long mismatchesBefore = mismatches();
        List<Sample> samples = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            samples.add(generate(task, targetLength, i, seed));
        }
        if (mismatches() > mismatchesBefore) {
            Plan stale = plans.remove(new PlanKey(task, targetLength, seed)); // calibrated with piecewise counts
            otherCalls += stale == null ? 0 : stale.sizer().tokenizerCalls();
            samples.clear();
            for (int i = 0; i < count; i++) {
                samples.add(generate(task, targetLength, i, seed));
            }
        }
        return samples;
    }

    private long mismatches() {
        return counter instanceof PieceCountingTokenizer pieces ? pieces.mismatches() : 0;
    }

    /** Prompts counted so far (calibrations and samples), each a full tokenizer call unless counted piecewise. */
    public synchronized long tokenizerCalls() {
        long calls = otherCalls;
        for (Plan plan : plans.values()) {
            calls += plan.sizer().tokenizerCalls();
        }
        return calls;
    }

    /** The fitted prompt of a sample, with the haystack size it got. */
    synchronized PromptSizer.Fitted fit(RulerTask task, int targetLength, int sampleIndex, long seed) {
        if (sampleIndex < 0) {
            throw new IllegalArgumentException("the sample index must not be negative: " + sampleIndex);
        }
        Plan plan = plan(task, targetLength, seed);
        return plan.sizer().fit(plan.task(), plan.calibratedUnits(), sampleIndex, sampleSeed(task, targetLength, sampleIndex, seed));
    }

    /** The sample built at exactly {@code units} of haystack (for checking how well samples fill the target). */
    synchronized PromptSizer.Fitted buildAt(RulerTask task, int targetLength, int sampleIndex, long seed, int units) {
        Plan plan = plan(task, targetLength, seed);
        return plan.sizer().evaluate(plan.task(), units, sampleIndex, sampleSeed(task, targetLength, sampleIndex, seed));
    }

    /** The task's increment at this length (the per-sample step). */
    synchronized int increment(RulerTask task, int targetLength, long seed) {
        return plan(task, targetLength, seed).task().increment();
    }

    static long sampleSeed(RulerTask task, int targetLength, int index, long seed) {
        return Draws.mix(seed, Draws.nameCode(task.id()), targetLength, index);
    }

    private Plan plan(RulerTask task, int targetLength, long seed) {
        Objects.requireNonNull(task, "task");
        PlanKey key = new PlanKey(task, targetLength, seed);
        Plan plan = plans.get(key);
        if (plan == null) {
            Optional<String> skip = skipReason(task);
            if (skip.isPresent()) {
                throw new TaskSkippedException(task, skip.get());
            }
            PromptSizer sizer = new PromptSizer(counter, chat, task.id(), targetLength, task.tokensToGenerate());
            SizedTask sized = sizedTask(task, targetLength, seed);
            int units = sizer.calibrate(sized, 0, sampleSeed(task, targetLength, 0, seed));
            plan = new Plan(sized, sizer, units);
            plans.put(key, plan);
        }
        return plan;
    }

    private SizedTask sizedTask(RulerTask task, int targetLength, long seed) {
        return switch (task.family()) {
            case NIAH -> {
                NiahConfig config = task.niah().orElseThrow();
                yield new Niah(config, targetLength, config.needsWordLists() ? wordLists() : null,
                        task.needsEssay() ? essay() : null);
            }
            case VARIABLE_TRACKING -> new VariableTracking(targetLength, vtExample(seed));
            case COMMON_WORDS -> new CommonWords(targetLength, cwePool(seed), wordLists().english());
            case FREQUENT_WORDS -> new FrequentWords(targetLength, task.tokensToGenerate());
            case QA -> new QuestionAnswering(qaDataset(task));
        };
    }

    private VariableTracking.Example vtExample(long seed) {
        return vtExamples.computeIfAbsent(seed, s -> {
            CountingTokenizer counting = new CountingTokenizer(tokenizer);
            VariableTracking.Example example = VariableTracking.calibrateExample(counting, Draws.mix(s, Draws.nameCode("vt-example")));
            otherCalls += counting.calls;
            return example;
        });
    }

    /** cwe's pool, shuffled with the seed as in the reference. */
    private List<String> cwePool(long seed) {
        return cwePools.computeIfAbsent(seed, s -> {
            List<String> pool = new ArrayList<>(wordLists().commonWordPool());
            Draws.shuffle(pool, new SplittableRandom(Draws.mix(s, Draws.nameCode("cwe-pool"))));
            return List.copyOf(pool);
        });
    }

    private WordLists wordLists() {
        if (wordLists == null) {
            wordLists = requireSources().wordLists();
        }
        return wordLists;
    }

    private EssayHaystack essay() {
        if (essay == null) {
            essay = requireSources().essay();
        }
        return essay;
    }

    private Sources requireSources() {
        return sources != null ? sources : Sources.locate(null);
    }

    private QaDataset qaDataset(RulerTask task) {
        return qaDatasets.computeIfAbsent(task, t -> t == RulerTask.QA_1
                ? QaDataset.readSquad(squadFile)
                : QaDataset.readHotpotQa(hotpotQaFile));
    }

    private static void requireFile(Path file, String what, String option) {
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new IllegalArgumentException(what + " file not found: " + file + " (given with " + option + ")");
        }
    }

    /** Counts calls of a tokenizer used outside a {@link PromptSizer}. */
    private static final class CountingTokenizer implements Tokenizer {
        private final Tokenizer delegate;
        private long calls;

        CountingTokenizer(Tokenizer delegate) {
            this.delegate = delegate;
        }

        @Override
        public int[] encode(String text) {
            calls++;
            return delegate.encode(text);
        }

        @Override
        public TokenizedText encodeWithOffsets(String text) {
            calls++;
            return delegate.encodeWithOffsets(text);
        }

        @Override
        public int count(String text) {
            calls++;
            return delegate.count(text);
        }

        @Override
        public String name() {
            return delegate.name();
        }
    }

    /** The task cannot run here (qa without its dataset); report it as skipped, never as zero. */
    public static final class TaskSkippedException extends IllegalStateException {
        private final transient RulerTask task;

        public TaskSkippedException(RulerTask task, String reason) {
            super(reason);
            this.task = task;
        }

        public RulerTask task() {
            return task;
        }
    }
}
