package dev.pulse.node.cluster;

import static dev.pulse.node.testkit.Wire.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.PresenceStatus;
import dev.pulse.protocol.ServerFrame;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two ActorSystems in one JVM forming a real cluster over Artery on loopback, sharing one
 * embedded database (H2 allows that within one process). Entities live on either node, so every
 * cross-node message is serialized for real.
 */
class TwoNodeClusterTest {

    private static final Duration T = Duration.ofSeconds(15);

    @TempDir
    static Path data;

    static TestNode first;
    static TestNode second;

    @BeforeAll
    static void startCluster() {
        first = TestNode.startOnPostgres(data, Map.of());
        second = TestNode.startOnPostgres(data, Map.of("PULSE_SEED_NODES", first.node().node()));
        awaitMembers(2);
    }

    @AfterAll
    static void stopCluster() {
        if (second != null) {
            second.close();
        }
        if (first != null) {
            first.close();
        }
    }

    private static void awaitMembers(int count) {
        try {
            awaitUntil("/health of the second node reports " + count + " members and status ok", T, () -> {
                String health = second.client().get("/health").body();
                return health.contains("\"members\":" + count) && health.contains("\"status\":\"ok\"");
            });
        } catch (AssertionError e) {
            throw new AssertionError("cluster did not form: " + second.client().get("/health").body(), e);
        }
    }

    @Test
    void usersOnDifferentNodesChatInOneOrderedRoom() {
        ChatPeer alice = ChatPeer.connect(first.client(), "alice", T);
        ChatPeer bob = ChatPeer.connect(second.client(), "bob", T);
        assertThat(alice.welcome().path("node").asText()).isEqualTo(first.node().node());
        assertThat(bob.welcome().path("node").asText()).isEqualTo(second.node().node());

        alice.join("j", "lobby");
        bob.send(new ClientFrame.Join("j", "lobby", null));
        assertThat(bob.expectReply("j", ServerFrame.Joined.class).members())
            .extracting(ServerFrame.Member::user).containsExactlyInAnyOrder("alice", "bob");
        // alice, on the other node, is told that bob joined (version 1.1's member frames)
        assertThat(alice.expectPush(ServerFrame.MemberChange.class, change -> change.user().equals("bob")))
            .isEqualTo(new ServerFrame.MemberChange("lobby", "bob", ServerFrame.MemberChange.JOINED));

        for (int i = 1; i <= 5; i++) {
            ChatPeer sender = i % 2 == 0 ? bob : alice;
            String ref = "s" + i;
            sender.send(new ClientFrame.Send(ref, "lobby", "id-" + i, "hello " + i));
            assertThat(sender.expectReply(ref, ServerFrame.Ack.class).seq()).isEqualTo(i);
        }
        for (ChatPeer reader : new ChatPeer[] {alice, bob}) {
            for (int i = 1; i <= 5; i++) {
                ServerFrame.Message message = reader.expectPush(ServerFrame.Message.class);
                assertThat(message.seq()).isEqualTo(i);
                assertThat(message.text()).isEqualTo("hello " + i);
            }
        }
        alice.close();
        ServerFrame.Presence gone = bob.expectPush(ServerFrame.Presence.class, p -> p.user().equals("alice"));
        assertThat(gone.status()).isEqualTo(PresenceStatus.OFFLINE);
        assertThat(gone.lastSeen()).isNotNull();
        bob.close();
    }

    /** Version 1.1: the user's state follows the user across nodes (rooms, DMs, read markers, the directory). */
    @Test
    void aDmAndReadMarkersReachTheUsersSessionsOnTheOtherNode() {
        ChatPeer carolHere = ChatPeer.connect(first.client(), "carol", T);
        ChatPeer carolThere = ChatPeer.connect(second.client(), "carol", T);
        ChatPeer dave = ChatPeer.connect(first.client(), "dave", T);
        dave.send(new ClientFrame.Send("s", "dm:carol:dave", "d1", "hi carol"));
        dave.expectReply("s", ServerFrame.Ack.class);
        for (ChatPeer carol : List.of(carolHere, carolThere)) {
            ServerFrame.Rooms rooms = carol.expectPush(ServerFrame.Rooms.class, r -> !r.rooms().isEmpty());
            assertThat(rooms.rooms()).containsExactly(ServerFrame.RoomEntry.of("dm:carol:dave", 1, 0, 1, 0));
        }
        carolThere.send(new ClientFrame.Read("r", "dm:carol:dave", 1));
        assertThat(carolThere.expectReply("r", ServerFrame.Read.class).seq()).isEqualTo(1);
        assertThat(carolHere.expectPush(ServerFrame.Read.class)).isEqualTo(new ServerFrame.Read(null, "dm:carol:dave", 1));

        carolHere.join("j", "cross-node-dir");
        carolThere.expectPush(ServerFrame.Rooms.class, r -> r.rooms().stream().anyMatch(e -> e.room().equals("cross-node-dir")));
        Wire.awaitUntil("the directory on the other node lists the room", T, () -> {
            carolThere.send(new ClientFrame.Directory("d", "cross-node", 10));
            return carolThere.expectReply("d", ServerFrame.Directory.class).rooms()
                .contains(new ServerFrame.DirectoryEntry("cross-node-dir", 1, 0));
        });
        List.of(carolHere, carolThere, dave).forEach(ChatPeer::close);
    }

