package dev.pulse.node.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Helpers the black-box tests share for reading the wire contract as raw JSON and for waiting; the
 * frames themselves are read through {@link ChatPeer}.
 */
public final class Wire {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How often {@link #awaitUntil} looks at its condition again. */
    private static final Duration POLL = Duration.ofMillis(50);

    private Wire() {
    }

    /** Parses one raw frame or body; fails the test if it is not JSON. */
    public static JsonNode json(String raw) {
        try {
            return JSON.readTree(raw);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + raw, e);
        }
    }

    /** The field names of a JSON object, in order. */
    public static Set<String> fields(JsonNode node) {
        Set<String> names = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Parses an ISO-8601 timestamp with offset; fails the test if it is null or not one. */
    public static Instant iso(String text) {
        assertThat(text).as("ISO-8601 timestamp").isNotNull();
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (RuntimeException e) {
            throw new AssertionError("not an ISO-8601 timestamp: " + text, e);
        }
    }

    /**
     * Polls {@code condition} every 50 ms until it holds; fails with {@code what} if it still does not
     * after {@code timeout}.
     */
    public static void awaitUntil(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("not within " + timeout + ": " + what);
            }
            pause(POLL); // polling interval of the wait, not a wait for the condition itself
        }
    }

    /** Sleeps for {@code duration}; an interrupt fails the test (and keeps the interrupt flag). */
    public static void pause(Duration duration) {
        try {
            TimeUnit.NANOSECONDS.sleep(duration.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
