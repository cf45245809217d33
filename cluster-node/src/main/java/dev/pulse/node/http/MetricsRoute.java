package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import dev.pulse.node.metrics.PulseMetrics;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.ExtensionId;
import org.apache.pekko.actor.ExtensionIdProvider;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on the management port: the node's {@link PulseMetrics} in Prometheus text.
 * Pekko Management builds its routes from providers named in configuration
 * ({@code pekko.management.http.routes}, see http.conf), so this route is an actor-system extension
 * that the wiring hands the node's metrics to ({@link #serve}) before management starts.
 */
public final class MetricsRoute implements ManagementRouteProvider {

    /** The extension's id; named (as its {@link Provider}) in configuration. */
    public static final ExtensionId<MetricsRoute> ID = new Provider();

    /** How Pekko Management finds the extension: a class with a no-argument constructor. */
    public static final class Provider extends AbstractExtensionId<MetricsRoute> implements ExtensionIdProvider {
        @Override
        public MetricsRoute createExtension(ExtendedActorSystem system) {
            return new MetricsRoute();
        }

        @Override
        public ExtensionId<MetricsRoute> lookup() {
            return ID;
        }
    }

    private final AtomicReference<PulseMetrics> metrics = new AtomicReference<>();

    private MetricsRoute() {}

    /** Serves {@code metrics} at /metrics of {@code system}'s management port. */
    public static void serve(ActorSystem<?> system, PulseMetrics metrics) {
        ID.get(system.classicSystem()).metrics.set(metrics);
    }

    @Override
    public Route routes(ManagementRouteProviderSettings settings) {
        return path("metrics", () -> get(() -> {
            PulseMetrics served = metrics.get();
            if (served == null) {
                return complete(StatusCodes.SERVICE_UNAVAILABLE, "metrics are not set up yet");
            }
            return complete(StatusCodes.OK, HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, served.scrape()));
        }));
    }
}
