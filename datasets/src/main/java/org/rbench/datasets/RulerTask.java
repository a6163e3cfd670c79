package org.rbench.datasets;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.rbench.datasets.NiahConfig.Haystack;
import org.rbench.datasets.NiahConfig.NeedleType;

/** RULER's 13 tasks, named as in the reference's scripts/synthetic.yaml. */
public enum RulerTask {
    NIAH_SINGLE_1("niah_single_1", new NiahConfig(Haystack.NOISE, NeedleType.WORDS, NeedleType.NUMBERS, 1, 1, 1)),
    NIAH_SINGLE_2("niah_single_2", new NiahConfig(Haystack.ESSAY, NeedleType.WORDS, NeedleType.NUMBERS, 1, 1, 1)),
    NIAH_SINGLE_3("niah_single_3", new NiahConfig(Haystack.ESSAY, NeedleType.WORDS, NeedleType.UUIDS, 1, 1, 1)),
    NIAH_MULTIKEY_1("niah_multikey_1", new NiahConfig(Haystack.ESSAY, NeedleType.WORDS, NeedleType.NUMBERS, 4, 1, 1)),
    NIAH_MULTIKEY_2("niah_multikey_2", new NiahConfig(Haystack.NEEDLE, NeedleType.WORDS, NeedleType.NUMBERS, 1, 1, 1)),
    NIAH_MULTIKEY_3("niah_multikey_3", new NiahConfig(Haystack.NEEDLE, NeedleType.UUIDS, NeedleType.UUIDS, 1, 1, 1)),
    NIAH_MULTIVALUE("niah_multivalue", new NiahConfig(Haystack.ESSAY, NeedleType.WORDS, NeedleType.NUMBERS, 1, 4, 1)),
    NIAH_MULTIQUERY("niah_multiquery", new NiahConfig(Haystack.ESSAY, NeedleType.WORDS, NeedleType.NUMBERS, 1, 1, 4)),
    VT("vt", TaskFamily.VARIABLE_TRACKING),
    CWE("cwe", TaskFamily.COMMON_WORDS),
    FWE("fwe", TaskFamily.FREQUENT_WORDS),
    QA_1("qa_1", TaskFamily.QA),
    QA_2("qa_2", TaskFamily.QA);

    private final String id;
    private final TaskFamily family;
    private final NiahConfig niah;

    RulerTask(String id, NiahConfig niah) {
        this.id = id;
        this.family = TaskFamily.NIAH;
        this.niah = niah;
    }

    RulerTask(String id, TaskFamily family) {
        this.id = id;
        this.family = family;
        this.niah = null;
    }

    /** The reference's name, e.g. "niah_multikey_2". */
    public String id() {
        return id;
    }

    public TaskFamily family() {
        return family;
    }

    /** The needle-in-a-haystack settings; present only for the eight niah tasks. */
    public Optional<NiahConfig> niah() {
        return Optional.ofNullable(niah);
    }

    public int tokensToGenerate() {
        return family.tokensToGenerate();
    }

    public Metric metric() {
        return family.metric();
    }

    /** Whether the task needs the essay haystack (installed prose). */
    public boolean needsEssay() {
        return niah != null && niah.haystack() == Haystack.ESSAY;
    }

    /** Whether the task needs the part-of-speech word lists (installed). */
    public boolean needsWordLists() {
        return (niah != null && niah.needsWordLists()) || this == CWE;
    }

    /** Whether the task reads a QA dataset the user provides (qa_1: SQuAD, qa_2: HotpotQA). */
    public boolean needsQaDataset() {
        return family == TaskFamily.QA;
    }

    @Override
    public String toString() {
        return id;
    }

    /** The task of this reference name (case-insensitive). */
    public static RulerTask byId(String id) {
        String wanted = id == null ? "" : id.strip().toLowerCase(Locale.ROOT);
        for (RulerTask task : values()) {
            if (task.id.equals(wanted)) {
                return task;
            }
        }
        throw new IllegalArgumentException("unknown RULER task '" + id + "'; known tasks: "
                + Arrays.stream(values()).map(RulerTask::id).collect(Collectors.joining(", ")) + " (or 'all')");
    }

    /** Parses {@code all} or a comma-separated list of task names, keeping the order given. */
    public static List<RulerTask> parseList(String list) {
        if (list == null || list.isBlank()) {
            throw new IllegalArgumentException("no tasks given; use 'all' or a comma-separated list of task names");
        }
        if (list.strip().equalsIgnoreCase("all")) {
            return List.of(values());
        }
        Set<RulerTask> tasks = new LinkedHashSet<>();
        for (String part : list.split(",")) {
            if (!part.isBlank()) {
                tasks.add(byId(part));
            }
        }
        if (tasks.isEmpty()) {
            throw new IllegalArgumentException("no tasks given in '" + list + "'");
        }
        return new ArrayList<>(tasks);
    }
}
