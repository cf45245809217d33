package dev.pulse.node.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The node's one metrics registry, Prometheus-backed, and the instruments the layers record into.
 * Created by the wiring and handed down: {@link #clients()} to sessions, {@link #journal()} to rooms;
 * the transport, cluster and sharding gauges are read only when Prometheus scrapes ({@link #scrape()}).
 */
public final class PulseMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final ClientMetrics clients;
    private final JournalMetrics journal;

    public PulseMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        clients = new ClientMetrics(registry);
        journal = new JournalMetrics(registry);
    }

    public ClientMetrics clients() {
        return clients;
    }

    public JournalMetrics journal() {
        return journal;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The transport's open sockets and their outbound queues, read at scrape time. */
    public void watchSockets(SocketStats sockets) {
        Gauge.builder("pulse.sockets.open", sockets, SocketStats::open)
            .description("WebSockets open on this node").register(registry);
        Gauge.builder("pulse.outbound.queued.frames", sockets, SocketStats::queuedFrames)
            .description("frames queued for clients and not yet written, over all sockets").register(registry);
        Gauge.builder("pulse.outbound.queue.max.frames", sockets, SocketStats::maxQueuedFrames)
            .description("the longest outbound queue of one socket").register(registry);
    }

    /** Prometheus text exposition format (version 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }

    /** Unhooks the GC listeners (several nodes may live and die in one JVM, as in tests). */
    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
