package dev.pulse.node.e2e;

import static dev.pulse.node.testkit.Wire.awaitUntil;
import static dev.pulse.node.testkit.Wire.fields;
import static dev.pulse.node.testkit.Wire.iso;
import static dev.pulse.node.testkit.Wire.json;
import static dev.pulse.node.testkit.Wire.pause;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box tests of presence in the wire contract (PROTOCOL.md): presence pushed to room members,
 * several sessions per user, the presence query, the heartbeat bound, dropped connections and the
 * member list of {@code joined}. Real nodes, real sockets.
 */
class PresenceE2ETest {

    private static final Duration T = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int FAST_HEARTBEAT_MS = 400;

    @TempDir
    static Path defaultData;
    @TempDir
    static Path fastData;

    /** Default settings (heartbeat 15 s). */
    private static TestNode node;
    /** PULSE_HEARTBEAT_MS=400: sessions silent for 1 s are closed. */
    private static TestNode fastBeat;

    private final List<ChatPeer> opened = new ArrayList<>();
    private final List<Pinger> pingers = new ArrayList<>();

    @BeforeAll
    static void startNodes() {
        node = TestNode.start(defaultData);
        fastBeat = TestNode.start(fastData, Map.of("PULSE_HEARTBEAT_MS", String.valueOf(FAST_HEARTBEAT_MS)));
    }

    @AfterAll
    static void stopNodes() {
        if (node != null) {
            node.close();
        }
        if (fastBeat != null) {
            fastBeat.close();
        }
    }

    @AfterEach
    void closeConnections() {
        pingers.forEach(Pinger::close);
        pingers.clear();
        opened.forEach(ChatPeer::close);
        opened.clear();
    }

    private ChatPeer connect(TestNode on, String user) {
        ChatPeer peer = ChatPeer.connect(on.client(), user, T);
        opened.add(peer);
        return peer;
    }

    private ChatPeer connectAndJoin(TestNode on, String user, String room) {
        ChatPeer peer = connect(on, user);
        join(peer, room);
        return peer;
    }

    private static ServerFrame.Joined join(ChatPeer peer, String room) {
        String ref = "join-" + REFS.incrementAndGet();
        peer.send(new ClientFrame.Join(ref, room, null));
        return peer.expectReply(ref, ServerFrame.Joined.class);
    }

    // ================================================================== 1. push on disconnect and rejoin

    @Test
    void memberSeesOfflineWithLastSeenOnCloseAndOnlineAgainOnRejoin() {
        String room = "presence-rejoin";
        ChatPeer alice = connectAndJoin(node, "p1-alice", room);
        ChatPeer bob = connectAndJoin(node, "p1-bob", room);

        Instant beforeClose = Instant.now();
        bob.close();
        awaitOfflinePush(alice, "p1-bob", beforeClose);

        ChatPeer bobAgain = connectAndJoin(node, "p1-bob", room);
        JsonNode online = alice.expectPush("presence", presence("p1-bob", "online"));
        assertThat(online).as("online presence carries no lastSeen")
            .isEqualTo(json("{\"type\":\"presence\",\"user\":\"p1-bob\",\"status\":\"online\"}"));
        assertThat(bobAgain.isOpen()).isTrue();
    }

    // ================================================================== 2. several sessions

    @Test
    void userWithTwoSessionsStaysOnlineUntilBothAreGone() {
        String room = "presence-two-sessions";
        ChatPeer alice = connectAndJoin(node, "p2-alice", room);
        ChatPeer bob1 = connectAndJoin(node, "p2-bob", room);
        ChatPeer bob2 = connectAndJoin(node, "p2-bob", room);

        bob1.close();
        // Nothing to await here: the absence of a change is only observable over a window. bob still
        // has a live session.
        alice.expectNoPush("presence", presence("p2-bob", "offline"), Duration.ofMillis(1500));
        assertThat(presenceOf(alice, "p2-bob").status()).isEqualTo("online");
        assertThat(bob2.isOpen()).isTrue();

        Instant beforeClose = Instant.now();
        bob2.close();
        ServerFrame.Presence offline = alice.expectPush(ServerFrame.Presence.class,
            p -> p.user().equals("p2-bob") && "offline".equals(p.status()));
        assertLastSeenBetween(JSON.getNodeFactory().textNode(offline.lastSeen()), beforeClose, Instant.now());
        ServerFrame.Member queried = presenceOf(alice, "p2-bob");
        assertThat(queried.status()).isEqualTo("offline");
        assertThat(queried.lastSeen()).isNotNull();
    }

    // ================================================================== 3. presence query

