package dev.pulse.node.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.faults.FaultProxy;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A post crosses the network once per node with subscribers, not once per member: the room sends
 * each committed batch once to each node's hub, which fans it out to its local sessions.
 *
 * <p>Counted on the wire. Two nodes in this JVM on one PostgreSQL; node B's cluster (Artery) port is
 * behind a {@link FaultProxy}: B advertises the proxy's port as its canonical address and binds the
 * real one, so everything node A sends to B (every Artery connection A opens to B) passes the proxy,
 * which counts the bytes. The room lives on A (chosen by asking A's shard region which rooms it
 * hosts); its poster is on A and its other members on B. The same {@link #POSTS} posts of
 * {@link #TEXT_CHARS} characters are sent into a room with one member on B and into a room with
 * {@link #MEMBERS} members on B. Per node, both cost about POSTS × TEXT_CHARS bytes into B; per
 * member, the second would cost {@value #MEMBERS} times as much.
 */
class CrossNodeFanOutTest {

    private static final Duration T = Duration.ofSeconds(30);
    static final int MEMBERS = 50;
    static final int POSTS = 20;
    static final int TEXT_CHARS = 3000;

    @TempDir
    static Path data;

    static FaultProxy intoB;
    static TestNode a;
    static TestNode b;
    static ChatPeer poster;
    static int candidate;

    @BeforeAll
    static void startCluster() throws Exception {
        int bBindPort = TestNode.freePort();
        intoB = FaultProxy.to(bBindPort);
        // the poster sends 2 × POSTS at once: more than the per-user rate limit lets through
        a = TestNode.startOnPostgres(data, Map.of(), ConfigFactory.parseString("pulse.limits.send-burst = 1000"));
        b = TestNode.startOnPostgres(data,
            Map.of("PULSE_SEED_NODES", a.node().node(), "PULSE_CLUSTER_PORT", Integer.toString(intoB.port())),
            ConfigFactory.parseString("pekko.remote.artery.bind.port = " + bBindPort));
        Wire.awaitUntil("/health of node B reports 2 members", T,
            () -> b.client().get("/health").body().contains("\"members\":2"));
        assertThat(b.node().node()).as("B's address is the proxy's").endsWith(":" + intoB.port());
        poster = ChatPeer.connect(a.client(), "poster", T);
    }

    @AfterAll
    static void stopCluster() {
        if (poster != null) {
            poster.close();
        }
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
        if (intoB != null) {
            intoB.close();
        }
    }

    @Test
    void aPostCrossesToAnotherNodeOncePerNodeNotOncePerMember() throws Exception {
        long one = bytesIntoB(1);
        long fifty = bytesIntoB(MEMBERS);
        long payload = (long) POSTS * TEXT_CHARS;
        System.out.printf("CrossNodeFanOutTest: %d posts of %d chars from node A: %,d bytes into node B with 1 member there, "
                + "%,d bytes with %d members there (%.2f x; one copy per member would be ~%,d)%n",
            POSTS, TEXT_CHARS, one, fifty, MEMBERS, (double) fifty / one, payload * MEMBERS);

        assertThat(one).as("bytes into B with 1 member on B: the posts crossed through the proxy").isGreaterThanOrEqualTo(payload);
        assertThat(fifty).as("bytes into B with %d members on B", MEMBERS).isGreaterThanOrEqualTo(payload);
        assertThat(fifty).as("bytes into B with %d members on B: about those with 1 member (per node), not %d times them (per member)",
            MEMBERS, MEMBERS).isLessThan(3 * one);
    }

    /**
     * A new room on A with {@code members} members on B and the poster on A; {@link #POSTS} posts, each
     * acked and received by every member; the bytes the proxy forwarded into B meanwhile.
     */
    private static long bytesIntoB(int members) throws Exception {
        String room = roomOnA();
        List<ChatPeer> onB = new ArrayList<>();
        try {
            for (int m = 0; m < members; m++) {
                ChatPeer member = ChatPeer.connect(b.client(), "m" + members + "-" + m, T);
                onB.add(member);
                member.join("j", room);
            }
            String text = "x".repeat(TEXT_CHARS);
            long before = intoB.bytesToUpstream();
            for (int i = 1; i <= POSTS; i++) {
                poster.send(new ClientFrame.Send("s" + i, room, room + "-" + i, text));
                poster.expectReply("s" + i, ServerFrame.Ack.class);
            }
            for (ChatPeer member : onB) {
                List<JsonNode> got = member.expectMessages(room, POSTS);
                assertThat(got).extracting(m -> m.path("seq").asLong()).as(member.user()).isSorted().hasSize(POSTS);
            }
            long bytes = intoB.bytesToUpstream() - before;
            assertThat(entitiesOn(a)).as("the room stayed on A").contains(room);
            return bytes;
        } finally {
            onB.forEach(ChatPeer::close);
        }
    }

    /** A room whose entity lives on A: the poster joins candidates until one starts on A. */
    private static String roomOnA() throws Exception {
        for (int attempt = 0; attempt < 40; attempt++) {
            String room = "fanout-" + candidate++;
            poster.join("j-" + room, room);
            if (entitiesOn(a).contains(room)) {
                return room;
            }
        }
        throw new AssertionError("no room landed on node A in 40 attempts");
    }

    /** The room entities node's shard region hosts now. */
    private static List<String> entitiesOn(TestNode node) throws Exception {
        ActorSystem<?> system = node.node().system();
        ShardRegion.CurrentShardRegionState state = AskPattern.<ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
                ClusterSharding.get(system).shardState(),
                replyTo -> new GetShardRegionState(RoomEntity.ENTITY_KEY, replyTo), T, system.scheduler())
            .toCompletableFuture().get();
        List<String> ids = new ArrayList<>();
        state.getShards().forEach(shard -> ids.addAll(shard.getEntityIds()));
        return ids;
    }
}
