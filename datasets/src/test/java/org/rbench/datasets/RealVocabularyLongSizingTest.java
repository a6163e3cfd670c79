package org.rbench.datasets;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link RealVocabularySizingTest} at 16K and 32K (about a minute and a half here, so
 * tagged slow): ./mvnw -pl datasets test -Dgroups=slow -DexcludedGroups=none -Dtest=RealVocabularyLongSizingTest
 */
@Tag("slow")
class RealVocabularyLongSizingTest {
    @AfterAll
    static void close() {
        RealVocabularySizingTest.close();
    }

    @ParameterizedTest(name = "{0} at {1} ({2})")
    @MethodSource("org.rbench.datasets.RealVocabularySizingTest#longCases")
    void fitsFillsAndHoldsTheAnswers(RulerTask task, int length, String vocab) {
        RealVocabularySizingTest.check(task, length, vocab);
    }
}
