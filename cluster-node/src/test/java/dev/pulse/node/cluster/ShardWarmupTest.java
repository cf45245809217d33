package dev.pulse.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pulse.node.TestNode;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.testkit.Wire;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.client.PulseClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new cluster gives every shard a home before it says ready, spread over its nodes when it was told
 * its size ({@code PULSE_MIN_MEMBERS}): no client's first message waits for a coordinator write.
 */
class ShardWarmupTest {

    private static final Duration T = Duration.ofSeconds(60);
    private static final int SHARDS = 100;

    @TempDir
    Path data;
    private TestNode first;
    private TestNode second;

    @AfterEach
    void stop() {
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
    }

    @Test
    void aNewClusterOfTwoHomesEveryShardOnBothNodesBeforeItIsReady() {
        first = TestNode.startOnPostgres(data, Map.of("PULSE_MIN_MEMBERS", "2"));
        // Alone, the first node is not Up (it waits for a second member), so it is not ready either.
        assertThat(ready(first)).as("/ready of a node waiting for its second member").isFalse();
        second = TestNode.startOnPostgres(data, Map.of("PULSE_MIN_MEMBERS", "2", "PULSE_SEED_NODES", first.node().node()));

        Wire.awaitUntil("both nodes are ready", T, () -> ready(first) && ready(second));

        for (EntityTypeKey<?> key : new EntityTypeKey<?>[] {RoomEntity.ENTITY_KEY, UserEntity.ENTITY_KEY}) {
            Map<Address, Set<String>> shardsByNode = shardsByNode(key);
            Set<String> all = new HashSet<>();
            shardsByNode.values().forEach(all::addAll);
            assertThat(all).as("%s shards started in the cluster, before any client", key.name()).hasSize(SHARDS);
            assertThat(shardsByNode).as("%s shards per node", key.name()).hasSize(2);
            shardsByNode.values().forEach(shards ->
                assertThat(shards.size()).as("%s shards on one node of two", key.name()).isBetween(SHARDS / 4, SHARDS * 3 / 4));
        }
    }

    @Test
    void entityIdsForWarmingLandInTheirShardAndAreNoNameAClientCanUse() {
        for (int shard = 0; shard < SHARDS; shard++) {
            String id = ShardWarmup.entityIdIn(shard, SHARDS);
            assertThat(new org.apache.pekko.cluster.sharding.typed.HashCodeMessageExtractor<>(SHARDS).shardId(id))
                .isEqualTo(Integer.toString(shard));
            assertThat(dev.pulse.protocol.Names.isValidUser(id)).isFalse();
            assertThat(dev.pulse.protocol.Names.isValidRoom(id)).isFalse();
        }
    }

    private static boolean ready(TestNode node) {
        return new PulseClient(URI.create("http://127.0.0.1:" + node.managementPort())).get("/ready").statusCode() == 200;
    }

    private Map<Address, Set<String>> shardsByNode(EntityTypeKey<?> key) {
        var system = first.node().system();
        ShardRegion.ClusterShardingStats stats = AskPattern.<ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
                ClusterSharding.get(system).shardState(),
                replyTo -> new GetClusterShardingStats(key, Duration.ofSeconds(5), replyTo), Duration.ofSeconds(10),
                system.scheduler())
            .toCompletableFuture().join();
        Map<Address, Set<String>> byNode = new HashMap<>();
        stats.getRegions().forEach((address, regionStats) -> byNode.put(address, regionStats.getStats().keySet()));
        return byNode;
    }
}
