package org.rbench.harness;

import org.rbench.llamacpp.LibraryLocation;
import org.rbench.llamacpp.LlamaModel;
import org.rbench.llamacpp.Vocabulary;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code rbench tokenize}: token ids (and pieces) of a text with a model's vocabulary. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenise text with a model's vocabulary (or a vocabulary GGUF from the llama.cpp bundle).")
final class TokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    static final class Source {
        @Option(names = "--model", paramLabel = "FILE", description = "GGUF model or vocabulary file.")
        Path model;

        @Option(names = "--vocab", paramLabel = "NAME",
                description = "A vocabulary from the llama.cpp bundle: llama-bpe (Llama 3), llama-spm (Llama 2), qwen2, ...")
        String vocab;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "The text to tokenise.")
        String text;

        @Option(names = "--file", paramLabel = "FILE", description = "A UTF-8 text file to tokenise.")
        Path file;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--no-special", description = "Do not add BOS/EOS.")
    boolean noSpecial;

    @Option(names = "--parse-special", description = "Parse special-token text such as <s> into special tokens.")
    boolean parseSpecial;

    @Option(names = "--pieces", description = "Print one line per token: id and its text.")
    boolean pieces;

    @Override
    public Integer call() throws IOException {
        Path file = source.model != null ? source.model : bundledVocabulary(source.vocab);
        String text = input.text != null ? input.text : Files.readString(input.file, StandardCharsets.UTF_8);
        PrintWriter out = spec.commandLine().getOut();
        try (LlamaModel model = LlamaModel.load(file, LlamaModel.Options.vocabularyOnly())) {
            Vocabulary v = model.vocabulary();
            int[] ids = v.tokenize(text, !noSpecial, parseSpecial);
            if (pieces) {
                for (int id : ids) {
                    out.printf("%8d  %s%n", id, v.piece(id, true).replace("\n", "\\n"));
                }
            } else {
                out.println(Arrays.toString(ids));
            }
            out.printf("%d tokens (%s vocabulary, %d entries)%n", ids.length, v.type(), v.size());
        }
        out.flush();
        return 0;
    }

    private Path bundledVocabulary(String name) {
        Path models = LibraryLocation.sourceTree().orElseThrow(() -> new ParameterException(spec.commandLine(),
                "the llama.cpp source bundle is not installed (native/scripts/install-llamacpp.sh)")).resolve("models");
        Path p = models.resolve("ggml-vocab-" + name + ".gguf");
        if (!Files.isRegularFile(p)) {
            try (var list = Files.list(models)) {
                throw new ParameterException(spec.commandLine(), "no bundled vocabulary '" + name + "'; available: "
                        + list.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".gguf"))
                        .map(f -> f.substring("ggml-vocab-".length(), f.length() - 5)).sorted().toList());
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "cannot list " + models + ": " + e.getMessage());
            }
        }
        return p;
    }
}
