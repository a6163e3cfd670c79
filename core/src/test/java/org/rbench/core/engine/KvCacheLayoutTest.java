package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.testing.CpuBackend;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every layer's K (and V) lie in one tensor, layer after layer: a gather over it reads every layer's rows. */
class KvCacheLayoutTest {
    @RegisterExtension
    static final CpuBackend CPU = new CpuBackend();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    @Test
    void layerLOfTheWholeIsLayerLsTensor() {
        HyperParameters hp = MODEL.weights().hyperParameters();
        try (KvCache cache = new KvCache(hp, CPU.backend(), 16, GgmlType.F32)) {
            cache.fillSynthetic(16, 5);
            assertArrayEquals(new long[] {hp.headDim(), 16, hp.kvHeads(), hp.layers()}, new long[] {
                    cache.keysOfEveryLayer().ne(0), cache.keysOfEveryLayer().ne(1), cache.keysOfEveryLayer().ne(2),
                    cache.keysOfEveryLayer().ne(3)});
            float[] keys = cache.keysOfEveryLayer().getFloats();
            float[] values = cache.valuesOfEveryLayer().getFloats();
            int layer = keys.length / hp.layers();
            for (int l = 0; l < hp.layers(); l++) {
                assertArrayEquals(Arrays.copyOfRange(keys, l * layer, (l + 1) * layer), cache.keys(l).getFloats(), "keys of layer " + l);
                assertArrayEquals(Arrays.copyOfRange(values, l * layer, (l + 1) * layer), cache.values(l).getFloats(),
                        "values of layer " + l);
            }
            assertEquals(cache.keys(1).data().address(), cache.keysOfEveryLayer().data().address() + cache.keysOfEveryLayer().nb(3));
        }
    }
}
