package dev.pulse.perf.gatling;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code pulse.*} system properties of a simulation, with their defaults. Every value read is
 * remembered, so a simulation prints exactly the parameters it ran with ({@link #describe()}).
 * With the Maven plugin, {@code -Dpulse.users=1000} on the {@code mvn} command line reaches the
 * Gatling JVM (the plugin forwards the Maven JVM's system properties).
 *
 * <p>With {@code -Dpulse.smoke=true} (the smoke runs of {@code mvn verify}) a property that is not
 * set takes its smoke default instead: a few users for a few seconds, loose latency bounds.
 */
final class Props {

    private static final Map<String, String> USED = new LinkedHashMap<>();
    static final boolean SMOKE = Boolean.getBoolean("pulse.smoke");

    private Props() {}

    static synchronized String string(String name, String defaultValue) {
        String value = System.getProperty(name);
        String effective = value == null || value.isBlank() ? defaultValue : value.trim();
        USED.put(name, effective);
        return effective;
    }

    static int integer(String name, int defaultValue) {
        String value = string(name, Integer.toString(defaultValue));
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + value + "'", e);
        }
    }

    /** {@code defaultValue}, or {@code smokeDefault} in a smoke run. */
    static int integer(String name, int defaultValue, int smokeDefault) {
        return integer(name, SMOKE ? smokeDefault : defaultValue);
    }

    static double decimal(String name, double defaultValue) {
        String value = string(name, Double.toString(defaultValue));
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number, got '" + value + "'", e);
        }
    }

    static double decimal(String name, double defaultValue, double smokeDefault) {
        return decimal(name, SMOKE ? smokeDefault : defaultValue);
    }

    static int positive(String name, int defaultValue) {
        int value = integer(name, defaultValue);
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
        return value;
    }

    static int positive(String name, int defaultValue, int smokeDefault) {
        return positive(name, SMOKE ? smokeDefault : defaultValue);
    }

    static synchronized String describe() {
        StringBuilder out = new StringBuilder();
        USED.forEach((name, value) -> out.append(out.length() == 0 ? "" : " ").append(name).append('=').append(value));
        return out.toString();
    }
}
