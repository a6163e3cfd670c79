package org.rbench.analysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The nightly history as trends: per series, its value in each night. When a night holds
 * several rows of one series (two commits measured the same night, or a results file added
 * again with another commit), the row added last stands for the night.
 */
public final class NightlyHistory {
    private final Map<TrendSeries, NavigableMap<String, NightlyMeasurement>> bySeries = new TreeMap<>(TrendSeries.ORDER);

    /** @param measurements in the order they were added to the history */
    public NightlyHistory(List<NightlyMeasurement> measurements) {
        for (NightlyMeasurement m : measurements) {
            bySeries.computeIfAbsent(m.series(), s -> new TreeMap<>()).put(m.night(), m);
        }
    }

    public boolean isEmpty() {
        return bySeries.isEmpty();
    }

    /** Every series, in {@link TrendSeries#ORDER}. */
    public List<TrendSeries> series() {
        return List.copyOf(bySeries.keySet());
    }

    /** Every night with at least one value, oldest first (ISO dates sort as text). */
    public List<String> nights() {
        TreeSet<String> nights = new TreeSet<>();
        bySeries.values().forEach(m -> nights.addAll(m.keySet()));
        return List.copyOf(nights);
    }

    /** The series' nights, oldest first. */
    public NavigableMap<String, NightlyMeasurement> of(TrendSeries series) {
        return bySeries.getOrDefault(series, new TreeMap<>());
    }

    /** The series' value in the night, or null. */
    public NightlyMeasurement at(TrendSeries series, String night) {
        return of(series).get(night);
    }

    /** Up to {@code count} of the series' nights before {@code night}, oldest first. */
    public List<NightlyMeasurement> before(TrendSeries series, String night, int count) {
        List<NightlyMeasurement> previous = new ArrayList<>(of(series).headMap(night, false).descendingMap().values());
        List<NightlyMeasurement> kept = new ArrayList<>(previous.subList(0, Math.min(count, previous.size())));
        java.util.Collections.reverse(kept);
        return kept;
    }

    /** The noise band the series' {@code window} nights before {@code night} give, or null with fewer than two. */
    public NoiseBand bandBefore(TrendSeries series, String night, int window, double alpha) {
        List<NightlyMeasurement> previous = before(series, night, window);
        if (previous.size() < NoiseBand.MIN_NIGHTS) {
            return null;
        }
        return NoiseBand.of(previous.stream().mapToDouble(NightlyMeasurement::value).toArray(), alpha);
    }

    /** Groups of series that share machine, backend and model, in order. */
    public Map<String, List<TrendSeries>> bySetting() {
        Map<String, List<TrendSeries>> groups = new java.util.LinkedHashMap<>();
        for (TrendSeries s : bySeries.keySet()) {
            groups.computeIfAbsent(s.setting(), k -> new ArrayList<>()).add(s);
        }
        return groups;
    }

    /** Counts per night, for messages. */
    Map<String, Integer> seriesPerNight() {
        Map<String, Integer> counts = new HashMap<>();
        bySeries.values().forEach(m -> m.keySet().forEach(n -> counts.merge(n, 1, Integer::sum)));
        return counts;
    }
}
