package org.rbench.core;

import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.generate.Generator;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.LlamaCpp;
import org.rbench.llamacpp.LlamaModel;
import org.rbench.llamacpp.Vocabulary;

import java.nio.file.Path;

/**
 * Everything needed to run one model file: the backend, the weights on it, an engine,
 * and the vocabulary (libllama loaded vocabulary-only, for tokenising and chat
 * templates). The CLI's entry point; closes all of it in reverse order.
 */
public final class ModelSession implements AutoCloseable {
    private final Backend backend;
    private final ModelWeights weights;
    private final Engine engine;
    private final LlamaModel vocabularyModel;

    private ModelSession(Backend backend, ModelWeights weights, Engine engine, LlamaModel vocabularyModel) {
        this.backend = backend;
        this.weights = weights;
        this.engine = engine;
        this.vocabularyModel = vocabularyModel;
    }

    /**
     * @param backendName cpu, cuda, metal or best
     * @param threads     CPU threads (ignored by GPU backends)
     */
    public static ModelSession open(Path model, String backendName, int threads, EngineOptions options) {
        LlamaCpp.initialise();
        Backend backend = Backends.open(backendName, threads);
        ModelWeights weights = null;
        Engine engine = null;
        try {
            weights = ModelWeights.load(model, backend);
            engine = Engine.open(weights, options);
            LlamaModel vocab = LlamaModel.load(model, LlamaModel.Options.vocabularyOnly());
            return new ModelSession(backend, weights, engine, vocab);
        } catch (RuntimeException e) {
            if (engine != null) {
                engine.close();
            }
            if (weights != null) {
                weights.close();
            }
            backend.close();
            throw e;
        }
    }

    public Backend backend() {
        return backend;
    }

    public ModelWeights weights() {
        return weights;
    }

    public Engine engine() {
        return engine;
    }

    /** The model's vocabulary, or null for a model without one (tokenizer.ggml.model = no_vocab). */
    public Vocabulary vocabulary() {
        Vocabulary v = vocabularyModel.vocabulary();
        // libllama aborts on piece/tokenize calls for a no_vocab model, whose size is not 0.
        return v.type() == Vocabulary.Type.NONE ? null : v;
    }

    public LlamaModel vocabularyModel() {
        return vocabularyModel;
    }

    /** A generator over this session's engine (text only when the model has a vocabulary). */
    public Generator generator() {
        return new Generator(engine, vocabulary());
    }

    @Override
    public void close() {
        vocabularyModel.close();
        engine.close();
        weights.close();
        backend.close();
    }
}