    @Test
    void presenceQueryAnswersOnlineOfflineWithLastSeenAndNeverSeenUsers() {
        connect(node, "pq-on");
        Instant beforeClose = Instant.now();
        ChatPeer off = connect(node, "pq-off");
        off.close();
        ChatPeer asker = connect(node, "pq-asker");
        awaitUntil("pq-off is reported offline after its only socket closed", T,
            () -> "offline".equals(presenceOf(asker, "pq-off").status()));
        Instant afterOffline = Instant.now();

        asker.sendRaw("{\"type\":\"presence\",\"ref\":\"q-all\",\"users\":[\"pq-on\",\"pq-off\",\"pq-never-seen\",\"pq-asker\"]}");
        JsonNode answer = asker.expectReply("q-all");

        assertThat(fields(answer)).as("answer %s", answer).containsExactlyInAnyOrder("type", "ref", "users");
        assertThat(answer.get("type").textValue()).isEqualTo("presence");
        JsonNode users = answer.get("users");
        assertThat(users.isArray()).isTrue();
        assertThat(users).as("one entry per user asked, in the order asked").hasSize(4);
        assertThat(users.get(0)).isEqualTo(json("{\"user\":\"pq-on\",\"status\":\"online\"}"));
        assertThat(fields(users.get(1))).containsExactlyInAnyOrder("user", "status", "lastSeen");
        assertThat(users.get(1).get("user").textValue()).isEqualTo("pq-off");
        assertThat(users.get(1).get("status").textValue()).isEqualTo("offline");
        assertLastSeenBetween(users.get(1).get("lastSeen"), beforeClose, afterOffline);
        assertThat(users.get(2)).as("a user never seen is offline, with no lastSeen")
            .isEqualTo(json("{\"user\":\"pq-never-seen\",\"status\":\"offline\"}"));
        assertThat(users.get(3)).isEqualTo(json("{\"user\":\"pq-asker\",\"status\":\"online\"}"));
    }

    @Test
    void presenceQueryWithInvalidUserNamesIsInvalid() {
        ChatPeer c = connect(node, "pq-invalid");
        List<String> bad = List.of(
            "{\"type\":\"presence\",\"ref\":\"%s\",\"users\":[\"Bob\"]}",
            "{\"type\":\"presence\",\"ref\":\"%s\",\"users\":[\"bob\",\"no way\"]}",
            "{\"type\":\"presence\",\"ref\":\"%s\",\"users\":[\"abcdefghijklmnopqrstuvwxyz0123456\"]}",
            "{\"type\":\"presence\",\"ref\":\"%s\",\"users\":[\"\"]}",
            "{\"type\":\"presence\",\"ref\":\"%s\",\"users\":[42]}",
            "{\"type\":\"presence\",\"ref\":\"%s\",\"users\":[null]}",
            "{\"type\":\"presence\",\"ref\":\"%s\",\"users\":\"bob\"}",
            "{\"type\":\"presence\",\"ref\":\"%s\"}");
        for (int i = 0; i < bad.size(); i++) {
            String ref = "bad-" + i;
            String frame = String.format(bad.get(i), ref);
            c.sendRaw(frame);
            JsonNode error = c.expectReply(ref);
            assertThat(error.path("type").textValue()).as("answer to %s: %s", frame, error).isEqualTo("error");
            assertThat(error.path("code").textValue()).as("answer to %s: %s", frame, error).isEqualTo("invalid");
            assertThat(c.isOpen()).isTrue();
        }
        assertThat(presenceOf(c, "pq-invalid").status()).as("the socket still answers").isEqualTo("online");
    }

    // ================================================================== 4. heartbeat

    @Test
    void clientThatPingsEvery200msStaysConnected() {
        ChatPeer c = connect(fastBeat, "hb-pinger");
        JsonNode welcome = c.welcome();
        assertThat(welcome.path("type").textValue()).isEqualTo("welcome");
        assertThat(welcome.path("heartbeatMs").isIntegralNumber()).isTrue();
        assertThat(welcome.path("heartbeatMs").longValue()).isEqualTo(FAST_HEARTBEAT_MS);

        long start = System.nanoTime();
        int pings = 0;
        while (System.nanoTime() - start < Duration.ofSeconds(3).toNanos()) {
            long sent = System.nanoTime();
            String ref = "hb-" + (++pings);
            c.send(new ClientFrame.Ping(ref));
            c.expectReply(ref, ServerFrame.Pong.class, Duration.ofSeconds(2));
            pace(sent, Duration.ofMillis(200));
        }
        assertThat(pings).isGreaterThanOrEqualTo(10);
        assertThat(c.isOpen()).as("socket open after 3 s of pings every 200 ms; closed: %s",
            c.closed().getNow(null)).isTrue();
        c.send(new ClientFrame.Ping("last"));
        c.expectReply("last", ServerFrame.Pong.class);
    }

