package org.rbench.analysis;

/**
 * Mean attention mass recall (0..1) of one (model, method, length) group: the share of full
 * attention's softmax mass that the method's attended rows cover. Only rows that measured it count.
 */
public record RecallRow(String model, String method, int length, int samples, double recall) {
}
