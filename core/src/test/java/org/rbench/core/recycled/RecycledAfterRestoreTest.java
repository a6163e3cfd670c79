package org.rbench.core.recycled;

import org.junit.jupiter.api.Test;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.testing.TestModels;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.util.stream.IntStream;

/** Regression: methods decoding one after another from a restored prefill (the harness's pattern). */
class RecycledAfterRestoreTest {
    @Test
    void recycledRunsAfterAFullRunFromTheSameSnapshot() {
        LlamaCpp.initialise();
        try (Backend backend = Backends.open("cpu", 2);
             ModelWeights weights = ModelWeights.load(TestModels.preset("tiny-llama", GgmlType.F16), backend);
             Engine e = Engine.open(weights, EngineOptions.defaults(1025))) {
            int[] prompt = IntStream.range(0, 895).map(i -> (i * 131 + 7) % 512).toArray();
            AttentionPolicy recycled = Strategies.create("recycled:k=128,s=10", weights.hyperParameters(), prompt.length);
            PrefillRequest req = recycled.prefillRequest();
            PrefillResult p = e.prefill(prompt, req, false);
            try (KvSnapshot snap = e.snapshot()) {
                for (AttentionPolicy policy : new AttentionPolicy[] {new FullAttention(), recycled}) {
                    e.restore(snap);
                    try (Decoder d = e.decoder(policy, p.statistics())) {
                        int t = Greedy.argmax(p.lastLogits());
                        for (int i = 0; i < 128; i++) {
                            t = Greedy.argmax(d.step(t));
                        }
                    }
                    policy.close();
                }
            }
        }
    }
}
