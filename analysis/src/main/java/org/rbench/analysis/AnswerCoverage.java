package org.rbench.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Reduces diagnostics rows ({@link StepRow}) to what the report shows of answer coverage: per
 * method and length a summary, and per step the curves.
 *
 * <p>The <em>focus layer</em> of a task at a length is the layer whose attention peak (of its
 * query heads' top positions, the one nearest an answer token) lies nearest the answers: the
 * smallest median {@code peak_distance} over full attention's steps (over every method's when
 * there is no full attention). It is where the model reads the answer; a method that misses that
 * layer's peak loses the answer there whatever it covers elsewhere.
 */
final class AnswerCoverage {

    /** Summary of one (model, method, length): means over samples (units of sample and method). */
    record Summary(String model, String method, int length, int tasks, int samples, double coverage,
                   double answerMassRecall, String focusLayers, double focusCoverage, double focusMassRecall,
                   double focusPeakKept, double firstMissMedian, int missed) {
    }

    /** One step of a curve of (model, method, length, task; task null over all tasks): means over samples. */
    record StepPoint(String model, String method, int length, String task, int step, int samples, double coverage,
                     double focusMassRecall, double focusPeakKept, double focusPeakOffset) {
    }

    private record TaskKey(String model, String task, int length) {
    }

    /** One sample of one method: its rows by step, and the focus layer of its task. */
    private record Unit(String model, String method, String task, int length, int focus, TreeMap<Integer, List<StepRow>> steps) {

        List<StepRow> all() {
            return steps.values().stream().flatMap(List::stream).toList();
        }

        StepRow atFocus(int step) {
            return steps.get(step).stream().filter(r -> r.layer() == focus).findFirst().orElse(null);
        }

        List<StepRow> focusRows() {
            return all().stream().filter(r -> r.layer() == focus).toList();
        }

        /** The first step whose focus-layer peak was not attended; -1 when none. */
        int firstMiss() {
            for (StepRow r : focusRows()) {
                if (r.peakAttended() == 0) {
                    return r.step();
                }
            }
            return -1;
        }
    }

    private final List<Unit> units = new ArrayList<>();
    private final Map<TaskKey, Integer> focus = new LinkedHashMap<>();

    AnswerCoverage(List<StepRow> rows) {
        Map<TaskKey, List<StepRow>> byTask = new LinkedHashMap<>();
        for (StepRow r : rows) {
            byTask.computeIfAbsent(new TaskKey(r.modelFile(), r.task(), r.length()), k -> new ArrayList<>()).add(r);
        }
        byTask.forEach((key, taskRows) -> focus.put(key, focusLayer(taskRows)));
        Map<String, List<StepRow>> byUnit = new LinkedHashMap<>();
        for (StepRow r : rows) {
            byUnit.computeIfAbsent(r.unit(), k -> new ArrayList<>()).add(r);
        }
        for (List<StepRow> unitRows : byUnit.values()) {
            StepRow first = unitRows.getFirst();
            TreeMap<Integer, List<StepRow>> steps = new TreeMap<>();
            unitRows.forEach(r -> steps.computeIfAbsent(r.step(), k -> new ArrayList<>()).add(r));
            units.add(new Unit(first.modelFile(), first.method(), first.task(), first.length(),
                    focus.get(new TaskKey(first.modelFile(), first.task(), first.length())), steps));
        }
    }

    boolean isEmpty() {
        return units.isEmpty();
    }

    /** The focus layer of a task at a length: see the class comment; -1 when no row has a peak. */
    static int focusLayer(List<StepRow> rows) {
        List<StepRow> full = rows.stream().filter(r -> MethodOrder.isFull(r.method())).toList();
        List<StepRow> basis = full.isEmpty() ? rows : full;
        Map<Integer, List<Double>> distances = new TreeMap<>();
        for (StepRow r : basis) {
            if (Double.isFinite(r.peakDistance())) {
                distances.computeIfAbsent(r.layer(), k -> new ArrayList<>()).add(r.peakDistance());
            }
        }
        int best = -1;
        double bestMedian = Double.POSITIVE_INFINITY;
        for (Map.Entry<Integer, List<Double>> e : distances.entrySet()) {
            double median = Statistics.median(e.getValue().stream().mapToDouble(Double::doubleValue).toArray());
            if (median < bestMedian) {
                bestMedian = median;
                best = e.getKey();
            }
        }
        return best;
    }

