package dev.pulse.node.cluster;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives every shard of the given regions a home as soon as this node is Up, before clients come, and
 * says ready ({@code /ready}, through {@link ReadinessCheck}) once it sees them all started.
 * <p>
 * Without it a shard gets its home from the coordinator when its first message arrives, and each
 * first home is a coordinator write to every node of a small cluster, one at a time. On an idle
 * cluster 200 of them take about a second; on three cold nodes taking a connect storm they came one
 * every ~2 s, and sockets were refused for minutes (issue 9, a 51,000-socket run). It runs only where
 * the cluster's size is known when it forms: a node alone by design (no seeds, no discovery), or
 * {@code PULSE_MIN_MEMBERS} (Pekko's {@code min-nr-of-members}) set to the cluster's size, which spreads
 * the homes over all its nodes at once. A node that warmed up while alone in a cluster meant to grow
 * would home every shard and hand them all off when it leaves (a rolling restart's first node).
 * <p>
 * A shard's home is asked for by starting one entity in it, with an id no client can name
 * ({@link #entityIdIn}: a {@code ~} is in neither user names nor room ids). Such a room recovers
 * empty and passivates when idle, as any room; such a user goes when its idle timer fires. (The
 * region's own restart-shard message would start no entity, but it is private to Pekko.)
 */
public final class ShardWarmup implements Extension {

    private static final Logger LOG = LoggerFactory.getLogger(ShardWarmup.class);
    /** How often the cluster's shards are counted (and missing ones asked for again). */
    private static final Duration ROUND = Duration.ofSeconds(1);
    /** After this long the node says ready anyway: a region that does not answer must not hold readiness for good. */
    private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(20);

    public static final ExtensionId<ShardWarmup> ID = new ExtensionId<>() {
        @Override
        public ShardWarmup createExtension(ActorSystem<?> system) {
            return new ShardWarmup();
        }
    };

    private final CompletableFuture<Done> done = new CompletableFuture<>();

    public static ShardWarmup get(ActorSystem<?> system) {
        return ID.apply(system);
    }

    public boolean isDone() {
        return done.isDone();
    }

    public CompletionStage<Done> whenDone() {
        return done;
    }

    /** No warm-up: shards get their homes with their first messages, and readiness does not wait. */
    public void skip() {
        done.complete(Done.getInstance());
    }

    /** Once this node is Up, asks for the homes of shards {@code 0 … numberOfShards-1} of each region. */
    public void start(ActorSystem<?> system, List<EntityTypeKey<?>> regions, int numberOfShards) {
        Cluster.get(Adapter.toClassic(system)).registerOnMemberUp(() -> {
            long startedAt = System.nanoTime();
            round(system, regions, numberOfShards, startedAt);
        });
    }

    private void round(ActorSystem<?> system, List<EntityTypeKey<?>> regions, int numberOfShards, long startedAt) {
        List<CompletableFuture<Integer>> missing = regions.stream()
            .map(key -> warm(system, key, numberOfShards).toCompletableFuture()).toList();
        CompletableFuture.allOf(missing.toArray(CompletableFuture[]::new)).whenComplete((ok, failure) -> {
            int stillMissing = failure != null ? -1 : missing.stream().mapToInt(CompletableFuture::join).sum();
            long millis = (System.nanoTime() - startedAt) / 1_000_000;
            if (stillMissing == 0) {
                LOG.info("Shards ready: {} shards in each of {} regions have a home ({} ms)", numberOfShards,
                    regions.size(), millis);
                done.complete(Done.getInstance());
            } else if (millis >= GIVE_UP_AFTER.toMillis()) {
                LOG.info("Shards: {} not seen started after {} ms; ready anyway (they get a home with their first message)",
                    stillMissing < 0 ? "some" : stillMissing, millis);
                done.complete(Done.getInstance());
            } else {
                system.scheduler().scheduleOnce(ROUND, () -> round(system, regions, numberOfShards, startedAt),
                    system.executionContext());
            }
        });
    }

    /** Asks the local region for each shard not yet seen started in the cluster; says how many were missing. */
    private static CompletionStage<Integer> warm(ActorSystem<?> system, EntityTypeKey<?> key, int numberOfShards) {
        ActorRef region = org.apache.pekko.cluster.sharding.ClusterSharding.get(Adapter.toClassic(system))
            .shardRegion(key.name());
        return AskPattern.<ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(ClusterSharding.get(system).shardState(),
                replyTo -> new GetClusterShardingStats(key, ROUND, replyTo), ROUND.multipliedBy(2), system.scheduler())
            .thenApply(stats -> {
                Set<String> started = new HashSet<>();
                stats.getRegions().values().forEach(regionStats -> started.addAll(regionStats.getStats().keySet()));
                int missing = 0;
                for (int shard = 0; shard < numberOfShards; shard++) {
                    String id = Integer.toString(shard);
                    if (!started.contains(id)) {
                        missing++;
                        region.tell(new ShardRegion.StartEntity(entityIdIn(shard, numberOfShards)), ActorRef.noSender());
                    }
                }
                return missing;
            });
    }

    /**
     * An entity id in shard {@code shard} of {@code numberOfShards} under Pekko's default extractor,
     * which no user or room can have.
     */
    static String entityIdIn(int shard, int numberOfShards) {
        HashCodeMessageExtractor<Object> extractor = new HashCodeMessageExtractor<>(numberOfShards);
        String wanted = Integer.toString(shard);
        for (int n = 0; ; n++) {
            String id = "~warm-" + shard + "-" + n;
            if (extractor.shardId(id).equals(wanted)) {
                return id;
            }
        }
    }

    /** Pekko Management readiness check ({@code pekko.management.health-checks.readiness-checks}). */
    public static final class ReadinessCheck implements Supplier<CompletionStage<Boolean>> {

        private final ShardWarmup warmup;

        public ReadinessCheck(org.apache.pekko.actor.ActorSystem system) {
            this.warmup = ShardWarmup.get(Adapter.toTyped(system));
        }

        @Override
        public CompletionStage<Boolean> get() {
            return CompletableFuture.completedFuture(warmup.isDone());
        }
    }
}
