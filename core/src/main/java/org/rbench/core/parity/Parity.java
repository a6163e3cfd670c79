package org.rbench.core.parity;

import org.rbench.core.attention.FullAttention;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.PrefillRequest;
import org.rbench.core.attention.Strategies;
import org.rbench.core.engine.Decoder;
import org.rbench.core.engine.Engine;
import org.rbench.core.engine.Greedy;
import org.rbench.core.engine.KvSnapshot;
import org.rbench.core.engine.PrefillResult;
import org.rbench.core.model.ModelWeights;
import org.rbench.core.reference.LlamaReference;
import org.rbench.llamacpp.Backend;
import org.rbench.llamacpp.Backends;
import org.rbench.llamacpp.LlamaCpp;

import java.util.SplittableRandom;

/**
 * Runs the same prompt through the engine (full attention) and through llama_decode and
 * compares the logits at every prompt position and every greedy decode step. The engine
 * is fed llama.cpp's greedy tokens, so the logits stay comparable even if one argmax
 * differed; agreeing argmaxes everywhere means identical greedy continuations. The engine
 * then decodes the same tokens again from the prompt with its steps queued ahead ({@link
 * Decoder#greedyAfterEach}: on a GPU each step is launched before the one before has finished),
 * whose greedy tokens must be the ones its steps gave one at a time.
 */
public final class Parity {
    private Parity() {
    }

    public static ParityReport run(ParityRequest request) {
        return run(request, "full");
    }

    /**
     * Parity of the engine under a method (spec string such as {@code recycled:k=4096,s=50})
     * against llama_decode: a method whose budget covers the whole context must match full
     * attention, so this checks a strategy on the user's own model.
     */
    public static ParityReport run(ParityRequest request, String method) {
        LlamaCpp.initialise();
        int steps = request.decodeSteps();
        int context = request.promptLength() + steps + 1;
        try (Backend backend = Backends.open(request.backend(), request.threads());
             ModelWeights weights = ModelWeights.load(request.model(), backend);
             Engine engine = Engine.open(weights, request.engineOptions(context));
             LlamaReference reference = new LlamaReference(request.model(), context, request.microBatch(),
                     request.threads(), request.flashAttention(), request.cacheType(),
                     !backend.isCpu() && !request.referenceOnCpu())) {
            int[] prompt = request.promptFor(weights.hyperParameters().vocabSize());
            Comparison c = new Comparison();

            AttentionPolicy policy = Strategies.create(method, weights.hyperParameters(), prompt.length);
            PrefillResult mine = engine.prefill(prompt, policy.prefillRequest(), true);
            float[][] theirs = reference.prefill(prompt, true);
            for (int i = 0; i < prompt.length; i++) {
                c.compare(mine.logits()[i], theirs[i]);
            }
            c.promptDone();
            int[] referenceTokens = new int[steps];
            int[] engineTokens = new int[steps];
            int[] engineAfter = new int[steps];
            long engineDecode = 0;
            KvSnapshot afterPrompt = engine.snapshot();
            try (Decoder decoder = engine.decoder(policy, mine.statistics())) {
                float[] theirLast = theirs[prompt.length - 1];
                float[] myLast = mine.lastLogits();
                for (int s = 0; s < steps; s++) {
                    int token = Greedy.argmax(theirLast);
                    referenceTokens[s] = token;
                    engineTokens[s] = Greedy.argmax(myLast);
                    myLast = decoder.step(token);
                    engineAfter[s] = Greedy.argmax(myLast);
                    theirLast = reference.step(token);
                    c.compare(myLast, theirLast);
                }
                engineDecode = decoder.timings().totalWallNanos();
            } finally {
                policy.close();
            }
            int[] queued = new int[steps];
            int[] queuedAhead = new int[1];
            QueuedCheck.decode(engine, afterPrompt, () -> Strategies.create(method, weights.hyperParameters(), prompt.length),
                    mine.statistics(), d -> {
                        System.arraycopy(d.greedyAfterEach(referenceTokens), 0, queued, 0, steps);
                        queuedAhead[0] = d.stepsQueuedAhead();
                    });
            int queuedAgreements = QueuedCheck.agreements(queued, engineAfter);
            long referenceDecode = 0;
            for (long n : reference.stepNanos()) {
                referenceDecode += n;
            }
            String device = backend.deviceDescription() + (request.referenceOnCpu() && !backend.isCpu() ? " (llama.cpp on the CPU)" : "");
            return new ParityReport(request.model().getFileName().toString(), backend.kind(), device,
                    request.cacheType(), request.flashAttention(), prompt.length, steps, c.maxAbs, c.maxRel,
                    c.promptMaxAbs, c.positions,
                    c.agreements, c.firstDisagreement, referenceTokens, engineTokens, mine.nanos(),
                    reference.lastPrefillNanos(), engineDecode, referenceDecode, queuedAgreements, queuedAhead[0]);
        }
    }

    static int[] randomPrompt(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = r.nextInt(vocab);
        }
        return out;
    }

    /** Running maxima over compared positions. */
    static final class Comparison {
        double maxAbs;
        double maxRel;
        /** maxAbs over the prompt positions alone (set once they are compared). */
        double promptMaxAbs = Double.NaN;
        int positions;
        int agreements;
        int firstDisagreement = -1;

        void compare(float[] mine, float[] theirs) {
            if (mine.length != theirs.length) {
                throw new IllegalStateException("logit rows differ in length: " + mine.length + " vs " + theirs.length);
            }
            double abs = 0;
            double scale = 0;
            for (int j = 0; j < mine.length; j++) {
                abs = Math.max(abs, Math.abs((double) mine[j] - theirs[j]));
                scale = Math.max(scale, Math.abs(theirs[j]));
            }
            maxAbs = Math.max(maxAbs, abs);
            maxRel = Math.max(maxRel, scale == 0 ? abs : abs / scale);
            if (Greedy.argmax(mine) == Greedy.argmax(theirs)) {
                agreements++;
            } else if (firstDisagreement < 0) {
                firstDisagreement = positions;
            }
            positions++;
        }

        void promptDone() {
            promptMaxAbs = maxAbs;
        }
    }
}
