package org.rbench.harness;

import org.rbench.datasets.LlamaTokenizer;
import org.rbench.datasets.PerplexityTexts;
import org.rbench.datasets.Sources;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code rbench export-text}: the installed public-domain long texts (State of the Union
 * addresses, Moby-Dick) tokenised with a model's vocabulary, as training data for the
 * embedded model (training/). Per text: {@code DIR/<text>.u16}, the token ids (no BOS) as
 * little-endian unsigned 16-bit integers, in text order (consecutive, non-overlapping
 * {@link PerplexityTexts} documents, so the file is the text's token stream up to a tail of
 * less than one document), and {@code DIR/<text>.json} with the counts and provenance.
 */
@Command(name = "export-text", mixinStandardHelpOptions = true,
        description = "Tokenise the public-domain long texts (sotu, moby-dick) into uint16 token-id files for training.")
final class ExportTextCommand implements Callable<Integer> {

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE|NAME",
            description = "Vocabulary GGUF, or a bundled vocabulary name (llama-spm, ...).")
    Path tokenizer;

    @Option(names = "--texts", split = ",", paramLabel = "NAME", description = "Texts to export (default: sotu,moby-dick).")
    List<String> texts = Sources.LONG_TEXTS;

    @Option(names = "--document-tokens", paramLabel = "N", description = "Tokens per document cut (default 1024).")
    int documentTokens = 1024;

    @Option(names = "--sources", paramLabel = "DIR", description = "Installed sources (default $RBENCH_DATA or <repo>/.cache/datasets).")
    Path sources;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (sources == null) {
            DatasetSources.ensureInstalled();
        }
        Sources located = Sources.locate(sources);
        Files.createDirectories(out);
        try (LlamaTokenizer tok = LlamaTokenizer.open(BundledVocabularies.resolve(tokenizer))) {
            if (tok.vocabulary().size() > 65536) {
                throw new IllegalArgumentException("vocabulary of " + tok.vocabulary().size() + " entries does not fit 16-bit ids");
            }
            PerplexityTexts corpus = new PerplexityTexts(located, tok);
            for (String name : texts) {
                long start = System.nanoTime();
                List<PerplexityTexts.Document> docs = corpus.documents(name, documentTokens, 0);
                long tokens = 0;
                Path file = out.resolve(name + ".u16");
                try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
                    for (PerplexityTexts.Document d : docs) {
                        for (int id : d.tokens()) {
                            os.write(id & 0xFF);
                            os.write((id >>> 8) & 0xFF);
                        }
                        tokens += d.tokens().length;
                    }
                }
                String manifest = String.format(Locale.ROOT,
                        "{\"text\": \"%s\", \"tokens\": %d, \"documents\": %d, \"document_tokens\": %d, "
                                + "\"dtype\": \"uint16-le\", \"bos\": false, \"tokenizer\": \"%s\", \"vocab_size\": %d}%n",
                        name, tokens, docs.size(), documentTokens, tok.name(), tok.vocabulary().size());
                Files.writeString(out.resolve(name + ".json"), manifest, StandardCharsets.UTF_8);
                System.out.printf(Locale.ROOT, "%-10s %d tokens (%d documents) -> %s, %.1f s%n", name, tokens, docs.size(),
                        file, (System.nanoTime() - start) / 1e9);
            }
        }
        return 0;
    }
}
