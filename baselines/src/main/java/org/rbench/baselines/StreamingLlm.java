package org.rbench.baselines;

import org.rbench.core.attention.AttentionPlan;
import org.rbench.core.attention.AttentionPolicy;
import org.rbench.core.attention.LayerStep;
import org.rbench.core.attention.MethodSpec;
import org.rbench.core.attention.Strategy;
import org.rbench.core.model.HyperParameters;

import java.util.Set;

/**
 * StreamingLLM: attend the first {@code sink} tokens and the last {@code window} tokens
 * (the newest included). The prefill attends the whole prompt, as the reference does, and
 * the eviction applies from the first decode step. The window is two zero-copy ranges of
 * the full cache, so a step reads sink + window rows and nothing else.
 *
 * <p>Key positions: {@code positions=cache} (the reference's behaviour and the default)
 * rotates keys by their index in the compacted cache, see {@link StreamingLlmCachePositions};
 * {@code positions=original} keeps every key at its original position and reads two
 * zero-copy ranges of the full cache (this class).
 */
public final class StreamingLlm implements AttentionPolicy {
    private final int sink;
    private final int window;
    private final String name;

    public StreamingLlm(int sink, int window, String name) {
        new StreamingWindow(sink, window); // validates
        this.sink = sink;
        this.window = window;
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public boolean plansAhead() {
        return true; // two ranges from the position
    }

    @Override
    public AttentionPlan plan(LayerStep at) {
        int newest = at.position();
        if (newest + 1 <= sink + window) {
            return AttentionPlan.full();
        }
        // [0, sink) and (newest - window, newest]: StreamingWindow.kept(newest), as two ranges.
        return AttentionPlan.ranges(new int[] {0, newest + 1 - window}, new int[] {sink, newest + 1});
    }

    /** {@code streamingllm:sink=4,window=4092[,positions=original]}. */
    public static final class Factory implements Strategy {
        @Override
        public String name() {
            return "streamingllm";
        }

        @Override
        public String description() {
            return "StreamingLLM: sink=4 attention sinks + window recent tokens (or k = sink + window, default 1024);"
                    + " positions=cache (reference) | original";
        }

        @Override
        public Set<String> parameters() {
            return Set.of("sink", "window", "k", "positions");
        }

        @Override
        public void validate(MethodSpec spec) {
            Strategy.super.validate(spec);
            sizes(spec);
            String positions = spec.stringParam("positions", "cache");
            if (!positions.equalsIgnoreCase("original") && !positions.equalsIgnoreCase("cache")) {
                throw new IllegalArgumentException("method '" + spec.text() + "': positions must be original or cache");
            }
        }

        private static int[] sizes(MethodSpec spec) {
            int sink = spec.intParam("sink", 4);
            if (sink < 0) {
                throw new IllegalArgumentException("method '" + spec.text() + "': sink must be >= 0");
            }
            int window;
            if (spec.has("window")) {
                window = spec.positiveInt("window", 0);
                if (spec.has("k") && spec.positiveInt("k", 0) != sink + window) {
                    throw new IllegalArgumentException("method '" + spec.text() + "': k must equal sink + window");
                }
            } else {
                window = spec.positiveInt("k", 1024) - sink;
                if (window <= 0) {
                    throw new IllegalArgumentException("method '" + spec.text() + "': k must exceed sink");
                }
            }
            return new int[] {sink, window};
        }

        @Override
        public AttentionPolicy create(MethodSpec spec, HyperParameters model, int promptTokens) {
            validate(spec);
            int[] s = sizes(spec);
            return spec.stringParam("positions", "cache").equalsIgnoreCase("cache")
                    ? new StreamingLlmCachePositions(s[0], s[1], spec.text())
                    : new StreamingLlm(s[0], s[1], spec.text());
        }
    }
}