    @Test
    void silentClientIsClosedAfterTwoAndAHalfHeartbeatsAndMembersSeeItOffline() {
        String room = "hb-room";
        ChatPeer alice = connectAndJoin(fastBeat, "hb-alice", room);
        pingers.add(new Pinger(alice, Duration.ofMillis(150)));

        ChatPeer carol = connect(fastBeat, "hb-carol");
        long lastFrame = System.nanoTime(); // taken before carol's last frame, so the server heard it later
        carol.send(new ClientFrame.Join("j", room, null));
        carol.expectReply("j", ServerFrame.Joined.class);

        PulseConnection.Closed closed = carol.expectClosed(Duration.ofSeconds(6));
        long silentMs = (System.nanoTime() - lastFrame) / 1_000_000;

        assertThat(silentMs).as("closed after %d ms of silence; 2.5 x %d ms = 1000 ms", silentMs, FAST_HEARTBEAT_MS)
            .isGreaterThan(1000).isLessThan(3000);
        assertThat(closed.code()).as("a close frame with a code, not a dropped connection: %s", closed)
            .isNotEqualTo(1006);
        assertThat(closed.reason()).as("close reason").isNotBlank();

        ServerFrame.Presence offline = alice.expectPush(ServerFrame.Presence.class,
            p -> p.user().equals("hb-carol") && "offline".equals(p.status()), Duration.ofSeconds(3));
        assertThat(offline.lastSeen()).isNotNull();
        assertThat(alice.isOpen()).as("the pinging member is still connected").isTrue();
    }

    // ================================================================== 5. dropped connection

    @Test
    void userWhoseConnectionDropsIsSeenOffline() {
        String room = "presence-dropped";
        ChatPeer alice = connectAndJoin(node, "p5-alice", room);
        ChatPeer eve = connectAndJoin(node, "p5-eve", room);

        Instant beforeDrop = Instant.now();
        eve.abort();

        // The TCP connection is closed without a WebSocket close; the node sees the socket end at once
        // (well inside the 2.5 x 15 s heartbeat bound that covers connections that vanish silently).
        awaitOfflinePush(alice, "p5-eve", beforeDrop);
        assertThat(presenceOf(alice, "p5-eve").status()).isEqualTo("offline");
    }

    // ================================================================== 6. joined.members

    @Test
    void joinedListsMembersWithTheirStatusIncludingOfflineOnes() {
        String room = "presence-members";
        ChatPeer dave = connectAndJoin(node, "p6-dave", room);
        ChatPeer alice = connect(node, "p6-alice");
        ServerFrame.Joined aliceJoined = join(alice, room);
        assertThat(aliceJoined.members()).as("members seen by alice's join")
            .contains(new ServerFrame.Member("p6-dave", "online", null));

        Instant beforeClose = Instant.now();
        dave.close();
        alice.expectPush(ServerFrame.Presence.class, p -> p.user().equals("p6-dave") && "offline".equals(p.status()));
        Instant afterOffline = Instant.now();

        ChatPeer erin = connect(node, "p6-erin");
        erin.sendRaw("{\"type\":\"join\",\"ref\":\"erin-join\",\"room\":\"" + room + "\"}");
        JsonNode joined = erin.expectReply("erin-join");

        assertThat(joined.path("type").textValue()).as("answer %s", joined).isEqualTo("joined");
        JsonNode members = joined.get("members");
        assertThat(members != null && members.isArray()).as("members in %s", joined).isTrue();
        List<String> names = new ArrayList<>();
        members.forEach(m -> names.add(m.path("user").textValue()));
        assertThat(names).as("members of %s", room).doesNotHaveDuplicates().contains("p6-alice", "p6-dave");
        for (JsonNode member : members) {
            switch (member.path("user").textValue()) {
                case "p6-alice" -> assertThat(member).isEqualTo(json("{\"user\":\"p6-alice\",\"status\":\"online\"}"));
                case "p6-dave" -> {
                    assertThat(fields(member)).as("offline member %s", member)
                        .containsExactlyInAnyOrder("user", "status", "lastSeen");
                    assertThat(member.get("status").textValue()).isEqualTo("offline");
                    assertLastSeenBetween(member.get("lastSeen"), beforeClose, afterOffline);
                }
                default -> assertThat(member.path("status").textValue()).isIn("online", "offline", "away");
            }
        }
    }

    // ================================================================== unknown names

