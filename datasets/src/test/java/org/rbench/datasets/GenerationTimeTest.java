package org.rbench.datasets;

import java.util.Locale;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures (does not assert) the time to generate 100 samples of each of the 11 offline
 * tasks at 32K with the approximate llama-spm tokenizer. Excluded by default; run with
 * {@code ./mvnw -q -B -pl datasets test -Dgroups=slow -DexcludedGroups=none -Dtest=GenerationTimeTest}.
 * Uses the installed sources when present, else the fixtures.
 */
@Tag("slow")
class GenerationTimeTest {

    @Test
    void hundredSamplesOfElevenTasksAt32K() {
        Sources installed = Sources.locate(null);
        boolean real = installed.hasEssay() && installed.hasWordLists();
        for (Tokenizer tokenizer : new Tokenizer[] {ApproximateTokenizer.spmLike(), ApproximateTokenizer.bpeLike()}) {
            RulerGenerator generator = real
                    ? RulerGenerator.builder(tokenizer).sources(installed).build()
                    : TestData.generator(tokenizer);
            long start = System.nanoTime();
            for (RulerTask task : TestData.offlineTasks()) {
                long t = System.nanoTime();
                generator.generateAll(task, 32768, 100, 42);
                System.out.printf(Locale.ROOT, "  %-16s %6.2f s%n", task.id(), (System.nanoTime() - t) / 1e9);
            }
            System.out.printf(Locale.ROOT, "%s, %s sources: 11 tasks x 100 samples at 32K in %.1f s, %d tokenizer calls%n",
                    tokenizer.name(), real ? "installed" : "fixture", (System.nanoTime() - start) / 1e9,
                    generator.tokenizerCalls());
        }
    }
}