    /** Version 1.1: edits, reactions and deletions reach the room's sessions on both nodes, once each. */
    @Test
    void changesReachTheRoomsSessionsOnBothNodesOnce() {
        String room = "cross-node-changes";
        ChatPeer erin = ChatPeer.connect(first.client(), "erin", T);
        ChatPeer frank = ChatPeer.connect(second.client(), "frank", T);
        erin.join("j", room);
        frank.join("j", room);
        erin.send(new ClientFrame.Send("s", room, "c1", "crossing"));
        long seq = erin.expectReply("s", ServerFrame.Ack.class).seq();

        erin.send(new ClientFrame.Edit("e", room, seq, null, "crossed"));
        erin.expectReply("e", ServerFrame.Ack.class);
        frank.send(new ClientFrame.React("r", room, seq, null, "🚀", true));
        frank.expectReply("r", ServerFrame.Ack.class);
        erin.send(new ClientFrame.Delete("d", room, seq, null));
        erin.expectReply("d", ServerFrame.Ack.class);
        for (ChatPeer peer : List.of(erin, frank)) {
            ServerFrame.Edited edited = peer.expectPush(ServerFrame.Edited.class);
            assertThat(List.of(edited.seq(), edited.target())).containsExactly(seq + 1, seq);
            assertThat(edited.text()).isEqualTo("crossed");
            assertThat(peer.expectPush(ServerFrame.Reacted.class).emoji()).isEqualTo("🚀");
            assertThat(peer.expectPush(ServerFrame.Deleted.class).seq()).isEqualTo(seq + 3);
            peer.expectNoPush("edited", f -> true, Duration.ofMillis(300));
        }
        List.of(erin, frank).forEach(ChatPeer::close);
    }

    /**
     * Lists of long messages cross nodes in parts Artery carries: 80 messages of 4,000 three-byte
     * characters weigh 960 KB, and Artery drops any remote message over 256 KiB. Readers on both
     * nodes (so one of them is remote to the room) get every message live, pages of history that
     * page on to the first message, and a full resume from the start.
     */
    @Test
    void longMessagesReachEveryNodeLiveInHistoryAndOnResume() {
        String room = "long-messages";
        String text = "€".repeat(4000);
        int count = 80;
        List<ChatPeer> readers = List.of(ChatPeer.connect(first.client(), "reader-1", T),
            ChatPeer.connect(second.client(), "reader-2", T));
        readers.forEach(reader -> reader.join("j", room));
        // Four writers, two on each node: 20 sends each, the default burst.
        List<ChatPeer> writers = java.util.stream.IntStream.range(0, 4)
            .mapToObj(w -> ChatPeer.connect((w % 2 == 0 ? first : second).client(), "writer-" + w, T)).toList();
        for (int i = 1; i <= count; i++) {
            ChatPeer writer = writers.get(i % 4);
            writer.send(new ClientFrame.Send("s" + i, room, "long-" + i, text));
            assertThat(writer.expectReply("s" + i, ServerFrame.Ack.class).seq()).isEqualTo(i);
        }
        writers.forEach(ChatPeer::close);
        for (ChatPeer reader : readers) {
            List<Long> live = reader.expectMessages(room, count).stream().map(m -> m.path("seq").asLong()).toList();
            assertThat(live).as("live at " + reader.user()).containsExactlyElementsOf(seqs(1, count));

            List<Long> paged = new java.util.ArrayList<>();
            Long before = null;
            int pages = 0;
            boolean more = true;
            while (more) {
                reader.send(new ClientFrame.History("h" + pages, room, before, 200));
                ServerFrame.History page = reader.expectReply("h" + pages++, ServerFrame.History.class);
                assertThat(page.chatMessages()).as("a page is never empty while it has more").isNotEmpty();
                assertThat(page.chatMessages()).allSatisfy(m -> assertThat(m.text()).isEqualTo(text));
                paged.addAll(0, page.chatMessages().stream().map(ServerFrame.Message::seq).toList());
                before = page.chatMessages().get(0).seq();
                more = page.hasMore();
            }
            assertThat(paged).as("history at " + reader.user()).containsExactlyElementsOf(seqs(1, count));
            assertThat(pages).as("pages of 960 KB of messages").isGreaterThan(4);

            reader.close();
            ChatPeer returning = ChatPeer.connect((reader == readers.get(0) ? first : second).client(), reader.user(), T);
            returning.send(new ClientFrame.Join("r", room, 0L));
            returning.expectReply("r", ServerFrame.Joined.class);
            List<Long> resumed = returning.expectMessages(room, count).stream().map(m -> m.path("seq").asLong()).toList();
            assertThat(resumed).as("resume at " + reader.user()).containsExactlyElementsOf(seqs(1, count));
            returning.close();
        }
    }

