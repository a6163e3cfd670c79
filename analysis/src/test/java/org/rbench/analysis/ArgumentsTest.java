package org.rbench.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgumentsTest {
    private static final Set<String> OPTIONS = Set.of("out", "seed");

    @Test
    void positionalAndBothOptionSpellings() throws Exception {
        Arguments a = Arguments.parse(new String[] {"a.csv", "--out", "dir", "b.csv", "--seed=-4"}, OPTIONS);
        assertEquals(List.of("a.csv", "b.csv"), a.positional());
        assertEquals("dir", a.option("out"));
        assertEquals(-4, a.longOption("seed", 0));
        assertEquals(9, a.intOption("missing", 9, 0));
    }

    @Test
    void doubleDashEndsOptions() throws Exception {
        Arguments a = Arguments.parse(new String[] {"--", "--out"}, OPTIONS);
        assertEquals(List.of("--out"), a.positional());
    }

    @Test
    void errorsNameTheOption() {
        assertEquals("unknown option --outt",
                assertThrows(UsageException.class, () -> Arguments.parse(new String[] {"--outt", "x"}, OPTIONS))
                        .getMessage());
        assertEquals("option --out needs a value",
                assertThrows(UsageException.class, () -> Arguments.parse(new String[] {"--out"}, OPTIONS))
                        .getMessage());
    }

    @Test
    void helpFlag() throws Exception {
        assertTrue(Arguments.parse(new String[] {"x", "--help"}, OPTIONS).help());
    }
}