    /**
     * Asking about names nobody uses answers offline and keeps nothing (issue 12: 200 queries of 100
     * made-up names left 20,000 user entities, ~46 MB, for two minutes). A user who is connected keeps
     * their entity.
     */
    @Test
    void presenceOfNamesNobodyUsesLeavesNoEntityBehind() {
        ChatPeer asker = connect(node, "asker-of-ghosts");
        List<String> madeUp = new ArrayList<>();
        for (int batch = 0; batch < 2; batch++) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                names.add("nobody-" + batch + "-" + i);
            }
            madeUp.addAll(names);
            String ref = "ghosts-" + batch;
            asker.send(new ClientFrame.PresenceQuery(ref, names));
            ServerFrame.PresenceList answer = asker.expectReply(ref, ServerFrame.PresenceList.class);
            assertThat(answer.users()).hasSize(100).allSatisfy(member -> {
                assertThat(member.status()).isEqualTo("offline");
                assertThat(member.lastSeen()).isNull();
            });
        }
        awaitUntil("no entity left for the 200 made-up names", Duration.ofSeconds(15),
            () -> userEntitiesOn(node).stream().noneMatch(madeUp::contains));
        assertThat(userEntitiesOn(node)).as("the asker's own entity stays").contains("asker-of-ghosts");
    }

    /** The user entities the node hosts now. */
    private static Set<String> userEntitiesOn(TestNode on) {
        ActorSystem<Void> system = on.node().system();
        ShardRegion.CurrentShardRegionState state = AskPattern.<ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
            ClusterSharding.get(system).shardState(),
            replyTo -> new GetShardRegionState(UserEntity.ENTITY_KEY, replyTo),
            Duration.ofSeconds(5), system.scheduler()).toCompletableFuture().join();
        Set<String> ids = new HashSet<>();
        state.getShards().forEach(shard -> ids.addAll(shard.getEntityIds()));
        return ids;
    }

    // ================================================================== helpers

    private static final AtomicLong REFS = new AtomicLong();

    /** Asks the node for one user's presence over {@code c}. */
    private static ServerFrame.Member presenceOf(ChatPeer c, String user) {
        String ref = "q-" + REFS.incrementAndGet();
        c.send(new ClientFrame.PresenceQuery(ref, List.of(user)));
        ServerFrame.PresenceList answer = c.expectReply(ref, ServerFrame.PresenceList.class);
        assertThat(answer.users()).as("presence of %s", user).hasSize(1);
        assertThat(answer.users().get(0).user()).isEqualTo(user);
        return answer.users().get(0);
    }

    private static Predicate<JsonNode> presence(String user, String status) {
        return f -> "presence".equals(f.path("type").textValue()) && user.equals(f.path("user").textValue())
            && status.equals(f.path("status").textValue());
    }

    /**
     * Awaits the push telling {@code watcher} that {@code user} went offline: exactly type, user, status
     * and a lastSeen between {@code since} and the push's arrival.
     */
    private static void awaitOfflinePush(ChatPeer watcher, String user, Instant since) {
        JsonNode offline = watcher.expectPush("presence", presence(user, "offline"));
        Instant arrived = Instant.now();
        assertThat(fields(offline)).containsExactlyInAnyOrder("type", "user", "status", "lastSeen");
        assertLastSeenBetween(offline.get("lastSeen"), since, arrived);
    }

    private static void assertLastSeenBetween(JsonNode lastSeen, Instant from, Instant to) {
        assertThat(lastSeen != null && lastSeen.isTextual()).as("lastSeen is a string: %s", lastSeen).isTrue();
        Instant seen = iso(lastSeen.textValue());
        // One clock, but the server may round to its own precision: allow a second either side.
        assertThat(seen).as("lastSeen %s", lastSeen.textValue())
            .isBetween(from.minusSeconds(1), to.plusSeconds(1));
    }

    /** Waits until {@code interval} has passed since {@code sinceNanos}: the pace of a periodic client. */
    private static void pace(long sinceNanos, Duration interval) {
        long left = sinceNanos + interval.toNanos() - System.nanoTime();
        if (left > 0) {
            pause(Duration.ofNanos(left));
        }
    }

    /**
     * Keeps a client alive the way a real one does: a ping at a fixed rate from its own thread. Only the
     * pinger may send on the connection while it runs (a WebSocket allows one send at a time).
     */
    private static final class Pinger implements AutoCloseable {
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

        Pinger(ChatPeer connection, Duration every) {
            timer.scheduleAtFixedRate(() -> {
                try {
                    if (connection.isOpen()) {
                        connection.sendRaw("{\"type\":\"ping\"}");
                    }
                } catch (RuntimeException closedMeanwhile) {
                    // the test sees the close itself
                }
            }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void close() {
            timer.shutdownNow();
            try {
                timer.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
