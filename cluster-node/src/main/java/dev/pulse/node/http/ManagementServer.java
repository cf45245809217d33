package dev.pulse.node.http;

import dev.pulse.node.metrics.PulseMetrics;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.management.javadsl.PekkoManagement;

/**
 * Pekko Management's HTTP server on the management port ({@code PULSE_MANAGEMENT_PORT}, bound on the
 * cluster host): {@code /alive} and {@code /ready} (an Up cluster member) for probes and load
 * balancers, {@code /metrics} for Prometheus ({@link MetricsRoute}), and the contact point of cluster
 * bootstrap.
 */
public final class ManagementServer {

    private final PekkoManagement management;

    private ManagementServer(PekkoManagement management) {
        this.management = management;
    }

    /** Binds the management routes, or fails with why. */
    public static ManagementServer start(ActorSystem<?> system, PulseMetrics metrics) {
        MetricsRoute.serve(system, metrics);
        PekkoManagement management = PekkoManagement.get(system.classicSystem());
        try {
            management.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start Pekko Management (PULSE_MANAGEMENT_PORT): " + e.getMessage(), e);
        }
        return new ManagementServer(management);
    }

    public CompletionStage<Done> stop() {
        return management.stop();
    }
}
