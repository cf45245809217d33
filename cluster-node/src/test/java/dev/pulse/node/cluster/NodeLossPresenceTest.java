package dev.pulse.node.cluster;

import static dev.pulse.node.testkit.Wire.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.PresenceStatus;
import dev.pulse.protocol.ServerFrame;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes in one JVM; users connected only to the third are shown offline to the others when
 * that node dies (its actor system stops without leaving the cluster, so the others find it
 * unreachable and down it, as after kill -9). Their user entities live on any of the three nodes:
 * those on the survivors see the node unreachable, those that died with it are woken elsewhere.
 * A user with a second session on a survivor stays online.
 */
class NodeLossPresenceTest {

    private static final Duration T = Duration.ofSeconds(20);
    private static final int GHOSTS = 12;

    @TempDir
    static Path data;
    static TestNode first;
    static TestNode second;
    static TestNode doomed;

    @BeforeAll
    static void startCluster() {
        first = TestNode.startOnPostgres(data, Map.of());
        second = TestNode.startOnPostgres(data, Map.of("PULSE_SEED_NODES", first.node().node()));
        // Stopped like a crash: no coordinated shutdown, so no graceful leave and no shard hand-off.
        // Terminating the actor system would run it twice over: directly, and from the cluster
        // daemon's stop (run-coordinated-shutdown-when-down). Then, depending on a race, its shard
        // region asked the coordinator for a graceful hand-off it never completed, and the
        // coordinator held the dead node's shards for the whole handoff-timeout (60 s): a third of the
        // users, whose entities lived there, were not shown offline within the test's 20 s.
        doomed = TestNode.startOnPostgres(data, Map.of("PULSE_SEED_NODES", first.node().node()),
            ConfigFactory.parseString("""
                pekko.coordinated-shutdown.run-by-actor-system-terminate = off
                pekko.cluster.run-coordinated-shutdown-when-down = off
                """));
        awaitUntil("3 members up", T, () -> first.client().get("/health").body().contains("\"members\":3"));
    }

    @AfterAll
    static void stopCluster() {
        for (TestNode node : new TestNode[] {second, first}) {
            if (node != null) {
                node.close();
            }
        }
    }

    private static String membership(TestNode node) {
        var state = org.apache.pekko.cluster.typed.Cluster.get(node.node().system()).state();
        StringBuilder out = new StringBuilder("members ");
        state.getMembers().forEach(member -> out.append(member.address().port().get()).append('=').append(member.status()).append(' '));
        out.append("unreachable ");
        state.getUnreachable().forEach(member -> out.append(member.address().port().get()).append('=').append(member.status()).append(' '));
        return out.append("leader ").append(state.getLeader()).toString();
    }

    /** What each user's entity (woken by the ask if it died with the node) says of its presence: which half failed. */
    private static String entityPresence(Set<String> users) {
        ClusterSharding sharding = ClusterSharding.get(first.node().system());
        return users.stream().map(user -> {
            try {
                return sharding.entityRefFor(UserEntity.ENTITY_KEY, user)
                    .<UserEntity.Presence>ask(UserEntity.GetPresence::new, Duration.ofSeconds(5))
                    .toCompletableFuture().get().toString();
            } catch (Exception failure) {
                return user + ": no answer (" + failure + ")";
            }
        }).toList().toString();
    }

    /** The room's view of {@code users} (the joined frame's members): stale, or lost on the way to the watcher? */
    private static String roomMembers(Set<String> users) {
        try (ChatPeer probe = ChatPeer.connect(first.client(), "probe", T)) {
            List<String> seen = new ArrayList<>();
            probe.join("p", "lobby").path("members").forEach(member -> {
                if (users.contains(member.path("user").asText())) {
                    seen.add(member.toString());
                }
            });
            return seen.toString();
        } catch (RuntimeException | AssertionError failure) {
            return "(no answer: " + failure + ")";
        }
    }

    @Test
    void usersOfADeadNodeAreShownOfflineAndAUserWithASessionElsewhereIsNot() {
        ChatPeer watcher = ChatPeer.connect(first.client(), "watcher", T);
        watcher.join("j", "lobby");
        List<ChatPeer> ghosts = new ArrayList<>();
        Set<String> ghostNames = new HashSet<>();
        IntStream.range(0, GHOSTS).forEach(i -> {
            ChatPeer ghost = ChatPeer.connect(doomed.client(), "ghost" + i, T);
            ghost.join("j", "lobby");
            ghosts.add(ghost);
            ghostNames.add("ghost" + i);
        });
        ChatPeer phone = ChatPeer.connect(doomed.client(), "roamer", T);
        phone.join("j", "lobby");
        ChatPeer laptop = ChatPeer.connect(second.client(), "roamer", T);
        laptop.join("j", "lobby");

        watcher.sync();
        System.out.println("[node-loss] before the kill: " + watcher.takePending());
        long killed = System.nanoTime();
        doomed.node().system().terminate();

        Set<String> offline = new HashSet<>();
        try {
            while (!offline.containsAll(ghostNames)) {
                ServerFrame.Presence presence = watcher.expectPush(ServerFrame.Presence.class,
                    p -> PresenceStatus.OFFLINE.equals(p.status()), T);
                assertThat(presence.user()).as("only the users of the dead node go offline").isNotEqualTo("roamer");
                offline.add(presence.user());
            }
        } catch (AssertionError e) {
            // Once in CI no push came at all and nothing was logged after the split brain resolver's
            // decision: say what membership the survivors had then.
            Set<String> missing = new HashSet<>(ghostNames);
            missing.removeAll(offline);
            throw new AssertionError(e.getMessage() + "; shown offline so far: " + offline + "; the missing users' entities say "
                + entityPresence(missing) + "; the room's members as a new session on the first node sees them "
                + roomMembers(missing) + "; membership "
                + (System.nanoTime() - killed) / 1_000_000 + " ms after the kill, as the first survivor sees it: "
                + membership(first) + "; as the second sees it: " + membership(second), e);
        }
        System.out.printf("[node-loss] %d users of the dead node shown offline %d ms after it died%n",
            GHOSTS, (System.nanoTime() - killed) / 1_000_000);
        // Not asserted yet: a user of the dead node was once pushed online again after offline (issue 9).
        watcher.expectNoPush("presence", p -> p.path("user").asText().equals("roamer"), Duration.ofSeconds(2));
        System.out.println("[node-loss] after the kill: " + watcher.received());
        watcher.close();
        laptop.close();
    }
}