    int focusLayer(String model, String task, int length) {
        return focus.getOrDefault(new TaskKey(model, task, length), -1);
    }

    List<String> tasks(String model, int length) {
        return focus.keySet().stream().filter(k -> k.model().equals(model) && k.length() == length)
                .map(TaskKey::task).sorted(NaturalOrder.INSTANCE).toList();
    }

    /** Per (model, method, length), in table order. */
    List<Summary> summaries() {
        Map<GroupKey, List<Unit>> groups = new TreeMap<>(GroupKey.ORDER);
        for (Unit u : units) {
            groups.computeIfAbsent(new GroupKey(u.model(), u.method(), u.length(), null), k -> new ArrayList<>()).add(u);
        }
        List<Summary> out = new ArrayList<>();
        groups.forEach((key, members) -> {
            double mass = 0;
            double attended = 0;
            for (Unit u : members) {
                for (StepRow r : u.all()) {
                    if (Double.isFinite(r.answerMass()) && Double.isFinite(r.answerMassRecall())) {
                        mass += r.answerMass();
                        attended += r.answerMass() * r.answerMassRecall();
                    }
                }
            }
            TreeSet<Integer> layers = new TreeSet<>();
            members.forEach(u -> layers.add(u.focus()));
            double[] misses = members.stream().mapToInt(Unit::firstMiss).filter(s -> s >= 0).asDoubleStream().toArray();
            out.add(new Summary(key.model(), key.method(), key.length(),
                    (int) members.stream().map(Unit::task).distinct().count(), members.size(),
                    Statistics.finiteMean(members, u -> mean(u.all(), StepRow::answerCoverage)),
                    mass > 0 ? attended / mass : Double.NaN,
                    String.join(", ", layers.stream().map(String::valueOf).toList()),
                    Statistics.finiteMean(members, u -> mean(u.focusRows(), StepRow::answerCoverage)),
                    Statistics.finiteMean(members, u -> mean(u.focusRows(), StepRow::massRecall)),
                    Statistics.finiteMean(members, u -> mean(u.focusRows(), StepRow::peakAttended)),
                    misses.length == 0 ? Double.NaN : Statistics.median(misses), misses.length));
        });
        return out;
    }

    /** The curves of (model, length) per method, over all tasks ({@code task} null) or one task. */
    List<StepPoint> curves(String model, int length, String task) {
        Map<String, TreeMap<Integer, List<Unit>>> byMethod = new TreeMap<>(MethodOrder.INSTANCE);
        for (Unit u : units) {
            if (u.model().equals(model) && u.length() == length && (task == null || u.task().equals(task))) {
                for (int step : u.steps().keySet()) {
                    byMethod.computeIfAbsent(u.method(), m -> new TreeMap<>())
                            .computeIfAbsent(step, s -> new ArrayList<>()).add(u);
                }
            }
        }
        List<StepPoint> out = new ArrayList<>();
        byMethod.forEach((method, steps) -> steps.forEach((step, members) -> {
            List<StepRow> focusRows = members.stream().map(u -> u.atFocus(step)).filter(r -> r != null).toList();
            double[] offsets = Statistics.finiteValues(focusRows, StepRow::peakOffset);
            out.add(new StepPoint(model, method, length, task, step, members.size(),
                    Statistics.finiteMean(members, u -> mean(u.steps().get(step), StepRow::answerCoverage)),
                    Statistics.finiteMean(focusRows, StepRow::massRecall),
                    Statistics.finiteMean(focusRows, StepRow::peakAttended),
                    offsets.length == 0 ? Double.NaN : Statistics.median(offsets)));
        }));
        return out;
    }

    List<String> models() {
        return units.stream().map(Unit::model).distinct().sorted(NaturalOrder.INSTANCE).toList();
    }

    List<Integer> lengths(String model) {
        return units.stream().filter(u -> u.model().equals(model)).map(Unit::length).distinct().sorted().toList();
    }

    List<String> methods() {
        return units.stream().map(Unit::method).distinct().sorted(MethodOrder.INSTANCE).toList();
    }

    private static double mean(List<StepRow> rows, ToDoubleFunction<StepRow> column) {
        return Statistics.finiteMean(rows, column);
    }
}
