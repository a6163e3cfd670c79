package org.rbench.datasets;

/**
 * The knobs of one needle-in-a-haystack task (scripts/synthetic.yaml of the reference).
 *
 * @param haystack what the needles hide in
 * @param keyType  what the keys are
 * @param valueType what the values are
 * @param keys     needles with distinct keys; at least {@code queries}
 * @param values   values per key
 * @param queries  keys asked for
 */
public record NiahConfig(Haystack haystack, NeedleType keyType, NeedleType valueType, int keys, int values, int queries) {

    /** The three haystacks of the reference. */
    public enum Haystack {
        /** Essay-like prose; needles go in at sentence boundaries at drawn depths. */
        ESSAY,
        /** Repeated noise lines; needles go in at random lines. */
        NOISE,
        /** Distractor needles with random keys and values of the same types. */
        NEEDLE
    }

    /** Needle keys and values. */
    public enum NeedleType {
        /** {@code adjective-noun}. */
        WORDS("words"),
        /** 7-digit integers. */
        NUMBERS("numbers"),
        /** Random version-4 UUIDs. */
        UUIDS("uuids");

        private final String plural;

        NeedleType(String plural) {
            this.plural = plural;
        }

        /** The name the templates use ({@code type_needle_v}), e.g. "numbers". */
        public String plural() {
            return plural;
        }

        /** The singular name, without the trailing 's'. */
        public String singular() {
            return plural.substring(0, plural.length() - 1);
        }
    }

    public NiahConfig {
        if (queries < 1 || values < 1 || keys < 1) {
            throw new IllegalArgumentException("keys, values and queries must be positive");
        }
        // As in the reference: there are at least as many keys as queries.
        keys = Math.max(keys, queries);
    }

    /** Needles inserted: keys x values. */
    public int needles() {
        return keys * values;
    }

    /** Whether the template and answer prefix take the singular form (queries x values == 1). */
    public boolean singular() {
        return queries * values == 1;
    }

    /** Whether this task needs the part-of-speech word lists (word keys or values). */
    public boolean needsWordLists() {
        return keyType == NeedleType.WORDS || valueType == NeedleType.WORDS;
    }
}
