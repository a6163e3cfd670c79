/**
 * Analysis of rbench results: paper-style tables, plots, and run comparison for nightly tracking.
 *
 * <h2>Input</h2>
 * One or more results CSV files as the harness writes them (schema in {@code docs/CSV.md}),
 * read by {@link org.rbench.analysis.ResultsReader}. Columns are found by header name; unknown
 * columns are ignored and rows of an unknown {@code kind} are skipped with a warning. A missing
 * file, a missing required column or an unparsable number stops the command with a message that
 * names the file, line and column.
 *
 * <h2>{@code rbench report RESULTS.csv... --out DIR [--bootstrap N] [--seed S]}</h2>
 * {@link org.rbench.analysis.ReportCommand} (a picocli command; {@code run} runs it on given
 * streams) aggregates the rows
 * ({@link org.rbench.analysis.ResultsAggregator}) per model, method, context length and task and
 * writes into DIR:
 * <ul>
 *   <li>{@code summary.{md,tex,csv}}: the paper's main table, RULER average accuracy and seconds
 *       per example for each method and length, followed by details: 95% bootstrap confidence
 *       interval, decode ms/token, speedup over full attention, attended KV rows;</li>
 *   <li>{@code per_task.{md,tex,csv}}: accuracy per RULER task;</li>
 *   <li>{@code ppl.{md,tex,csv}}: perplexity per dataset, when there are {@code ppl} rows;</li>
 *   <li>{@code latency.{md,csv}}: the decode-latency sweep, when there are {@code latency} rows;</li>
 *   <li>{@code plots/*.png} and {@code plots/*.svg} (drawn by XChart): speed/accuracy frontier
 *       per length, ms/token against context length, attention mass recall, measured speedup
 *       beside the bytes-moved bound where rows carry one
 *       ({@link org.rbench.analysis.ReportPlots});</li>
 *   <li>{@code coverage.{md,csv}}, {@code coverage_by_step.csv} and the plots
 *       {@code answer_coverage_<L>}, {@code focus_mass_recall_<L>}: answer coverage per method and
 *       by decode step, when a diagnostics file ({@code X.diagnostics.csv}) lies beside a results
 *       file ({@link org.rbench.analysis.StepRowsReader}).</li>
 * </ul>
 * Definitions: the RULER average is the mean of the per-task mean scores; time per example is
 * {@code prefill_ms + tokens_generated * decode_ms_mean}, averaged over samples; speedup is full
 * attention's mean decode ms/token over the method's within the same run_id, model and length
 * (geometric mean over runs when several are pooled; empty without a {@code full} row);
 * perplexity is {@code exp(sum nll_sum / sum tokens_scored)}. Methods are listed full attention
 * first, then by name; lengths ascending.
 *
 * <h2>{@code rbench compare BASELINE.csv CANDIDATE.csv [options]}</h2>
 * {@link org.rbench.analysis.CompareCommand} is the nightly gate. It compares every
 * (model, method, length) present in both runs ({@link org.rbench.analysis.RunComparator}):
 * RULER average accuracy with a permutation test on per-sample scores (paired by task, length,
 * sample_index and seed when both runs scored the same samples), and median per-row decode
 * ms/token with a Mann-Whitney U test, separately for latency rows and RULER rows. A change is a
 * regression only when it is both beyond its threshold ({@code --max-accuracy-drop}, default 2
 * points; {@code --max-latency-regression}, default 5%) and significant at {@code --alpha}
 * (default 0.05). Exit status: 0 no regression, 1 regression, 2 usage or input error.
 *
 * <h2>Reproducibility</h2>
 * Bootstrap intervals and permutation p-values use the suite's own seeded generator
 * ({@code SeededRandom}, SplitMix64), seeded per group from {@code --seed} and the group's name:
 * the same input gives byte-identical tables on every machine and JDK, which the golden tests
 * rely on.
 */
package org.rbench.analysis;
