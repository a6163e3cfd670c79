package org.rbench.baselines;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.testing.CpuModel;
import org.rbench.core.testing.Decoding;
import org.rbench.core.testing.GatheredReads;
import org.rbench.core.testing.TestModels;
import org.rbench.gguf.ModelSpec;
import org.rbench.llamacpp.GgmlType;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TidalDecode's reusing layers and Quest's sparse layers read gathered rows (pages, for Quest) in the shape the
 * suite's CUDA build reads in place, with no gather (native/patches/ggml-cuda-vec-reads-gathered-rows.diff): each
 * gather read by flash attention alone, its indices an output. A change that breaks the shape costs a GPU 0.4 ms
 * a step at 8B shapes and changes no logit, so only this shows it here.
 */
class GatheredReadsTest {
    private static final int PROMPT = 60;
    private static final int STEPS = 8;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.of(() -> TestModels.spec("tiny-llama-5-layers",
            ModelSpec.preset("tiny-llama", GgmlType.F32).withLayers(5)));

    @ParameterizedTest
    @ValueSource(strings = {"tidaldecode:k=16", "quest:k=32,page=16"})
    void readsOfGatheredRowsHaveTheShapeTheCudaBuildReadsInPlace(String spec) {
        GatheredReads.Count[] seen = {new GatheredReads.Count(0, 0)};
        // an F16 cache read by flash attention, as on a GPU
        try (Engine engine = Engine.open(MODEL.weights(), EngineOptions.defaults(256))) {
            engine.observeStepGraphs(g -> seen[0] = seen[0].plus(GatheredReads.count(g)));
            Decoding.decode(engine, MODEL.weights().hyperParameters(), spec, TOKENS, PROMPT, STEPS);
        }
        assertTrue(seen[0].gathered() > 0, spec + " read no gathered rows");
        assertEquals(seen[0].gathered(), seen[0].inPlace(), spec + ": reads of gathered rows the CUDA build would gather");
    }
}
