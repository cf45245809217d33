package dev.pulse.node.metrics;

import java.time.Duration;
import java.util.stream.LongStream;

/** Histogram bucket bounds: a few fixed ones keep each histogram to a dozen series. */
final class Buckets {

    private Buckets() {}

    /** 1 ms to 10 s. */
    static final Duration[] LATENCY = millis(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000);

    static final double[] BATCH = {1, 2, 5, 10, 20, 50, 100, 200, 500};

    private static Duration[] millis(long... bounds) {
        return LongStream.of(bounds).mapToObj(Duration::ofMillis).toArray(Duration[]::new);
    }
}
