package org.rbench.core.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.reference.LlamaReference;
import org.rbench.gguf.ModelSpec;
import org.rbench.gguf.RandomModelWriter;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.LlamaCpp;

import java.nio.file.Path;
import java.util.stream.IntStream;

class SmokeTest {
    @TempDir
    Path dir;

    @Test
    void smoke() throws Exception {
        long t00 = System.nanoTime();
        LlamaCpp.initialise();
        Path file = dir.resolve("m.gguf");
        ModelSpec spec = ModelSpec.preset(System.getenv().getOrDefault("PRESET","tiny-llama"), GgmlType.valueOf(System.getenv().getOrDefault("WTYPE","F32")));
        RandomModelWriter.write(spec, file);
        int[] prompt = IntStream.range(0, 40).map(i -> (i * 37 + 11) % spec.vocabSize()).toArray();
        try (Backend b = Backends.open("cpu", Integer.parseInt(System.getenv().getOrDefault("TH","1"))); ModelWeights w = ModelWeights.load(file, b);
             Engine e = Engine.open(w, EngineOptions.defaults(256).withCacheType(GgmlType.F32).withFlashAttention(false).withMicroBatch(Integer.parseInt(System.getenv().getOrDefault("UB","16"))));
             LlamaReference ref = new LlamaReference(file, 256, Integer.parseInt(System.getenv().getOrDefault("RB","64")), 2, false, GgmlType.F32)) {
            PrefillResult r = e.prefill(prompt, PrefillRequest.NONE, true);
            float[][] want = ref.prefill(prompt, true);
            double max = 0;
            for (int i = 0; i < prompt.length; i++) {
                for (int j = 0; j < want[i].length; j++) {
                    max = Math.max(max, Math.abs(want[i][j] - r.logits()[i][j]));
                }
            }
            System.out.println("prefill max abs diff " + max + " sample " + want[39][0] + " " + r.logits()[39][0]);
            Decoder d = e.decoder(new FullAttention(), r.statistics());
            int tok = Greedy.argmax(r.lastLogits());
            for (int s = 0; s < 10; s++) {
                float[] a = d.step(tok);
                float[] bb = ref.step(tok);
                double m = 0;
                for (int j = 0; j < a.length; j++) {
                    m = Math.max(m, Math.abs(a[j] - bb[j]));
                }
                System.out.println("step " + s + " diff " + m + " argmax " + Greedy.argmax(a) + " " + Greedy.argmax(bb));
                tok = Greedy.argmax(bb);
            }
            System.out.println("took ms " + (System.nanoTime() - t00) / 1e6);
        }
    }
}
