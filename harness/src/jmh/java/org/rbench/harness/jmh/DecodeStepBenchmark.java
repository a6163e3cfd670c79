package org.rbench.harness.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.ModelWeights;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.harness.run.Method;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * One decode step per method and context length on a random bench-512 model (Q8_0).
 *
 * <p>Pitfalls avoided: the cache is filled and snapshotted once per trial (setup is not
 * timed); each invocation restores the snapshot only every {@code STEPS_PER_RUN} steps
 * (Level.Iteration), so what is timed is the step, and the context does not drift far from
 * {@code context}; the logits are returned so the step is not dead code; forks get native
 * access (JMH forks do not inherit it).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class DecodeStepBenchmark {
    @Param({"full", "recycled:k=1024,s=50", "streamingllm:k=1024", "h2o:k=1024"})
    public String method;

    @Param({"4096", "16384"})
    public int context;

    @Param({"1"})
    public int threads;

    private Method.EngineStrategy parsed;
    private Backend backend;
    private ModelWeights weights;
    private Engine engine;
    private KvSnapshot snapshot;
    private PrefillResult prefill;
    private AttentionPolicy policy;
    private Decoder decoder;
    private int token = 7;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        parsed = Method.parseEngine(method, "DecodeStepBenchmark");
        LlamaCpp.initialise();
        Path model = Files.createTempFile("rbench-jmh", ".gguf");
        RandomModelWriter.write(ModelSpec.preset("bench-512", GgmlType.Q8_0), model);
        backend = Backends.open("cpu", threads);
        weights = ModelWeights.load(model, backend);
        engine = Engine.open(weights, EngineOptions.defaults(context + 4096));
        Files.delete(model);
        AttentionPolicy probe = parsed.create(weights.hyperParameters(), context);
        engine.fillSynthetic(context - 1, 1);
        prefill = engine.prefill(new int[] {1}, probe.prefillRequest(), false);
        probe.close();
        snapshot = engine.snapshot();
    }

    @Setup(Level.Iteration)
    public void restore() {
        tearDownDecoder();
        engine.restore(snapshot);
        policy = parsed.create(weights.hyperParameters(), context);
        decoder = engine.decoder(policy, prefill.statistics());
    }

    @Benchmark
    public float[] decodeStep() {
        if (engine.position() >= engine.contextSize() - 1) {
            throw new IllegalStateException("iteration ran past the spare context; shorten the iteration time");
        }
        float[] logits = decoder.step(token);
        token = 1 + (token * 31 + 7) % 31000;
        return logits;
    }

    @TearDown(Level.Iteration)
    public void tearDownDecoder() {
        if (decoder != null) {
            decoder.close();
            policy.close();
            decoder = null;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        snapshot.close();
        engine.close();
        weights.close();
        backend.close();
    }
}
