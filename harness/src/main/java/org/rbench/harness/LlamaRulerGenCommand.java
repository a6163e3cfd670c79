package org.rbench.harness;

import org.rbench.datasets.LlamaTokenizer;
import org.rbench.datasets.RulerGenCommand;
import org.rbench.datasets.Tokenizer;
import picocli.CommandLine.Command;

import java.nio.file.Path;

/**
 * {@code rbench ruler-gen}: the datasets module's {@link RulerGenCommand} (options, help and
 * generation are its) with llama.cpp vocabularies, given as a GGUF file or by the name of a
 * vocabulary of the llama.cpp bundle; the haystack sources are installed on first use.
 */
@Command(name = "ruler-gen")
final class LlamaRulerGenCommand extends RulerGenCommand {

    @Override
    protected void prepareSources() {
        DatasetSources.ensureInstalled();
    }

    @Override
    protected Tokenizer vocabulary(Path nameOrFile) {
        return super.vocabulary(nameOrFile == null ? null : BundledVocabularies.resolve(nameOrFile));
    }

    @Override
    protected Tokenizer loadVocabulary(Path file) {
        return LlamaTokenizer.open(file);
    }
}
