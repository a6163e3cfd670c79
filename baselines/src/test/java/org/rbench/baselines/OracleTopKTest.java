package org.rbench.baselines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rbench.core.attention.AttendedRows;
import org.rbench.core.attention.AttentionContext;
import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.FullPlan;
import org.rbench.core.attention.GqaAggregation;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.PlanCheck;
import org.rbench.core.attention.PlanGraph;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.ScoreSelection;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.AttentionMath;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.EngineOptions;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.HyperParameters;
import org.rbench.core.testing.CpuModel;
import org.rbench.llamacpp.GgmlType;
import org.rbench.llamacpp.Tensor;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oracle attends, at every step, layer and KV head, exactly the top-k rows of that step's
 * own full attention as the host ranks them (aggregated and pooled as Recycled Attention
 * does, ties to the lower position); its covering budget is full attention (CoveringBudgetTest).
 */
class OracleTopKTest {
    private static final int PROMPT = 70;
    private static final int STEPS = 10;
    private static final int[] TOKENS = IntStream.range(0, PROMPT + STEPS).map(i -> (i * 131 + 7) % 512).toArray();
    @RegisterExtension
    static final CpuModel MODEL = CpuModel.preset("tiny-llama", GgmlType.F32);

    @Test
    void specsAndDefaults() {
        HyperParameters hp = MODEL.weights().hyperParameters();
        AttentionPolicy p = Strategies.create("oracle", hp, 10_000);
        assertEquals("oracle", p.name());
        assertInstanceOf(OracleTopK.Plan.class, p.plan(new LayerStep(0, 0, 1024, null)), "k defaults to 1024");
        assertInstanceOf(FullPlan.class, p.plan(new LayerStep(0, 0, 1023, null)), "1024 rows are covered by k=1024");
        for (String bad : new String[] {"oracle:k=0", "oracle:gqa=sum", "oracle:pool=2", "oracle:pool=0", "oracle:s=5"}) {
            assertThrows(IllegalArgumentException.class, () -> new OracleTopK.Factory().validate(MethodSpec.parse(bad)), bad);
        }
        OracleTopK.Plan plan = (OracleTopK.Plan) Strategies.create("oracle:k=8,gqa=first,pool=7", hp, 100)
                .plan(new LayerStep(1, 0, 50, null));
        assertEquals(8, plan.rows(50));
        assertEquals(GqaAggregation.FIRST, plan.request().aggregation());
        assertEquals(7, plan.request().poolKernel());
        assertThrows(IllegalArgumentException.class, () -> plan.check(new PlanCheck("oracle", 1, 7, hp, 128)),
                "a plan whose k covers the cached rows is refused");
    }

