/**
 * RULER's 13 tasks in Java, the haystack sources they draw on, long texts for perplexity,
 * and RULER's scoring. Specification: shared/docs/RULER.md.
 *
 * <h2>Generating samples</h2>
 * <pre>{@code
 * Tokenizer tokenizer = ...;   // the harness adapts a llama.cpp vocabulary; tests use ApproximateTokenizer
 * RulerGenerator generator = RulerGenerator.builder(tokenizer)
 *         .sources(Sources.locate(null))            // --sources DIR, $RBENCH_DATA or <repo>/.cache/datasets
 *         .chat(ChatFormatter.IDENTITY)             // or the model's chat template
 *         .squad(squadJson).hotpotQa(hotpotJson)    // optional; without them qa_1 / qa_2 are skipped
 *         .pieceCounting(true)                      // cached piece counts: fast with a native tokenizer
 *         .build();
 * for (RulerTask task : RulerTask.parseList("all")) {
 *     if (generator.skipReason(task).isPresent()) { continue; }   // report as skipped, never as zero
 *     List<Sample> samples = generator.generateAll(task, 32768, 100, 42);
 *     SampleWriter.writeSamples(samples, out.resolve(task.id() + ".jsonl"));
 * }
 * }</pre>
 * The model's prompt is {@link org.rbench.datasets.Sample#prompt()} (input + answer
 * prefix); {@code Sample.length()} counts its tokens (no BOS) plus the tokens to generate
 * and never exceeds the target. Score a prediction with
 * {@link org.rbench.datasets.Sample#score(String)} or, per task,
 * {@link org.rbench.datasets.Scoring}.
 *
 * <h2>Command line</h2>
 * {@link org.rbench.datasets.RulerGenCommand} is the picocli command behind
 * {@code ./rbench ruler-gen --tasks ... --lengths ... --samples N --seed S --out DIR}; from Java,
 * {@link org.rbench.datasets.RulerGenCommand#run(String[], Tokenizer, java.io.PrintStream, java.io.PrintStream)}
 * runs it with a loaded tokenizer and returns the exit status.
 *
 * <h2>Classes</h2>
 * <ul>
 *   <li>{@link org.rbench.datasets.RulerTask}, {@link org.rbench.datasets.TaskFamily},
 *       {@link org.rbench.datasets.NiahConfig}: the tasks and their settings.</li>
 *   <li>{@link org.rbench.datasets.Templates}: templates and answer prefixes, verbatim.</li>
 *   <li>One generator per task family: {@code Niah}, {@code VariableTracking},
 *       {@code CommonWords}, {@code FrequentWords}, {@code QuestionAnswering}; sized by
 *       {@code PromptSizer} (its comment gives the tokenizer cost model), counting with
 *       {@link org.rbench.datasets.PieceCountingTokenizer} when piecewise counting is on.</li>
 *   <li>{@link org.rbench.datasets.Sources}, {@link org.rbench.datasets.EssayHaystack},
 *       {@link org.rbench.datasets.WordLists}, {@link org.rbench.datasets.QaDataset}: inputs.</li>
 *   <li>{@link org.rbench.datasets.PerplexityTexts}: long texts cut into N-token documents.</li>
 *   <li>{@link org.rbench.datasets.SampleWriter}: JSONL and token-id export.</li>
 *   <li>{@link org.rbench.datasets.Span}, {@link org.rbench.datasets.PromptTokens},
 *       {@link org.rbench.datasets.TokenizedText}: where a sample's answers are held
 *       ({@link org.rbench.datasets.Sample#answerSpans()}), in characters and among the
 *       prompt's tokens (per task: datasets/README.md, "Answer spans").</li>
 * </ul>
 */
package org.rbench.datasets;
