package dev.pulse.node.e2e;

import static dev.pulse.node.testkit.ChatPeer.message;
import static dev.pulse.node.testkit.ChatPeer.ofType;
import static dev.pulse.node.testkit.ChatPeer.withRef;
import static dev.pulse.node.testkit.Wire.fields;
import static dev.pulse.node.testkit.Wire.iso;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.ClientFrame;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Black-box end-to-end tests of rooms and messages against PROTOCOL.md, over real sockets.
 *
 * <p>One node is shared by the whole class; every test uses its own users and rooms (suffixed with a
 * per-test tag). The node keeps only {@value #WINDOW} messages per room in memory, so every history
 * page or resume that reaches further back is read from the journal; the send limit is raised so the
 * tests that send many messages are not rate-limited.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RoomsE2ETest {

    private static final int WINDOW = 5;
    private static final Duration T = ChatPeer.DEFAULT_TIMEOUT;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger TESTS = new AtomicInteger();
    private static final Set<String> MESSAGE_FIELDS = Set.of("type", "room", "seq", "id", "from", "text", "ts");

    @TempDir
    static Path data;

    private static TestNode node;

    private final List<ChatPeer> peers = new ArrayList<>();
    private String tag;

    @BeforeAll
    static void startNode() {
        node = TestNode.start(data, Map.of(), ConfigFactory.parseString(
            "pulse.room.window = " + WINDOW + "\n"
                + "pulse.limits.send-burst = 100000\n"));
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @BeforeEach
    void newTag() {
        tag = "t" + TESTS.incrementAndGet();
    }

    @AfterEach
    void closePeers() {
        peers.forEach(ChatPeer::close);
    }

    // ================================================================== 1. join

    @Test
    void joinAnswersJoinedWithRefRoomLastSeqAndMembersWithStatus() {
        String room = room("join");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));

        alice.send(new ClientFrame.Join("j-1", room, null));
        JsonNode joined = alice.expectReply("j-1", "joined");
        assertThat(fields(joined)).as("%s", joined).contains("type", "ref", "room", "lastSeq", "members");
        assertThat(joined.get("room").asText()).isEqualTo(room);
        assertThat(joined.get("lastSeq").isIntegralNumber()).as("lastSeq is a number: %s", joined).isTrue();
        assertThat(joined.get("lastSeq").asLong()).isZero();
        assertMembers(joined);
        assertThat(members(joined)).containsEntry(alice.user(), "online");

        bob.send(new ClientFrame.Join("j-2", room, null));
        JsonNode bobJoined = bob.expectReply("j-2", "joined");
        assertThat(bobJoined.get("ref").asText()).isEqualTo("j-2");
        assertThat(bobJoined.get("room").asText()).isEqualTo(room);
        assertThat(bobJoined.get("lastSeq").asLong()).isZero();
        assertMembers(bobJoined);
        assertThat(members(bobJoined)).containsEntry(alice.user(), "online").containsEntry(bob.user(), "online");
    }

    @Test
    void joinedCarriesTheRoomsLastSeqAndListsEveryMember() {
        String room = room("join");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, bob);

        alice.send(new ClientFrame.Send("s-1", room, "m-1", "first"));
        assertAck(alice.expectReply("s-1"), "s-1", room, "m-1", 1);
        ChatPeer carol = connect(user("carol"));
        carol.send(new ClientFrame.Join("j-3", room, null));
        JsonNode carolJoined = carol.expectReply("j-3", "joined");
        assertThat(carolJoined.get("lastSeq").asLong()).isEqualTo(1);
        assertMembers(carolJoined);
        assertThat(members(carolJoined)).containsEntry(alice.user(), "online").containsEntry(bob.user(), "online")
            .containsEntry(carol.user(), "online");
    }

    @Test
    void aUserWithTwoSessionsIsOneMember() {
        String room = room("join");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        ChatPeer carol = connect(user("carol"));
        joinAll(room, alice, bob, carol);

        ChatPeer alice2 = connect(alice.user());
        alice2.send(new ClientFrame.Join("j-4", room, null));
        JsonNode again = alice2.expectReply("j-4", "joined");
        assertMembers(again);
        assertThat(members(again)).containsKeys(alice.user(), bob.user(), carol.user());
    }

    @Test
    void aMemberWhoseOnlySessionClosedIsNoLongerListedOnline() {
        String room = room("join");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, bob);

        bob.close();
        alice.expectPush("presence", f -> bob.user().equals(f.path("user").asText())
            && "offline".equals(f.path("status").asText()));
        ChatPeer dave = connect(user("dave"));
        dave.send(new ClientFrame.Join("j-5", room, null));
        JsonNode daveJoined = dave.expectReply("j-5", "joined");
        assertMembers(daveJoined);
        assertThat(members(daveJoined)).containsEntry(alice.user(), "online").containsEntry(dave.user(), "online");
        assertThat(members(daveJoined).getOrDefault(bob.user(), "not listed")).as("bob in %s", daveJoined)
            .isIn("not listed", "offline");
    }

    // ================================================================== 2. leave

    @Test
    void joinsAndLeavesArePushedToTheRoomsOtherSessionsAsMemberFrames() {
        String room = room("members");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        ChatPeer bobElsewhere = connect(bob.user());
        ChatPeer carol = connect(user("carol"));
        alice.join("j-a", room);
        assertMemberFrame(alice.expectPush("member"), room, alice.user(), "joined");

        bob.join("j-b", room);
        assertMemberFrame(alice.expectPush("member"), room, bob.user(), "joined");
        bobElsewhere.join("j-b2", room); // bob's second session: bob was a member already
        carol.join("j-c", room);
        // The room handles joins in order, so a frame for bob's second join would have come first.
        assertMemberFrame(alice.expectPush("member"), room, carol.user(), "joined");
        assertMemberFrame(bob.expectPush("member", f -> !f.path("user").asText().equals(bob.user())), room, carol.user(), "joined");
        assertMemberFrame(bobElsewhere.expectPush("member"), room, carol.user(), "joined");

        ChatPeer carolElsewhere = connect(carol.user());
        carolElsewhere.join("j-c2", room); // answered: subscribed before the leave below reaches the room
        carol.send(new ClientFrame.Leave("l-c", room));
        carol.expectReply("l-c");
        // Every session still subscribed hears of it, the user's own other session included.
        for (ChatPeer peer : List.of(alice, bob, bobElsewhere, carolElsewhere)) {
            assertMemberFrame(peer.expectPush("member", f -> f.path("event").asText().equals("left")), room, carol.user(), "left");
        }
        alice.sync();
        assertThat(events(alice)).as("alice saw each change once, her own join first")
            .containsExactly(alice.user() + " joined", bob.user() + " joined", carol.user() + " joined", carol.user() + " left");
        bob.sync();
        assertThat(events(bob)).as("bob's first session, subscribed when he joined")
            .containsExactly(bob.user() + " joined", carol.user() + " joined", carol.user() + " left");
        carol.sync();
        assertThat(events(carol)).as("carol's leaving session is unsubscribed before the room hears of it")
            .containsExactly(carol.user() + " joined");
    }

    /** The member frames a session received, as "user event". */
    private static List<String> events(ChatPeer peer) {
        return peer.received().stream().filter(ofType("member"))
            .map(f -> f.get("user").asText() + " " + f.get("event").asText()).toList();
    }

    private static void assertMemberFrame(JsonNode frame, String room, String user, String event) {
        assertThat(fields(frame)).as("fields of %s", frame).isEqualTo(Set.of("type", "room", "user", "event"));
        assertThat(frame.get("room").asText()).isEqualTo(room);
        assertThat(frame.get("user").asText()).isEqualTo(user);
        assertThat(frame.get("event").asText()).isEqualTo(event);
    }

    @Test
    void leaveAnswersLeftWithTheRefAndRoom() {
        String room = room("leave");
        ChatPeer alice = connect(user("alice"));
        joinAll(room, alice);

        alice.send(new ClientFrame.Leave("l-1", room));
        JsonNode left = alice.expectReply("l-1", "left");
        assertThat(left.get("room").asText()).isEqualTo(room);
        assertThat(fields(left)).contains("type", "ref", "room");
    }

    @Test
    void leavingARoomNotJoinedIsNotFound() {
        String room = room("leave");
        ChatPeer alice = connect(user("alice"));
        joinAll(room, alice);
        alice.send(new ClientFrame.Leave("l-1", room));
        alice.expectReply("l-1", "left");

        // Leaving again, or leaving a room never joined: not_found, with the ref.
        alice.send(new ClientFrame.Leave("l-2", room));
        assertError(alice.expectReply("l-2"), "l-2", "not_found");
        alice.send(new ClientFrame.Leave("l-3", room("never-joined")));
        assertError(alice.expectReply("l-3"), "l-3", "not_found");
    }

    @Test
    void afterLeaveNoMessageOfTheRoomArrives() {
        String room = room("leave");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        ChatPeer carol = connect(user("carol"));
        joinAll(room, alice, bob, carol);
        alice.send(new ClientFrame.Leave("l-1", room));
        alice.expectReply("l-1", "left");

        bob.send(new ClientFrame.Send("s-1", room, "after-leave-1", "you left"));
        assertAck(bob.expectReply("s-1"), "s-1", room, "after-leave-1", 1);
        bob.send(new ClientFrame.Send("s-2", room, "after-leave-2", "still gone"));
        assertAck(bob.expectReply("s-2"), "s-2", room, "after-leave-2", 2);
        assertThat(seqs(carol.expectMessages(room, 2))).containsExactly(1L, 2L);

        // The ping is read after both messages reached the node's sessions: nothing for the room came.
        alice.sync();
        assertThat(alice.received()).as("frames of %s after leaving %s", alice.user(), room)
            .noneMatch(message(room));
    }

    @Test
    void joiningAgainAfterLeaveDeliversOnlyWhatComesAfter() {
        String room = room("leave");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, bob);
        alice.send(new ClientFrame.Leave("l-1", room));
        alice.expectReply("l-1", "left");
        bob.send(new ClientFrame.Send("s-1", room, "after-leave-1", "you left"));
        assertAck(bob.expectReply("s-1"), "s-1", room, "after-leave-1", 1);
        bob.send(new ClientFrame.Send("s-2", room, "after-leave-2", "still gone"));
        assertAck(bob.expectReply("s-2"), "s-2", room, "after-leave-2", 2);

        alice.send(new ClientFrame.Join("j-again", room, null));
        JsonNode rejoined = alice.expectReply("j-again", "joined");
        assertThat(rejoined.get("lastSeq").asLong()).isEqualTo(2);
        bob.send(new ClientFrame.Send("s-3", room, "after-rejoin", "welcome back"));
        assertAck(bob.expectReply("s-3"), "s-3", room, "after-rejoin", 3);
        JsonNode back = alice.expectMessage(room);
        assertMessage(back, room, 3, "after-rejoin", bob.user(), "welcome back");
        alice.sync();
        assertThat(alice.pending()).noneMatch(message(room));
    }

    // ================================================================== 3. send and fan-out

    @Test
    void sendIsAckedAndEverySubscribedSessionGetsTheExactMessageFrame() {
        String room = room("send");
        ChatPeer alice = connect(user("alice"));
        ChatPeer aliceElsewhere = connect(alice.user());
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, aliceElsewhere, bob);

        String text = "héllo \"wörld\" \\ <b>&amp;</b> 👋 — 你好";
        alice.send(new ClientFrame.Send("s-1", room, "uuid-1", text));
        JsonNode ack = alice.expectReply("s-1");
        assertAck(ack, "s-1", room, "uuid-1", 1);

        for (ChatPeer peer : List.of(alice, aliceElsewhere, bob)) {
            JsonNode message = peer.expectMessage(room);
            assertMessage(message, room, 1, "uuid-1", alice.user(), text);
            assertThat(message.get("ts").asText()).as("message ts = ack ts").isEqualTo(ack.get("ts").asText());
        }

        bob.send(new ClientFrame.Send("s-2", room, "uuid-2", "hi alice"));
        JsonNode bobAck = bob.expectReply("s-2");
        assertAck(bobAck, "s-2", room, "uuid-2", 2);
        for (ChatPeer peer : List.of(alice, aliceElsewhere, bob)) {
            JsonNode message = peer.expectMessage(room);
            assertMessage(message, room, 2, "uuid-2", bob.user(), "hi alice");
            assertThat(message.get("ts").asText()).isEqualTo(bobAck.get("ts").asText());
        }
    }

    @Test
    void aMessageCarriesTheNamesItMentionsLiveInHistoryAndOnResume() {
        String room = room("mentions");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, bob);
        String carol = user("carol");
        String text = "@" + bob.user() + " and @" + carol + ", ask @" + bob.user() + ". (mail: x@" + carol + ")";
        alice.send(new ClientFrame.Send("s-m", room, "uuid-m", text));
        alice.expectReply("s-m");
        alice.send(new ClientFrame.Send("s-plain", room, "uuid-plain", "nobody here"));
        alice.expectReply("s-plain");

        Set<String> withMentions = new HashSet<>(MESSAGE_FIELDS);
        withMentions.add("mentions");
        JsonNode live = bob.expectMessage(room);
        assertThat(fields(live)).as("fields of %s", live).isEqualTo(withMentions);
        assertThat(live.get("mentions")).as("each name once, in order").containsExactly(
            JSON.getNodeFactory().textNode(bob.user()), JSON.getNodeFactory().textNode(carol));
        JsonNode plain = bob.expectMessage(room);
        assertThat(fields(plain)).as("no mentions: the field is left out").isEqualTo(MESSAGE_FIELDS);

        history(bob, "h-m", room, null, 50);
        JsonNode history = bob.expectReply("h-m");
        assertThat(history.get("messages").get(0)).as("history shows the same frame").isEqualTo(live);
        assertThat(history.get("messages").get(1)).isEqualTo(plain);

        ChatPeer resumed = connect(user("dave"));
        resumed.send(new ClientFrame.Join("j-since", room, 0L));
        resumed.expectReply("j-since");
        assertThat(resumed.expectMessage(room)).as("a resume replays the same frame").isEqualTo(live);
    }

    @Test
    void anAckGoesOnlyToTheSendingSession() {
        String room = room("send");
        ChatPeer alice = connect(user("alice"));
        ChatPeer aliceElsewhere = connect(alice.user());
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, aliceElsewhere, bob);
        alice.send(new ClientFrame.Send("s-1", room, "uuid-1", "from alice"));
        assertAck(alice.expectReply("s-1"), "s-1", room, "uuid-1", 1);
        bob.send(new ClientFrame.Send("s-2", room, "uuid-2", "hi alice"));
        assertAck(bob.expectReply("s-2"), "s-2", room, "uuid-2", 2);
        // Both messages reached every session, so any ack fanned out with them would have too.
        for (ChatPeer peer : List.of(alice, aliceElsewhere, bob)) {
            assertThat(seqs(peer.expectMessages(room, 2))).containsExactly(1L, 2L);
        }

        for (ChatPeer peer : List.of(alice, aliceElsewhere, bob)) {
            peer.sync();
            assertThat(peer.received()).filteredOn(ofType("ack")).hasSize(peer == aliceElsewhere ? 0 : 1);
        }
    }

    // ================================================================== 4. one gap-free total order

    @Test
    void concurrentSendersGetContiguousSeqsAndEveryoneSeesTheSameOrder() throws Exception {
        String room = room("order");
        int senders = 4;
        int each = 30;
        int total = senders * each;
        List<ChatPeer> group = new ArrayList<>();
        for (int i = 0; i < senders; i++) {
            group.add(connect(user("user" + i)));
        }
        ChatPeer watcher = connect(user("watcher"));
        joinAll(room, group.toArray(ChatPeer[]::new));
        joinAll(room, watcher);

        ExecutorService pool = Executors.newFixedThreadPool(senders);
        try {
            List<CompletableFuture<Map<Long, String>>> acked = new ArrayList<>();
            for (ChatPeer peer : group) {
                acked.add(CompletableFuture.supplyAsync(() -> {
                    for (int i = 0; i < each; i++) {
                        peer.send(new ClientFrame.Send("c-" + i, room, peer.user() + "-" + i, "from " + peer.user() + " #" + i));
                    }
                    Map<Long, String> seqToId = new HashMap<>();
                    for (int i = 0; i < each; i++) {
                        JsonNode ack = peer.expectReply("c-" + i, "ack");
                        assertThat(ack.get("id").asText()).isEqualTo(peer.user() + "-" + i);
                        assertThat(seqToId.put(ack.get("seq").asLong(), ack.get("id").asText()))
                            .as("seq acked twice to %s: %s", peer.user(), ack).isNull();
                    }
                    return seqToId;
                }, pool));
            }
            Map<Long, String> all = new HashMap<>();
            for (CompletableFuture<Map<Long, String>> future : acked) {
                future.get(20, TimeUnit.SECONDS).forEach((seq, id) ->
                    assertThat(all.put(seq, id)).as("seq %d acked to two messages", seq).isNull());
            }
            assertThat(all.keySet()).as("acked seqs").containsExactlyInAnyOrderElementsOf(range(1, total));

            List<ChatPeer> receivers = new ArrayList<>(group);
            receivers.add(watcher);
            for (ChatPeer peer : receivers) {
                List<JsonNode> messages = peer.expectMessages(room, total);
                assertThat(seqs(messages)).as("seqs as %s received them", peer.user()).containsExactlyElementsOf(range(1, total));
                for (JsonNode message : messages) {
                    assertThat(message.get("id").asText()).as("id of seq %s", message.get("seq"))
                        .isEqualTo(all.get(message.get("seq").asLong()));
                    assertThat(fields(message)).isEqualTo(MESSAGE_FIELDS);
                }
                peer.sync();
                assertThat(peer.pending()).as("%s got more than %d messages", peer.user(), total).noneMatch(message(room));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ================================================================== 5. idempotent id

    /**
     * One behaviour, three ways a client retries: after the ack, before it, and from a new connection
     * after a lost ack. The seqs run on across the three and the final history covers all of them.
     */
    @Test
    void resendingAnIdGetsTheSameAckAndCreatesNoSecondMessage() {
        String room = room("idem");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, bob);

        alice.send(new ClientFrame.Send("i-1", room, "dup-x", "once"));
        JsonNode first = alice.expectReply("i-1");
        assertAck(first, "i-1", room, "dup-x", 1);
        alice.send(new ClientFrame.Send("i-2", room, "dup-x", "once"));
        JsonNode retry = alice.expectReply("i-2");
        assertAck(retry, "i-2", room, "dup-x", 1);
        assertThat(retry.get("ts").asText()).as("ts of the retried ack").isEqualTo(first.get("ts").asText());

        alice.send(new ClientFrame.Send("i-3", room, "marker-y", "marker"));
        assertAck(alice.expectReply("i-3"), "i-3", room, "marker-y", 2);
        for (ChatPeer peer : List.of(alice, bob)) {
            List<JsonNode> messages = peer.expectMessages(room, 2);
            assertMessage(messages.get(0), room, 1, "dup-x", alice.user(), "once");
            assertMessage(messages.get(1), room, 2, "marker-y", alice.user(), "marker");
        }

        // A retry sent before the first attempt was acked.
        alice.send(new ClientFrame.Send("i-4", room, "dup-z", "twice in a row"));
        alice.send(new ClientFrame.Send("i-5", room, "dup-z", "twice in a row"));
        JsonNode z1 = alice.expectReply("i-4");
        JsonNode z2 = alice.expectReply("i-5");
        assertAck(z1, "i-4", room, "dup-z", 3);
        assertAck(z2, "i-5", room, "dup-z", 3);
        assertThat(z2.get("ts").asText()).isEqualTo(z1.get("ts").asText());
        alice.send(new ClientFrame.Send("i-6", room, "marker-w", "marker 2"));
        assertAck(alice.expectReply("i-6"), "i-6", room, "marker-w", 4);
        for (ChatPeer peer : List.of(alice, bob)) {
            List<JsonNode> messages = peer.expectMessages(room, 2);
            assertMessage(messages.get(0), room, 3, "dup-z", alice.user(), "twice in a row");
            assertMessage(messages.get(1), room, 4, "marker-w", alice.user(), "marker 2");
        }

        // A retry after a lost ack, from a new connection of the same user.
        ChatPeer aliceReconnected = connect(alice.user());
        aliceReconnected.send(new ClientFrame.Send("i-7", room, "dup-x", "once"));
        JsonNode late = aliceReconnected.expectReply("i-7");
        assertAck(late, "i-7", room, "dup-x", 1);
        assertThat(late.get("ts").asText()).isEqualTo(first.get("ts").asText());
        alice.send(new ClientFrame.Send("i-8", room, "marker-v", "marker 3"));
        assertAck(alice.expectReply("i-8"), "i-8", room, "marker-v", 5);
        for (ChatPeer peer : List.of(alice, bob)) {
            assertMessage(peer.expectMessages(room, 1).get(0), room, 5, "marker-v", alice.user(), "marker 3");
            peer.sync();
            assertThat(peer.pending()).noneMatch(message(room));
        }

        bob.send(new ClientFrame.History("h-1", room, null, 50));
        JsonNode history = bob.expectReply("h-1", "history");
        assertThat(history.get("messages")).extracting(m -> m.get("id").asText())
            .containsExactly("dup-x", "marker-y", "dup-z", "marker-w", "marker-v");
        assertThat(history.get("hasMore").asBoolean()).isFalse();
    }

    // ================================================================== 6. implicit join

    @Test
    void sendingToAPublicRoomNotJoinedJoinsItImplicitlyWithoutAJoinedFrame() {
        String room = room("implicit");
        ChatPeer bob = connect(user("bob"));
        joinAll(room, bob);
        ChatPeer carol = connect(user("carol"));

        carol.send(new ClientFrame.Send("s-1", room, "imp-1", "hello without join"));
        assertAck(carol.expectReply("s-1"), "s-1", room, "imp-1", 1);
        assertMessage(carol.expectMessage(room), room, 1, "imp-1", carol.user(), "hello without join");
        assertMessage(bob.expectMessage(room), room, 1, "imp-1", carol.user(), "hello without join");

        // carol is now subscribed: she gets the room's next messages too.
        bob.send(new ClientFrame.Send("s-2", room, "imp-2", "hi carol"));
        assertAck(bob.expectReply("s-2"), "s-2", room, "imp-2", 2);
        assertMessage(carol.expectMessage(room), room, 2, "imp-2", bob.user(), "hi carol");

        carol.sync();
        assertThat(carol.received()).as("frames of %s", carol.user()).noneMatch(ofType("joined"));
    }

    // ================================================================== 7. direct-message rooms

    @Test
    void aDmRoomsTwoParticipantsChatInItAndReadItsHistory() {
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        String dm = "dm:" + alice.user() + ":" + bob.user();
        assertThat(alice.user()).isLessThan(bob.user());

        joinAll(dm, alice, bob);
        alice.send(new ClientFrame.Send("s-1", dm, "dm-1", "just us"));
        assertAck(alice.expectReply("s-1"), "s-1", dm, "dm-1", 1);
        assertMessage(bob.expectMessage(dm), dm, 1, "dm-1", alice.user(), "just us");
        assertMessage(alice.expectMessage(dm), dm, 1, "dm-1", alice.user(), "just us");
        bob.send(new ClientFrame.Send("s-2", dm, "dm-2", "indeed"));
        assertAck(bob.expectReply("s-2"), "s-2", dm, "dm-2", 2);
        assertMessage(alice.expectMessage(dm), dm, 2, "dm-2", bob.user(), "indeed");
        for (ChatPeer peer : List.of(alice, bob)) {
            peer.send(new ClientFrame.History("h-" + peer.user(), dm, null, 50));
            JsonNode history = peer.expectReply("h-" + peer.user(), "history");
            assertThat(history.get("messages")).extracting(m -> m.get("id").asText()).containsExactly("dm-1", "dm-2");
        }
    }

    @Test
    void aThirdUserMayNotJoinSendToOrReadADmRoom() {
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        ChatPeer carol = connect(user("carol"));
        String dm = "dm:" + alice.user() + ":" + bob.user();
        assertThat(alice.user()).isLessThan(bob.user());
        joinAll(dm, alice, bob);
        alice.send(new ClientFrame.Send("s-1", dm, "dm-1", "just us"));
        assertAck(alice.expectReply("s-1"), "s-1", dm, "dm-1", 1);
        bob.send(new ClientFrame.Send("s-2", dm, "dm-2", "indeed"));
        assertAck(bob.expectReply("s-2"), "s-2", dm, "dm-2", 2);

        carol.send(new ClientFrame.Join("c-join", dm, null));
        assertError(carol.expectReply("c-join"), "c-join", "forbidden");
        carol.send(new ClientFrame.Send("c-send", dm, "intruder", "let me in"));
        assertError(carol.expectReply("c-send"), "c-send", "forbidden");
        carol.send(new ClientFrame.History("c-history", dm, null, 50));
        assertError(carol.expectReply("c-history"), "c-history", "forbidden");
        carol.sync();
        assertThat(carol.received()).as("carol's frames").noneMatch(message(dm)).noneMatch(ofType("history"));

        // The refused send created nothing.
        alice.send(new ClientFrame.History("h-after", dm, null, 50));
        assertThat(alice.expectReply("h-after").get("messages")).extracting(m -> m.get("id").asText())
            .containsExactly("dm-1", "dm-2");
        carol.ping("still-open");
    }

    @Test
    void aDmRoomIdNamesTwoDifferentUsersInSortedOrder() {
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        assertThat(alice.user()).isLessThan(bob.user());

        // Names not in sorted order, or twice the same user, are not room ids.
        alice.send(new ClientFrame.Join("unsorted", "dm:" + bob.user() + ":" + alice.user(), null));
        assertError(alice.expectReply("unsorted"), "unsorted", "invalid");
        alice.send(new ClientFrame.Join("self", "dm:" + alice.user() + ":" + alice.user(), null));
        assertError(alice.expectReply("self"), "self", "invalid");
        alice.send(new ClientFrame.Send("unsorted-send", "dm:" + bob.user() + ":" + alice.user(), "x", "x"));
        assertError(alice.expectReply("unsorted-send"), "unsorted-send", "invalid");
        alice.send(new ClientFrame.History("unsorted-history", "dm:" + bob.user() + ":" + alice.user(), null, 50));
        assertError(alice.expectReply("unsorted-history"), "unsorted-history", "invalid");
        alice.ping("still-open");
    }

    // ================================================================== 8. history

    @Test
    void historyPagesAscendByExactSeqWithCorrectHasMoreAlsoFromTheJournal() {
        String room = room("history");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));

        bob.sendRaw("{\"type\":\"history\",\"ref\":\"empty\",\"room\":\"" + room + "\"}");
        assertHistory(bob.expectReply("empty"), "empty", room, List.of(), false);

        int total = 60;
        Map<Long, JsonNode> sent = sendMany(alice, room, total);
        assertThat(sent.keySet()).containsExactlyInAnyOrderElementsOf(range(1, total));

        // before omitted and limit omitted: the newest 50.
        bob.sendRaw("{\"type\":\"history\",\"ref\":\"newest\",\"room\":\"" + room + "\"}");
        assertHistory(bob.expectReply("newest"), "newest", room, range(11, 60), true, sent);
        // before omitted, a limit inside the in-memory window.
        bob.sendRaw("{\"type\":\"history\",\"ref\":\"top5\",\"room\":\"" + room + "\",\"limit\":5}");
        assertHistory(bob.expectReply("top5"), "top5", room, range(56, 60), true, sent);
        // A page straddling the window's start.
        history(bob, "straddle", room, 58L, 3);
        assertHistory(bob.expectReply("straddle"), "straddle", room, range(55, 57), true, sent);
        // Pages entirely older than the window (journal).
        history(bob, "oldest", room, 11L, 50);
        assertHistory(bob.expectReply("oldest"), "oldest", room, range(1, 10), false, sent);
        history(bob, "to-one", room, 4L, 3);
        assertHistory(bob.expectReply("to-one"), "to-one", room, range(1, 3), false, sent);
        history(bob, "above-one", room, 5L, 3);
        assertHistory(bob.expectReply("above-one"), "above-one", room, range(2, 4), true, sent);
        history(bob, "nothing-before-1", room, 1L, 10);
        assertHistory(bob.expectReply("nothing-before-1"), "nothing-before-1", room, List.of(), false, sent);
        history(bob, "beyond-last", room, 1000L, 3);
        assertHistory(bob.expectReply("beyond-last"), "beyond-last", room, range(58, 60), true, sent);
        history(bob, "max", room, null, 200);
        assertHistory(bob.expectReply("max"), "max", room, range(1, 60), false, sent);
    }

    @Test
    void walkingHistoryBackPageByPageYieldsEveryMessageOnce() {
        String room = room("history");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        int total = 60;
        Map<Long, JsonNode> sent = sendMany(alice, room, total);
        assertThat(sent.keySet()).containsExactlyInAnyOrderElementsOf(range(1, total));

        List<Long> walked = new ArrayList<>();
        Long before = null;
        boolean hasMore = true;
        int pages = 0;
        while (hasMore) {
            history(bob, "walk-" + pages, room, before, 7);
            JsonNode page = bob.expectReply("walk-" + pages);
            List<Long> seqs = seqs(list(page.get("messages")));
            assertThat(seqs).as("page %d", pages).isNotEmpty().isSorted();
            walked.addAll(0, seqs);
            hasMore = page.get("hasMore").asBoolean();
            before = seqs.get(0);
            assertThat(++pages).as("pages").isLessThanOrEqualTo(9);
        }
        assertThat(walked).containsExactlyElementsOf(range(1, total));
        assertThat(pages).isEqualTo(9);
    }

    @Test
    void historyLimitOutside1To200IsInvalid() {
        String room = room("history");
        ChatPeer bob = connect(user("bob"));

        bob.sendRaw("{\"type\":\"history\",\"ref\":\"limit-0\",\"room\":\"" + room + "\",\"limit\":0}");
        assertError(bob.expectReply("limit-0"), "limit-0", "invalid");
        bob.sendRaw("{\"type\":\"history\",\"ref\":\"limit-201\",\"room\":\"" + room + "\",\"limit\":201}");
        assertError(bob.expectReply("limit-201"), "limit-201", "invalid");
        bob.ping("after-errors");
    }

    // ================================================================== 9. join with since

    @Test
    void joinWithSinceReplaysTheGapInOrderThenSynced() {
        String room = room("since");
        ChatPeer alice = connect(user("alice"));
        int total = 12;
        Map<Long, JsonNode> sent = sendMany(alice, room, total);

        // since=0: everything (mostly from the journal: the window holds 8..12).
        assertResume(room, 0, total, sent);
        // A gap that starts before the window.
        assertResume(room, 3, total, sent);
        // A gap inside the window.
        assertResume(room, 10, total, sent);
        // Nothing missed: joined, then synced at once.
        assertResume(room, total, total, sent);
    }

    @Test
    void afterSyncedAResumedSessionIsLive() {
        String room = room("since");
        ChatPeer alice = connect(user("alice"));
        int total = 12;
        sendMany(alice, room, total);

        ChatPeer bob = connect(user("bob"));
        bob.send(new ClientFrame.Join("live", room, (long) total));
        bob.takeThrough("synced");
        alice.send(new ClientFrame.Send("s-live", room, "live-13", "live"));
        assertAck(alice.expectReply("s-live"), "s-live", room, "live-13", 13);
        assertMessage(bob.expectMessage(room), room, 13, "live-13", alice.user(), "live");
    }

    @Test
    void sinceBeyondLastSeqNegativeOrNotANumberIsInvalidAndSubscribesNothing() {
        String room = room("since");
        ChatPeer alice = connect(user("alice"));
        sendMany(alice, room, 13);
        ChatPeer bob = connect(user("bob"));
        joinAll(room, bob);

        // since beyond lastSeq, negative, not a number: invalid, with the ref, and no joined.
        ChatPeer carol = connect(user("carol"));
        carol.sendRaw("{\"type\":\"join\",\"ref\":\"too-far\",\"room\":\"" + room + "\",\"since\":14}");
        assertError(carol.expectReply("too-far"), "too-far", "invalid");
        carol.sendRaw("{\"type\":\"join\",\"ref\":\"negative\",\"room\":\"" + room + "\",\"since\":-1}");
        assertError(carol.expectReply("negative"), "negative", "invalid");
        carol.sendRaw("{\"type\":\"join\",\"ref\":\"text\",\"room\":\"" + room + "\",\"since\":\"abc\"}");
        assertError(carol.expectReply("text"), "text", "invalid");
        carol.sendRaw("{\"type\":\"join\",\"ref\":\"numeric-text\",\"room\":\"" + room + "\",\"since\":\"3\"}");
        assertError(carol.expectReply("numeric-text"), "numeric-text", "invalid");
        carol.sync();
        assertThat(carol.received()).noneMatch(ofType("joined")).noneMatch(message(room)).noneMatch(ofType("synced"));
        // The refused joins left no subscription behind.
        alice.send(new ClientFrame.Send("s-14", room, "after-refusals", "not for carol"));
        assertAck(alice.expectReply("s-14"), "s-14", room, "after-refusals", 14);
        bob.expectMessage(room);
        carol.sync();
        assertThat(carol.received()).noneMatch(message(room));
    }

    @Test
    void joinWithSinceReplaysALongBacklogFromTheJournal() {
        String room = room("backlog");
        ChatPeer alice = connect(user("alice"));
        int total = 450;
        Map<Long, JsonNode> sent = sendMany(alice, room, total);
        assertResume(room, 0, total, sent);
        assertResume(room, 17, total, sent);
    }

    // ================================================================== 10. resume after a dropped connection

    @Test
    void resumeAfterADroppedConnectionSeesEveryMessageExactlyOnce() throws Exception {
        String room = room("resume");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        joinAll(room, alice, bob);

        int total = 80;
        int firstBatch = 40;
        AtomicLong acked = new AtomicLong();
        CompletableFuture<Void> bobRejoining = new CompletableFuture<>();
        Map<Long, String> seqToId = new java.util.concurrent.ConcurrentHashMap<>();
        List<CompletableFuture<Void>> reached = new ArrayList<>();
        for (int i = 0; i <= total; i++) {
            reached.add(new CompletableFuture<>());
        }
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            // alice keeps sending, one message at a time; halfway she waits until bob is rejoining, so
            // the second half is posted while his resume is being answered.
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                for (int i = 1; i <= total; i++) {
                    if (i == firstBatch + 1) {
                        bobRejoining.join();
                    }
                    alice.send(new ClientFrame.Send("r-" + i, room, "resume-" + i, "message " + i));
                    JsonNode ack = alice.expectReply("r-" + i, "ack");
                    long seq = ack.get("seq").asLong();
                    seqToId.put(seq, ack.get("id").asText());
                    acked.set(seq);
                    reached.get(i).complete(null);
                }
            }, pool);

            // bob reads a few, then loses his connection while alice goes on.
            List<JsonNode> seen = new ArrayList<>(bob.expectMessages(room, 6));
            long highest = seen.get(seen.size() - 1).get("seq").asLong();
            bob.abort();
            // Wait until the gap is larger than the in-memory window, so the resume needs the journal.
            int gapTarget = (int) highest + WINDOW + 10;
            CompletableFuture.anyOf(reached.get(Math.min(gapTarget, firstBatch)), sender).get(T.toSeconds(), TimeUnit.SECONDS);

            ChatPeer bobAgain = connect(bob.user());
            bobAgain.send(new ClientFrame.Join("resume", room, highest));
            bobRejoining.complete(null);
            JsonNode joined = bobAgain.expectReply("resume", "joined");
            assertThat(joined.get("lastSeq").asLong()).isGreaterThanOrEqualTo(highest + WINDOW + 1);

            sender.get(20, TimeUnit.SECONDS);
            assertThat(acked.get()).isEqualTo(total);
            List<JsonNode> afterResume = bobAgain.expectMessages(room, (int) (total - highest));
            seen.addAll(afterResume);
            assertThat(seqs(seen)).as("what bob saw across both connections").containsExactlyElementsOf(range(1, total));
            for (JsonNode message : seen) {
                assertMessage(message, room, message.get("seq").asLong(), seqToId.get(message.get("seq").asLong()),
                    alice.user(), "message " + message.get("seq").asLong());
            }
            // synced came once, after the replayed part, with the lastSeq of joined.
            List<JsonNode> synced = bobAgain.received().stream().filter(ofType("synced")).toList();
            assertThat(synced).hasSize(1);
            assertThat(synced.get(0).get("lastSeq").asLong()).isEqualTo(joined.get("lastSeq").asLong());
            List<JsonNode> order = bobAgain.received().stream()
                .filter(ofType("joined").or(ofType("synced")).or(message(room))).toList();
            int syncedAt = order.indexOf(synced.get(0));
            assertThat(seqs(order.subList(1, syncedAt))).as("replayed before synced")
                .containsExactlyElementsOf(range(highest + 1, joined.get("lastSeq").asLong()));
            bobAgain.sync();
            assertThat(bobAgain.pending()).as("duplicates after the last message").noneMatch(message(room));
        } finally {
            bobRejoining.complete(null);
            pool.shutdownNow();
        }
    }

    // ================================================================== 11. typing

    @Test
    void typingReachesTheOtherMembersAndNoOneOutsideTheRoom() {
        String room = room("typing");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        ChatPeer carol = connect(user("carol"));
        ChatPeer outsider = connect(user("dave"));
        joinAll(room, alice, bob, carol);

        alice.send(new ClientFrame.Typing("t-1", room));
        for (ChatPeer peer : List.of(bob, carol)) {
            JsonNode typing = peer.expectPush("typing");
            assertThat(fields(typing)).as("%s", typing).isEqualTo(Set.of("type", "room", "user"));
            assertThat(typing.get("room").asText()).isEqualTo(room);
            assertThat(typing.get("user").asText()).isEqualTo(alice.user());
        }
        // Not in the room: no typing notice either.
        outsider.sync();
        assertThat(outsider.received()).noneMatch(ofType("typing"));
    }

    @Test
    void typingGetsNoReplyAndNeverReachesTheSender() {
        String room = room("typing");
        ChatPeer alice = connect(user("alice"));
        ChatPeer bob = connect(user("bob"));
        ChatPeer carol = connect(user("carol"));
        joinAll(room, alice, bob, carol);

        alice.send(new ClientFrame.Typing("t-1", room));
        for (ChatPeer peer : List.of(bob, carol)) {
            peer.expectPush("typing");
        }
        // Nothing answers the typing frame itself: the pong is the next frame.
        List<JsonNode> beforePong = alice.sync();
        assertThat(beforePong).as("alice's frames after typing").filteredOn(f -> !isMemberNews(f)).isEmpty();
        assertThat(alice.received()).noneMatch(withRef("t-1"));
        // A message posted after the typing notice reaches alice with no typing frame before it.
        alice.send(new ClientFrame.Send("s-1", room, "after-typing", "done typing"));
        assertAck(alice.expectReply("s-1"), "s-1", room, "after-typing", 1);
        alice.expectMessage(room);
        bob.expectMessage(room);
        assertThat(alice.received()).noneMatch(ofType("typing"));
    }

    // ================================================================== 12. errors keep the socket open

    @Test
    void errorsEchoTheRefAndKeepTheSocketOpen() {
        ChatPeer alice = connect(user("alice"));

        alice.sendRaw("{\"type\":\"dance\",\"ref\":\"e-1\"}");
        assertError(alice.expectReply("e-1"), "e-1", "invalid");

        String[] badRooms = {"General", "-general", "_general", "gen eral", "gen/eral", "", "a".repeat(65), "dm:alice",
            "dm:" + user("bob") + ":" + user("alice")};
        for (int i = 0; i < badRooms.length; i++) {
            alice.sendRaw("{\"type\":\"join\",\"ref\":\"bad-" + i + "\",\"room\":" + JSON.valueToTree(badRooms[i]) + "}");
            assertError(alice.expectReply("bad-" + i), "bad-" + i, "invalid");
        }
        alice.sendRaw("{\"type\":\"send\",\"ref\":\"bad-send\",\"room\":\"Bad!\",\"id\":\"x\",\"text\":\"x\"}");
        assertError(alice.expectReply("bad-send"), "bad-send", "invalid");
        alice.sendRaw("{\"type\":\"history\",\"ref\":\"bad-history\",\"room\":\"bad room\"}");
        assertError(alice.expectReply("bad-history"), "bad-history", "invalid");
        alice.sendRaw("{\"type\":\"leave\",\"ref\":\"bad-leave\",\"room\":\"BAD\"}");
        assertError(alice.expectReply("bad-leave"), "bad-leave", "invalid");

        alice.ping("p-1");
        assertThat(alice.isOpen()).isTrue();
    }

    @Test
    void theLongestValidRoomIdWorksAndUnknownFieldsAreIgnored() {
        ChatPeer alice = connect(user("alice"));

        String longest = "a" + tag + "x".repeat(63 - tag.length());
        assertThat(longest).hasSize(64);
        alice.sendRaw("{\"type\":\"join\",\"ref\":\"ok\",\"room\":\"" + longest + "\",\"colour\":\"blue\"}");
        JsonNode joined = alice.expectReply("ok", "joined");
        assertThat(joined.get("room").asText()).isEqualTo(longest);
        alice.sendRaw("{\"type\":\"ping\",\"ref\":\"p-2\",\"extra\":{\"nested\":[1,2]}}");
        alice.expectReply("p-2", "pong");
        assertThat(alice.isOpen()).isTrue();
    }

    // ================================================================== helpers: scenario steps

    private String user(String name) {
        return name + "-" + tag;
    }

    private String room(String name) {
        return name + "-" + tag;
    }

    private ChatPeer connect(String user) {
        ChatPeer peer = ChatPeer.connect(node.client(), user);
        peers.add(peer);
        return peer;
    }

    private static void joinAll(String room, ChatPeer... group) {
        for (ChatPeer peer : group) {
            peer.join("join-" + room, room);
        }
    }

    private static void history(ChatPeer peer, String ref, String room, Long before, int limit) {
        peer.send(new ClientFrame.History(ref, room, before, limit));
    }

    /**
     * Sends {@code count} messages pipelined (text {@code "message <i>"}, id {@code "<room>-<i>"}), waits
     * for every ack and for the sender's own message frames; returns those frames by seq.
     */
    private static Map<Long, JsonNode> sendMany(ChatPeer sender, String room, int count) {
        for (int i = 1; i <= count; i++) {
            sender.send(new ClientFrame.Send("m-" + i, room, room + "-" + i, "message " + i));
        }
        Map<Long, String> seqToId = new HashMap<>();
        for (int i = 1; i <= count; i++) {
            JsonNode ack = sender.expectReply("m-" + i, "ack");
            seqToId.put(ack.get("seq").asLong(), ack.get("id").asText());
        }
        Map<Long, JsonNode> bySeq = new HashMap<>();
        for (JsonNode message : sender.expectMessages(room, count)) {
            long seq = message.get("seq").asLong();
            assertThat(message.get("id").asText()).isEqualTo(seqToId.get(seq));
            assertThat(bySeq.put(seq, message)).isNull();
        }
        return bySeq;
    }

    /** A new session joins with {@code since}: joined, the messages after since in order, synced. */
    private void assertResume(String room, long since, long lastSeq, Map<Long, JsonNode> sent) {
        ChatPeer peer = connect(user("r" + since));
        String ref = "since-" + since;
        peer.send(new ClientFrame.Join(ref, room, since));
        List<JsonNode> frames = peer.takeThrough("synced").stream()
            .filter(f -> !isMemberNews(f)).toList();
        JsonNode joined = frames.get(0);
        assertThat(joined.path("type").asText()).as("first answer to join since %d: %s", since, joined).isEqualTo("joined");
        assertThat(joined.get("ref").asText()).isEqualTo(ref);
        assertThat(joined.get("room").asText()).isEqualTo(room);
        assertThat(joined.get("lastSeq").asLong()).isEqualTo(lastSeq);
        List<JsonNode> replayed = frames.subList(1, frames.size() - 1);
        assertThat(replayed).as("between joined and synced").allMatch(message(room));
        assertThat(seqs(replayed)).as("replayed after since %d", since).containsExactlyElementsOf(range(since + 1, lastSeq));
        for (JsonNode message : replayed) {
            assertThat(fields(message)).isEqualTo(MESSAGE_FIELDS);
            assertThat(message).as("replayed seq %s equals the live frame", message.get("seq"))
                .isEqualTo(sent.get(message.get("seq").asLong()));
        }
        JsonNode synced = frames.get(frames.size() - 1);
        assertThat(synced.get("room").asText()).isEqualTo(room);
        assertThat(synced.get("lastSeq").isIntegralNumber()).isTrue();
        assertThat(synced.get("lastSeq").asLong()).isEqualTo(lastSeq);
        peer.sync();
        assertThat(peer.pending()).as("after synced").noneMatch(message(room));
    }

    // ================================================================== helpers: assertions

    private static void assertAck(JsonNode ack, String ref, String room, String id, long seq) {
        assertThat(ack.path("type").asText()).as("reply to send %s: %s", ref, ack).isEqualTo("ack");
        assertThat(fields(ack)).as("%s", ack).contains("type", "ref", "room", "id", "seq", "ts");
        assertThat(ack.get("ref").asText()).isEqualTo(ref);
        assertThat(ack.get("room").asText()).isEqualTo(room);
        assertThat(ack.get("id").asText()).isEqualTo(id);
        assertThat(ack.get("seq").isIntegralNumber()).as("seq is a number: %s", ack).isTrue();
        assertThat(ack.get("seq").asLong()).as("seq of %s", ack).isEqualTo(seq);
        assertIsoTimestamp(ack.get("ts"));
    }

    private static void assertMessage(JsonNode message, String room, long seq, String id, String from, String text) {
        assertThat(message.path("type").asText()).as("%s", message).isEqualTo("message");
        assertThat(fields(message)).as("fields of %s", message).isEqualTo(MESSAGE_FIELDS);
        assertThat(message.get("room").asText()).isEqualTo(room);
        assertThat(message.get("seq").isIntegralNumber()).as("seq is a number: %s", message).isTrue();
        assertThat(message.get("seq").asLong()).as("seq of %s", message).isEqualTo(seq);
        assertThat(message.get("id").asText()).as("id of %s", message).isEqualTo(id);
        assertThat(message.get("from").asText()).isEqualTo(from);
        assertThat(message.get("text").isTextual()).isTrue();
        assertThat(message.get("text").asText()).isEqualTo(text);
        assertIsoTimestamp(message.get("ts"));
    }

    private static void assertIsoTimestamp(JsonNode ts) {
        assertThat(ts).isNotNull();
        assertThat(ts.isTextual()).as("ts is a string: %s", ts).isTrue();
        Instant instant = iso(ts.asText());
        assertThat(Duration.between(instant, Instant.now()).abs()).as("ts %s is now", ts).isLessThan(Duration.ofMinutes(2));
    }

    private static void assertError(JsonNode error, String ref, String code) {
        assertThat(error.path("type").asText()).as("reply %s: %s", ref, error).isEqualTo("error");
        assertThat(error.path("ref").asText()).as("%s", error).isEqualTo(ref);
        assertThat(error.path("code").asText()).as("%s", error).isEqualTo(code);
        assertThat(error.path("message").isTextual()).as("message of %s", error).isTrue();
        assertThat(error.path("message").asText()).isNotBlank();
    }

    private static void assertHistory(JsonNode history, String ref, String room, List<Long> seqs, boolean hasMore) {
        assertThat(history.path("type").asText()).as("reply %s: %s", ref, history).isEqualTo("history");
        assertThat(fields(history)).as("%s", history).contains("type", "ref", "room", "messages", "hasMore");
        assertThat(history.get("ref").asText()).isEqualTo(ref);
        assertThat(history.get("room").asText()).isEqualTo(room);
        assertThat(history.get("messages").isArray()).isTrue();
        assertThat(seqs(list(history.get("messages")))).as("seqs of history %s", ref).containsExactlyElementsOf(seqs);
        assertThat(history.get("hasMore").isBoolean()).as("hasMore is a boolean: %s", history).isTrue();
        assertThat(history.get("hasMore").asBoolean()).as("hasMore of %s", ref).isEqualTo(hasMore);
    }

    /** Also checks each message against the live frame of the same seq. */
    private static void assertHistory(JsonNode history, String ref, String room, List<Long> seqs, boolean hasMore,
                                      Map<Long, JsonNode> live) {
        assertHistory(history, ref, room, seqs, hasMore);
        for (JsonNode message : history.get("messages")) {
            JsonNode original = live.get(message.get("seq").asLong());
            for (String field : List.of("seq", "id", "from", "text", "ts")) {
                assertThat(message.get(field)).as("%s of history message %s", field, message).isEqualTo(original.get(field));
            }
            if (message.has("room")) {
                assertThat(message.get("room").asText()).isEqualTo(room);
            }
        }
    }

    private static Map<String, String> members(JsonNode joined) {
        Map<String, String> members = new HashMap<>();
        for (JsonNode member : joined.get("members")) {
            members.put(member.get("user").asText(), member.get("status").asText());
        }
        return members;
    }

    private static void assertMembers(JsonNode joined) {
        assertThat(joined.get("members").isArray()).as("members of %s", joined).isTrue();
        Set<String> users = new HashSet<>();
        for (JsonNode member : joined.get("members")) {
            assertThat(member.path("user").isTextual()).as("member %s", member).isTrue();
            assertThat(member.path("status").asText()).as("status of %s", member).isIn("online", "offline", "away");
            assertThat(users.add(member.get("user").asText())).as("%s listed twice in %s", member, joined).isTrue();
        }
    }

    private static List<Long> seqs(List<JsonNode> messages) {
        return messages.stream().map(m -> m.get("seq").asLong()).collect(Collectors.toList());
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> items = new ArrayList<>();
        array.forEach(items::add);
        return items;
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    /**
     * A push about members (their presence, their joins and leaves) or about the user's own list of
     * rooms (version 1.1, after a join): these may interleave with anything, and tests about a room's
     * messages look past them.
     */
    private static boolean isMemberNews(JsonNode frame) {
        String type = frame.path("type").asText();
        return ("presence".equals(type) || "member".equals(type) || "rooms".equals(type)) && !frame.has("ref");
    }
}
