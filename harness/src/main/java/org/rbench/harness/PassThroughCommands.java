package org.rbench.harness;

import org.rbench.analysis.CompareCommand;
import org.rbench.analysis.ReportCommand;
import org.rbench.datasets.LlamaTokenizer;
import org.rbench.datasets.RulerGenCommand;
import org.rbench.harness.results.ResultsMerge;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** Subcommands whose argument parsing lives in another module (analysis) or is trivial. */
final class PassThroughCommands {
    private PassThroughCommands() {
    }

    @Command(name = "report", description = "Paper-style tables (Markdown, LaTeX, CSV) and plots from results CSVs."
            + "%nUsage: rbench report RESULTS.csv... --out DIR [--bootstrap N] [--seed S]")
    static final class Report implements Callable<Integer> {
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() {
            return ReportCommand.run(args.toArray(String[]::new), System.out, System.err);
        }
    }

    @Command(name = "compare", description = "Compare two runs (the nightly gate): exit 1 on a significant regression."
            + "%nUsage: rbench compare BASELINE.csv CANDIDATE.csv [--report FILE.md] [--max-latency-regression PCT]"
            + " [--max-accuracy-drop POINTS] [--alpha A]")
    static final class Compare implements Callable<Integer> {
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() {
            return CompareCommand.run(args.toArray(String[]::new), System.out, System.err);
        }
    }

    @Command(name = "ruler-gen", description = "Generate RULER samples (JSONL, optional token ids) with a model's vocabulary."
            + "%nUsage: rbench ruler-gen --tokenizer FILE|llama-bpe|llama-spm|qwen2 --out DIR [--tasks all|a,b]"
            + " [--lengths 4K,8K] [--samples N] [--seed S] [--chat] [--squad FILE] [--hotpotqa FILE] [--sources DIR]"
            + " [--token-ids] [--full-counts]")
    static final class RulerGen implements Callable<Integer> {
        @Unmatched
        List<String> args = new ArrayList<>();

        @Override
        public Integer call() {
            DatasetSources.ensureInstalled();
            List<String> resolved = new ArrayList<>(args);
            for (int i = 0; i < resolved.size(); i++) {
                String a = resolved.get(i);
                if (a.equals("--tokenizer") && i + 1 < resolved.size()) {
                    resolved.set(i + 1, BundledVocabularies.resolve(Path.of(resolved.get(i + 1))).toString());
                } else if (a.startsWith("--tokenizer=")) {
                    resolved.set(i, "--tokenizer=" + BundledVocabularies.resolve(Path.of(a.substring(12))));
                }
            }
            return RulerGenCommand.run(resolved.toArray(String[]::new), LlamaTokenizer::open, System.out, System.err);
        }
    }

    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Combine shard CSVs into one file (rows with a repeated work key are dropped).")
    static final class Merge implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "SHARD.csv")
        List<Path> inputs;

        @Option(names = "--out", required = true, paramLabel = "FILE")
        Path out;

        @Override
        public Integer call() throws IOException {
            ResultsMerge.Summary s = ResultsMerge.merge(inputs, out);
            System.out.printf("merged %d files: %d rows, %d duplicates dropped -> %s%n", s.files(), s.rows(), s.duplicates(), out);
            return 0;
        }
    }
}
