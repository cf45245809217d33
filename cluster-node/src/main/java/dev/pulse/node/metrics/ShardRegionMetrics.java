package dev.pulse.node.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * Entities (rooms, users) and shards this node hosts per shard region. Asking a region walks its
 * shards, so it is asked every {@code interval}, never per message or per scrape; the gauges show the
 * last answer.
 */
public final class ShardRegionMetrics {

    private record Counts(AtomicLong entities, AtomicLong shards) {}

    private ShardRegionMetrics() {}

    /** {@code regions}: the name to show (e.g. "room") and the entity type of each region. */
    public static void bind(ActorSystem<?> system, Map<String, EntityTypeKey<?>> regions, Duration interval,
                            MeterRegistry registry) {
        ClusterSharding sharding = ClusterSharding.get(system);
        regions.forEach((name, key) -> {
            Counts counts = new Counts(new AtomicLong(), new AtomicLong());
            Gauge.builder("pulse.shard.region.entities", counts.entities(), AtomicLong::get).tag("region", name)
                .description("entities this node hosts in the region").register(registry);
            Gauge.builder("pulse.shard.region.shards", counts.shards(), AtomicLong::get).tag("region", name)
                .description("shards this node hosts in the region").register(registry);
            system.scheduler().scheduleWithFixedDelay(Duration.ZERO, interval,
                () -> poll(system, sharding, key, interval, counts), system.executionContext());
        });
    }

    private static void poll(ActorSystem<?> system, ClusterSharding sharding, EntityTypeKey<?> key, Duration timeout,
                             Counts counts) {
        AskPattern.<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
                sharding.shardState(), replyTo -> new GetShardRegionState(key, replyTo), timeout, system.scheduler())
            .thenAccept(state -> {
                long entities = 0;
                for (ShardRegion.ShardState shard : state.getShards()) {
                    entities += shard.getEntityIds().size();
                }
                counts.entities().set(entities);
                counts.shards().set(state.getShards().size());
            });
    }
}