    private static List<Long> seqs(long from, long to) {
        return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
    }

    /** One user on two devices, each on another node: both get every message, and the user stays online until both are gone. */
    @Test
    void aUserWithSessionsOnBothNodesGetsEveryMessageOnBoth() {
        ChatPeer phone = ChatPeer.connect(first.client(), "dana", T);
        ChatPeer laptop = ChatPeer.connect(second.client(), "dana", T);
        ChatPeer erin = ChatPeer.connect(first.client(), "erin", T);
        for (ChatPeer peer : new ChatPeer[] {phone, laptop, erin}) {
            peer.join("j", "devices");
        }

        for (int i = 1; i <= 4; i++) {
            ChatPeer sender = i % 2 == 0 ? erin : laptop;
            sender.send(new ClientFrame.Send("s" + i, "devices", "d-" + i, "to both devices " + i));
            sender.expectReply("s" + i, ServerFrame.Ack.class);
        }
        for (ChatPeer device : new ChatPeer[] {phone, laptop}) {
            for (int i = 1; i <= 4; i++) {
                ServerFrame.Message message = device.expectPush(ServerFrame.Message.class);
                assertThat(message.seq()).isEqualTo(i);
                assertThat(message.text()).isEqualTo("to both devices " + i);
            }
        }

        laptop.close();
        erin.expectNoPush("presence", p -> p.path("user").asText().equals("dana"), Duration.ofSeconds(1));
        phone.close();
        assertThat(erin.expectPush(ServerFrame.Presence.class, p -> p.user().equals("dana")).status())
            .isEqualTo(PresenceStatus.OFFLINE);
        erin.close();
    }

    /**
     * The send budget is the user's: a user with a device on each node gets one burst (20 with the
     * defaults), not one per node. Without the shares each node would take 20 of the 30 sends.
     */
    @Test
    void aUserWithSessionsOnBothNodesHasOneSendBudget() {
        ChatPeer phone = ChatPeer.connect(first.client(), "gil", T);
        ChatPeer laptop = ChatPeer.connect(second.client(), "gil", T);
        for (ChatPeer device : new ChatPeer[] {phone, laptop}) {
            device.join("j", "budget");
            // answered by the user entity after it saw both sessions, and so told both nodes their share
            device.send(new ClientFrame.PresenceQuery("p", List.of("gil")));
            device.expectReply("p", "presence");
        }

        int accepted = 0;
        int limited = 0;
        for (int i = 1; i <= 30; i++) {
            ChatPeer device = i % 2 == 0 ? phone : laptop;
            device.send(new ClientFrame.Send("s" + i, "budget", "b-" + i, "burst " + i));
            JsonNode answer = device.expectReply("s" + i);
            if (answer.path("type").asText().equals("ack")) {
                accepted++;
            } else {
                assertThat(answer.path("code").asText()).isEqualTo("rate_limited");
                limited++;
            }
        }
        // 20 of the burst, and at most a token or two refilled while the 30 sends went out
        assertThat(accepted).isBetween(20, 22);
        assertThat(limited).isEqualTo(30 - accepted);
        phone.close();
        laptop.close();
    }
}
