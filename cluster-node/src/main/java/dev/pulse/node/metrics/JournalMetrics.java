package dev.pulse.node.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * The rooms' journal writes, as a room sees them: pekko-persistence-jdbc exposes no timings, so a
 * write is timed from the room's {@code persist} to its commit callback (the plugin's queueing
 * included), with the number of messages it carried.
 */
public final class JournalMetrics {

    private final Timer writes;
    private final DistributionSummary batchSize;
    private final Counter writeFailures;
    private final Counter recoveryFailures;

    public JournalMetrics(MeterRegistry registry) {
        writes = Timer.builder("pulse.journal.write").serviceLevelObjectives(Buckets.LATENCY)
            .description("room journal writes, from persist to commit").register(registry);
        batchSize = DistributionSummary.builder("pulse.journal.batch.size").serviceLevelObjectives(Buckets.BATCH)
            .description("messages written by one journal write").register(registry);
        writeFailures = failures(registry, "write");
        recoveryFailures = failures(registry, "recovery");
    }

    private static Counter failures(MeterRegistry registry, String operation) {
        return Counter.builder("pulse.journal.failures").tag("operation", operation)
            .description("room journal writes or recoveries that failed (the room restarts with back-off)").register(registry);
    }

    /** A write of {@code messages} begun at {@code startNanos} ({@link System#nanoTime()}) is committed. */
    public void written(long startNanos, int messages) {
        writes.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
        batchSize.record(messages);
    }

    public void writeFailed() {
        writeFailures.increment();
    }

    public void recoveryFailed() {
        recoveryFailures.increment();
    }
}
