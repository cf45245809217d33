package dev.pulse.node.testkit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scrape of a node's {@code /metrics}, read as Prometheus reads it: one sample a line,
 * {@code name{label="value",...} value}; comments and blank lines skipped.
 */
public record PrometheusText(String text, Map<String, Sample> samples) {

    /** One series: its metric name, labels and value. */
    public record Sample(String name, Map<String, String> labels, double value) {}

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)(\\s+\\d+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    public static PrometheusText parse(String text) {
        Map<String, Sample> samples = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("not a Prometheus sample line: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(3) != null) {
                Matcher label = LABEL.matcher(m.group(3));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            String value = m.group(4);
            double number = switch (value) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(value);
            };
            samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), new Sample(m.group(1), labels, number));
        }
        return new PrometheusText(text, samples);
    }

    /** Every metric name that has a sample. */
    public Set<String> names() {
        Set<String> names = new TreeSet<>();
        samples.values().forEach(s -> names.add(s.name()));
        return names;
    }

    /**
     * The value of the one series of {@code name} whose labels include {@code labels} (pairs of
     * name, value); fails when there is none or more than one.
     */
    public double value(String name, String... labels) {
        Sample found = null;
        for (Sample sample : samples.values()) {
            if (sample.name().equals(name) && matches(sample, labels)) {
                if (found != null) {
                    throw new AssertionError("more than one series " + name + " with " + String.join(",", labels));
                }
                found = sample;
            }
        }
        if (found == null) {
            throw new AssertionError("no series " + name + " with " + String.join(",", labels) + " in:\n" + text);
        }
        return found.value();
    }

    /** Whether a series of {@code name} with {@code labels} exists. */
    public boolean has(String name, String... labels) {
        return samples.values().stream().anyMatch(s -> s.name().equals(name) && matches(s, labels));
    }

    private static boolean matches(Sample sample, String[] labels) {
        for (int i = 0; i + 1 < labels.length; i += 2) {
            if (!labels[i + 1].equals(sample.labels().get(labels[i]))) {
                return false;
            }
        }
        return true;
    }
}