    /**
     * Every oracle layer-step, the rows the device attended equal the host's top-k of the same
     * step's full-attention probabilities (computed in the same graph from the same query and
     * cache, read back): aggregated per KV head, pooled, ranked with ties to the lower position.
     */
    @ParameterizedTest
    @ValueSource(strings = {"oracle:k=9", "oracle:k=9,pool=7", "oracle:k=16,gqa=first,pool=7", "oracle:k=5,gqa=first"})
    void attendsTheHostTopKOfItsOwnFullAttention(String spec) {
        OracleTopK oracle = (OracleTopK) Strategies.create(spec, MODEL.weights().hyperParameters(), PROMPT);
        Checking checking = new Checking(oracle);
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), checking.prefillRequest(), false);
            try (Decoder d = e.decoder(checking, p.statistics())) {
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
            }
        }
        HyperParameters hp = MODEL.weights().hyperParameters();
        assertEquals(STEPS * hp.layers() * hp.kvHeads(), checking.compared, "every layer-step and KV head compared");
        assertTrue(checking.mismatches.isEmpty(), spec + ": " + checking.mismatches);
    }

    /** The oracle recalls at least as much attention mass as the K-row methods at the same K. */
    @Test
    void recallsAtLeastWhatOtherMethodsOfTheSameBudgetRecall() {
        double oracle = recall("oracle:k=8");
        assertTrue(oracle < 0.999, "k=8 of " + PROMPT + " rows misses some mass: " + oracle);
        for (String other : new String[] {"recycled:k=8,s=50", "h2o:k=8", "streamingllm:k=8"}) {
            double r = recall(other);
            assertTrue(oracle >= r, "oracle " + oracle + " < " + other + " " + r);
        }
    }

    private static double recall(String spec) {
        try (Engine e = Engine.open(MODEL.weights(), EngineOptions.defaults(128))) {
            AttentionPolicy policy = Strategies.create(spec, MODEL.weights().hyperParameters(), PROMPT);
            PrefillResult p = e.prefill(Arrays.copyOf(TOKENS, PROMPT), policy.prefillRequest(), false);
            try (Decoder d = e.decoder(policy, p.statistics()).withDiagnostics()) {
                for (int s = 0; s < STEPS; s++) {
                    d.step(TOKENS[PROMPT + s]);
                }
                return d.meanMassRecall();
            }
        }
    }

    /** The oracle's policy with each oracle plan wrapped in a {@link Checked} plan. */
    private static final class Checking implements AttentionPolicy {
        final OracleTopK oracle;
        final List<String> mismatches = new ArrayList<>();
        int compared;
        private HyperParameters hp;

        Checking(OracleTopK oracle) {
            this.oracle = oracle;
        }

        @Override
        public String name() {
            return oracle.name() + " (checked)";
        }

        @Override
        public void start(AttentionContext context, PrefillStatistics prefill) {
            hp = context.hyperParameters();
            oracle.start(context, prefill);
        }

        @Override
        public AttentionPlan plan(LayerStep at) {
            AttentionPlan p = oracle.plan(at);
            return p instanceof OracleTopK.Plan o ? new Checked(o, this) : p;
        }

        /** Compares the device's rows of one layer-step with the host's top-k of {@code probs} [keyRows, 1, heads]. */
        void compare(OracleTopK.Plan plan, int position, float[] probs, int keyRows) {
            int heads = hp.heads();
            int kvHeads = hp.kvHeads();
            int valid = position + 1;
            float[][] perHead = new float[heads][];
            for (int h = 0; h < heads; h++) {
                perHead[h] = Arrays.copyOfRange(probs, h * keyRows, h * keyRows + valid);
            }
            float[][] perKv = plan.request().aggregation().aggregate(perHead, kvHeads);
            for (int g = 0; g < kvHeads; g++) {
                float[] scores = ScoreSelection.maxPool(perKv[g], plan.request().poolKernel());
                int[] expected = ScoreSelection.topKByScore(scores, plan.request().k());
                Arrays.sort(expected);
                int[] actual = plan.attendedPositions(g, position);
                compared++;
                if (!Arrays.equals(expected, actual)) {
                    mismatches.add("layer " + plan.layer() + " position " + position + " KV head " + g + ": expected "
                            + Arrays.toString(expected) + ", attended " + Arrays.toString(actual));
                }
            }
        }
    }

    /**
     * An oracle plan that also reads back the full attention's probabilities of its step
     * (the same softmax the oracle scores, in the same graph) and hands them to the check.
     */
    private record Checked(OracleTopK.Plan inner, Checking checking) implements AttentionPlan {

        @Override
        public int rows(int position) {
            return inner.rows(position);
        }

        @Override
        public void check(PlanCheck at) {
            inner.check(at);
        }

        @Override
        public Object shape(int position) {
            return inner.shape(position);
        }

        @Override
        public int[] attendedPositions(int kvHead, int position) {
            return inner.attendedPositions(kvHead, position);
        }

        @Override
        public int extraTensors() {
            return inner.extraTensors() + 8;
        }

        @Override
        public AttendedRows attend(PlanGraph g) {
            AttendedRows rows = inner.attend(unwrapping(g));
            HyperParameters hp = g.model();
            int keyRows = g.keyRows();
            Tensor full = AttentionMath.decodeSoftmax(g.ctx(), g.rowsView(g.cacheKeys(), 0, keyRows), g.query(),
                    g.causalMask(), hp.attentionScale(), hp.kvHeads()).name("checked_probs_" + g.layer()).output();
            g.expand(full);
            g.afterCompute((Checked current, int position) ->
                    current.checking().compare(current.inner(), position, full.getFloats(), keyRows));
            return rows;
        }

        /** The graph as the inner plan sees it: its read-backs get the inner plan of the step computed. */
        private static PlanGraph unwrapping(PlanGraph g) {
            return (PlanGraph) Proxy.newProxyInstance(PlanGraph.class.getClassLoader(), new Class<?>[] {PlanGraph.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("afterCompute") || method.getName().equals("whenLaunched")) {
                            PlanGraph.AfterCompute<OracleTopK.Plan> read = cast(args[0]);
                            PlanGraph.AfterCompute<Checked> unwrapped = (Checked current, int position) ->
                                    read.read(current.inner(), position);
                            if (method.getName().equals("afterCompute")) {
                                g.afterCompute(unwrapped);
                            } else {
                                g.whenLaunched(unwrapped);
                            }
                            return null;
                        }
                        try {
                            return method.invoke(g, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        @SuppressWarnings("unchecked")
        private static <T> T cast(Object o) {
            return (T) o;
        }
    }
}
