package org.rbench.core.parity;

import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.PrefillStatistics;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.ModelWeights;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.LlamaCpp;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The engine against itself: a method's greedy decode with each step waited for, then the same
 * with steps queued ahead ({@link Decoder#greedyAfterEach}, the tokens known) and as a generation
 * fed on the device ({@link Decoder#generateGreedy}). On a GPU the queued forms launch a step
 * before the one before has finished; they must pick the same tokens. Unlike {@link Parity} any
 * budget may be checked: no llama_decode is compared.
 */
public final class QueuedCheck {
    private QueuedCheck() {
    }

    /**
     * The outcome.
     *
     * @param queuedAgreements steps whose pick with the known tokens queued ahead was the waited one's
     * @param fedAgreements    tokens of the generation equal to the waited decode's, from the first on
     * @param queuedAhead      steps of the known-token run launched before the step before had finished
     * @param fedAhead         the same for the generation (0 on the CPU, whose generation waits for every pick)
     * @param plansAhead       whether the method lets steps queue ({@code AttentionPolicy.plansAhead})
     * @param onGpu            whether the backend queues (a GPU) or computes before a launch returns
     */
    public record Report(String model, String device, String method, int steps, int queuedAgreements, int fedAgreements,
                         int queuedAhead, int fedAhead, boolean plansAhead, boolean onGpu) {
        /**
         * Every pick as waited, and, for a method that plans ahead, steps that really were queued
         * (in the generation too, on a GPU): a check that queued nothing would prove nothing.
         */
        public boolean passes() {
            boolean overlapped = !plansAhead || (queuedAhead > 0 && (!onGpu || fedAhead > 0));
            return queuedAgreements == steps && fedAgreements == steps && overlapped;
        }

        public String summary() {
            return String.format(java.util.Locale.ROOT,
                    "%s, %s on %s: %d steps; known tokens queued ahead: %d/%d picks as waited (%d steps queued); generated%s:"
                            + " %d/%d tokens as waited (%d queued); %s", method, model, device, steps, queuedAgreements, steps,
                    queuedAhead, onGpu ? ", fed on the device" : " (the CPU waits for each pick)", fedAgreements, steps, fedAhead,
                    plansAhead ? "the method plans ahead" : "the method does not plan ahead: every step waits");
        }
    }

    public static Report run(ParityRequest request, String method) {
        LlamaCpp.initialise();
        int steps = request.decodeSteps();
        int context = request.promptLength() + steps + 2;
        try (Backend backend = Backends.open(request.backend(), request.threads());
             ModelWeights weights = ModelWeights.load(request.model(), backend);
             Engine engine = Engine.open(weights, request.engineOptions(context))) {
            int[] prompt = request.promptFor(weights.hyperParameters().vocabSize());
            Supplier<AttentionPolicy> make = () -> Strategies.create(method, weights.hyperParameters(), prompt.length);
            AttentionPolicy policy = make.get();
            boolean plansAhead = policy.plansAhead();
            PrefillResult p = engine.prefill(prompt, policy.prefillRequest(), false);
            KvSnapshot afterPrompt = engine.snapshot();
            // the waited decode: each step's token is the pick of the step before (the first, the prompt's)
            int[] fed = new int[steps];
            int[] picked = new int[steps];
            int token = Greedy.argmax(p.lastLogits());
            try (Decoder d = engine.decoder(policy, p.statistics())) {
                for (int s = 0; s < steps; s++) {
                    fed[s] = token;
                    token = Greedy.argmax(d.step(token));
                    picked[s] = token;
                }
            } finally {
                policy.close();
            }
            int[] queued = new int[steps];
            int[] generated = new int[steps];
            int[] ahead = new int[2];
            decode(engine, afterPrompt, make, p.statistics(), d -> {
                System.arraycopy(d.greedyAfterEach(fed), 0, queued, 0, steps);
                ahead[0] = d.stepsQueuedAhead();
            });
            decode(engine, afterPrompt, make, p.statistics(), d -> {
                int[] n = {0};
                d.generateGreedy(fed[0], steps, t -> {
                    generated[n[0]++] = t;
                    return true;
                });
                ahead[1] = d.stepsQueuedAhead();
            });
            return new Report(request.model().getFileName().toString(), backend.deviceDescription(), method, steps,
                    agreements(queued, picked), leadingAgreements(generated, picked), ahead[0], ahead[1], plansAhead,
                    !backend.isCpu());
        }
    }

    /** A decoder from the snapshot under a fresh policy, handed to {@code run}. */
    static void decode(Engine engine, KvSnapshot from, Supplier<AttentionPolicy> make, PrefillStatistics prefill,
                       Consumer<Decoder> run) {
        engine.restore(from);
        AttentionPolicy policy = make.get();
        try (Decoder d = engine.decoder(policy, prefill)) {
            run.accept(d);
        } finally {
            policy.close();
        }
    }

    /** Positions where the two agree. */
    static int agreements(int[] a, int[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] == b[i] ? 1 : 0;
        }
        return n;
    }

    /** How many leading positions agree (a generation that parts once goes its own way after). */
    static int leadingAgreements(int[] a, int[] b) {
        int n = 0;
        while (n < a.length && a[n] == b[n]) {
            n++;
        }
        return n;
    }
}
