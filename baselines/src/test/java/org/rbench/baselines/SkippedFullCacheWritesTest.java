package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.ComputeGraph;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * H2O's device form keeps each new token's K/V in its slots only ({@code AttentionPlan.skipsFullCacheWrite}): its
 * step graphs write nothing into the full cache, which a GPU saves as a set_rows a layer, K and V. Its logits are
 * those of the same decode writing the full cache (diagnostics on), bit for bit; the engine then refuses what
 * would read the rows the full cache lacks, until the cache is restored or reset.
 */
class SkippedFullCacheWritesTest {
    private static final int PROMPT = 300;
    private static final int STEPS = 8;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    private static final String DEVICE = "h2o:heavy=32,recent=32,decide=device";
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F16);

    private record Run(List<float[]> logits, int fullCacheWrites) {
    }

    /** Writes into the full cache's layers (set_rows into cache_k_N / cache_v_N) among a graph's nodes. */
    private static int fullCacheWrites(ComputeGraph g) {
        int n = 0;
        for (int i = 0; i < g.nodeCount(); i++) {
            Tensor node = g.node(i);
            if (node.opName().equals("SET_ROWS") && (node.name().startsWith("cache_k_") || node.name().startsWith("cache_v_"))) {
                n++;
            }
        }
        return n;
    }

    private static Run decode(Engine engine, KvSnapshot prompt, PrefillStatistics prefill, String method, boolean diagnostics) {
        engine.restore(prompt);
        int[] writes = {0};
        engine.observeStepGraphs(g -> writes[0] += fullCacheWrites(g));
        AttentionPolicy policy = Strategies.create(method, MODEL.weights().hyperParameters(), PROMPT);
        List<float[]> logits = new ArrayList<>();
        try (Decoder d = engine.decoder(policy, prefill)) {
            if (diagnostics) {
                d.withDiagnostics();
            }
            for (int s = 0; s < STEPS; s++) {
                logits.add(d.step(TOKENS[PROMPT + s]));
            }
        } finally {
            policy.close();
            engine.observeStepGraphs(null);
        }
        return new Run(logits, writes[0]);
    }

    private static int[] filled(int n, int value) {
        int[] out = new int[n];
        Arrays.fill(out, value);
        return out;
    }

    private static Engine open() {
        return Engine.open(MODEL.weights(), EngineOptions.defaults(1024).withCacheType(GgmlType.F16).withFlashAttention(true));
    }

    /** The prompt prefilled with what H2O asks of a prefill (its statistics serve every decode from the snapshot). */
    private static PrefillStatistics prefill(Engine engine) {
        AttentionPolicy h2o = Strategies.create(DEVICE, MODEL.weights().hyperParameters(), PROMPT);
        try {
            return engine.prefill(Arrays.copyOf(TOKENS, PROMPT), h2o.prefillRequest(), false).statistics();
        } finally {
            h2o.close();
        }
    }

    @Test
    void theDeviceFormWritesOnlyItsSlotsAndDecodesWhatAWritingDecodeDoes() {
        try (Engine engine = open()) {
            PrefillStatistics stats = prefill(engine);
            KvSnapshot prompt = engine.snapshot();
            Run skipping = decode(engine, prompt, stats, DEVICE, false);
            Run writing = decode(engine, prompt, stats, DEVICE, true);
            Run host = decode(engine, prompt, stats, "h2o:heavy=32,recent=32,decide=host", false);
            assertEquals(0, skipping.fullCacheWrites(), "the device form's steps write the full cache");
            assertTrue(writing.fullCacheWrites() > 0, "with diagnostics (which read the whole cache) the steps write it");
            assertTrue(host.fullCacheWrites() > 0, "the host form reads the full cache, so its steps write it");
            for (int s = 0; s < STEPS; s++) {
                assertArrayEquals(writing.logits().get(s), skipping.logits().get(s), "step " + s + "'s logits");
            }
        }
    }

    @Test
    void whatWouldReadTheMissingRowsIsRefusedUntilTheCacheIsRestored() {
        try (Engine engine = open()) {
            PrefillStatistics stats = prefill(engine);
            KvSnapshot prompt = engine.snapshot();
            decode(engine, prompt, stats, DEVICE, false);
            assertEquals(PROMPT + STEPS, engine.position());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> engine.prefill(new int[] {1, 2}));
            assertTrue(e.getMessage().contains("position " + PROMPT) && e.getMessage().contains("restore a snapshot"), e.getMessage());
            assertThrows(IllegalStateException.class, engine::snapshot);
            AttentionPolicy full = Strategies.create("full", MODEL.weights().hyperParameters(), PROMPT);
            assertThrows(IllegalStateException.class, () -> engine.decoder(full, null));
            // a policy's copy of full-cache rows: the prompt's rows still copy, a decoded token's are refused
            var context = engine.attentionContext();
            var target = context.newCompactCache(4);
            int kvHeads = MODEL.weights().hyperParameters().kvHeads();
            context.copyRows(0, filled(kvHeads, PROMPT - 1), 1, target, 0);
            assertThrows(IllegalStateException.class, () -> context.copyRows(0, filled(kvHeads, PROMPT), 1, target, 1));
            // after a rewind the prompt's rows are read, and the rows after it are written again before any read
            engine.restore(prompt);
            float[] afterRestore = engine.prefill(new int[] {1, 2}).lastLogits();
            engine.reset();
            engine.prefill(Arrays.copyOf(TOKENS, PROMPT));
            assertArrayEquals(afterRestore, engine.prefill(new int[] {1, 2}).lastLogits(), "a prefill after the restore");
            // a decode that writes the full cache leaves nothing to refuse
            decode(engine, engine.snapshot(), stats, "full", false);
            engine.snapshot().close();
        }
    }
}
