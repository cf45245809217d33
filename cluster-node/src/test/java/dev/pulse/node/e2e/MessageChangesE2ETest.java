package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.Names;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Edit, delete and react over real sockets (PROTOCOL.md 1.1, "Edit, delete, react"): acks, the events
 * every subscribed session receives, the rules as error codes, resume with {@code since} across
 * changes, and history served folded. Every test uses its own users and rooms.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MessageChangesE2ETest {

    private static final Duration QUIET = Duration.ofMillis(500);
    private static final AtomicInteger TESTS = new AtomicInteger();

    @TempDir
    static Path data;

    private static TestNode node;

    private final List<ChatPeer> peers = new ArrayList<>();
    private String tag;

    @BeforeAll
    static void startNode() {
        // A small send budget, so that the test of edits counting against it is quick.
        node = TestNode.start(data, Map.of(), ConfigFactory.parseString("pulse.limits.send-burst = 8"));
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @BeforeEach
    void newTag() {
        tag = "c" + TESTS.incrementAndGet();
    }

    @AfterEach
    void closePeers() {
        peers.forEach(ChatPeer::close);
    }

    @Test
    void everyChangeIsAckedAndReachesEverySubscribedSessionWithTheNextSeq() {
        String room = tag + "-live";
        ChatPeer alice = connect("alice");
        ChatPeer bob = connect("bob");
        alice.join("j", room);
        bob.join("j", room);
        long seq = send(alice, room, "helo");

        alice.send(new ClientFrame.Edit("e", room, seq, "edit-1", "hello"));
        JsonNode ack = alice.expectReply("e", "ack");
        assertThat(ack.path("seq").asLong()).isEqualTo(seq + 1);
        assertThat(ack.path("id").asText()).isEqualTo("edit-1");
        assertThat(ack.path("room").asText()).isEqualTo(room);
        assertThat(ack.path("ts").asText()).isNotEmpty();
        for (ChatPeer peer : List.of(alice, bob)) {
            JsonNode edited = peer.expectPush("edited");
            assertThat(edited.path("room").asText()).isEqualTo(room);
            assertThat(edited.path("seq").asLong()).isEqualTo(seq + 1);
            assertThat(edited.path("target").asLong()).isEqualTo(seq);
            assertThat(edited.path("from").asText()).isEqualTo(user("alice"));
            assertThat(edited.path("text").asText()).isEqualTo("hello");
            assertThat(edited.path("ts").asText()).isEqualTo(ack.path("ts").asText());
        }

        bob.send(new ClientFrame.React("r", room, seq, null, "👍", true));
        JsonNode reactAck = bob.expectReply("r", "ack");
        assertThat(reactAck.has("id")).as("no id was sent: %s", reactAck).isFalse();
        for (ChatPeer peer : List.of(alice, bob)) {
            JsonNode reacted = peer.expectPush("reacted");
            assertThat(reacted.path("seq").asLong()).isEqualTo(seq + 2);
            assertThat(reacted.path("emoji").asText()).isEqualTo("👍");
            assertThat(reacted.path("on").asBoolean()).isTrue();
            assertThat(reacted.path("from").asText()).isEqualTo(user("bob"));
        }

        alice.send(new ClientFrame.Delete("d", room, seq, null));
        assertThat(alice.expectReply("d", "ack").path("seq").asLong()).isEqualTo(seq + 3);
        for (ChatPeer peer : List.of(alice, bob)) {
            JsonNode deleted = peer.expectPush("deleted");
            assertThat(deleted.path("target").asLong()).isEqualTo(seq);
            assertThat(deleted.has("text")).isFalse();
        }
    }

    @Test
    void theRulesAnswerWithTheirErrorCodes() {
        String room = tag + "-rules";
        ChatPeer alice = connect("alice");
        ChatPeer bob = connect("bob");
        alice.join("j", room);
        long seq = send(alice, room, "mine");

        bob.send(new ClientFrame.Edit("e1", room, seq, null, "yours now"));
        assertError(bob.expectReply("e1", "error"), "forbidden");
        bob.send(new ClientFrame.Delete("d1", room, seq, null));
        assertError(bob.expectReply("d1", "error"), "forbidden");
        alice.send(new ClientFrame.Edit("e2", room, seq + 5, null, "nothing there"));
        assertError(alice.expectReply("e2", "error"), "not_found");

        alice.send(new ClientFrame.Delete("d2", room, seq, null));
        alice.expectReply("d2", "ack");
        alice.send(new ClientFrame.Edit("e3", room, seq, null, "too late"));
        assertError(alice.expectReply("e3", "error"), "not_found");
        bob.send(new ClientFrame.React("r1", room, seq, null, "👍", true));
        assertError(bob.expectReply("r1", "error"), "not_found");
        bob.send(new ClientFrame.React("r2", room, seq + 1, null, "👍", true));
        assertError(bob.expectReply("r2", "error"), "not_found"); // seq + 1 is the deletion, no message

        String othersDm = Names.dmRoom(user("carol"), user("dave"));
        bob.send(new ClientFrame.React("r3", othersDm, 1, null, "👍", true));
        assertError(bob.expectReply("r3", "error"), "forbidden");
        bob.sendRaw("{\"type\":\"react\",\"ref\":\"r4\",\"room\":\"" + room + "\",\"target\":1,\"emoji\":\"\"}");
        assertError(bob.expectReply("r4", "error"), "invalid");
        assertThat(alice.isOpen() && bob.isOpen()).as("errors keep the sockets open").isTrue();
    }

    @Test
    void aRepeatedReactionMakesNoEventAndAcksTheSeqThatSetIt() {
        String room = tag + "-idem";
        ChatPeer alice = connect("alice");
        ChatPeer bob = connect("bob");
        alice.join("j", room);
        long seq = send(alice, room, "vote");
        bob.send(new ClientFrame.React("r1", room, seq, null, "🎉", true));
        long set = bob.expectReply("r1", "ack").path("seq").asLong();
        bob.send(new ClientFrame.React("r2", room, seq, null, "🎉", true));
        assertThat(bob.expectReply("r2", "ack").path("seq").asLong()).isEqualTo(set);
        bob.send(new ClientFrame.React("r3", room, seq, null, "😀", false));
        assertThat(bob.expectReply("r3", "ack").path("seq").asLong()).isZero();
        alice.expectPush("reacted");
        alice.expectNoPush("reacted", frame -> true, QUIET);
    }

    @Test
    void resumingWithSinceReplaysEveryChangeAndNoDeletedText() {
        String room = tag + "-resume";
        ChatPeer alice = connect("alice");
        alice.join("j", room);
        long first = send(alice, room, "keep me");
        long second = send(alice, room, "delete me");
        edit(alice, room, first, "kept and edited");
        edit(alice, room, second, "still deleting");
        alice.send(new ClientFrame.React("r", room, first, null, "👍", true));
        alice.expectReply("r", "ack");
        alice.send(new ClientFrame.Delete("d", room, second, null));
        long lastSeq = alice.expectReply("d", "ack").path("seq").asLong();

        ChatPeer later = connect("bob");
        later.send(new ClientFrame.Join("j", room, first - 1));
        later.expectReply("j", "joined");
        List<JsonNode> replay = later.takeThrough("synced");
        List<JsonNode> events = replay.stream().filter(frame -> frame.has("seq")).toList();
        assertThat(events).extracting(frame -> frame.path("type").asText())
            .containsExactly("message", "message", "edited", "edited", "reacted", "deleted");
        assertThat(events).extracting(frame -> frame.path("seq").asLong())
            .containsExactly(first, second, first + 2, first + 3, first + 4, lastSeq);
        assertThat(events.get(0).path("text").asText()).isEqualTo("kept and edited");
        assertThat(events.get(0).path("reactions").path("👍").get(0).asText()).isEqualTo(user("alice"));
        assertThat(events.get(1).path("deleted").asBoolean()).isTrue();
        assertThat(events.get(1).has("text")).isFalse();
        assertThat(events.get(3).has("text")).as("the deleted message's edit").isFalse();
        assertThat(replay.toString()).doesNotContain("delete me").doesNotContain("still deleting");
    }

    @Test
    void historyHoldsEveryEventAndEachMessageAsItIsNow() {
        String room = tag + "-history";
        ChatPeer alice = connect("alice");
        alice.join("j", room);
        long seq = send(alice, room, "draft");
        String editedTs = edit(alice, room, seq, "final @" + user("bob"));

        alice.send(new ClientFrame.History("h", room, null, 50));
        JsonNode page = alice.expectReply("h", "history");
        JsonNode messages = page.path("messages");
        assertThat(messages).hasSize(2);
        JsonNode message = messages.get(0);
        assertThat(message.path("type").asText()).isEqualTo("message");
        assertThat(message.path("text").asText()).isEqualTo("final @" + user("bob"));
        assertThat(message.path("editedAt").asText()).isEqualTo(editedTs);
        assertThat(message.path("mentions").get(0).asText()).isEqualTo(user("bob"));
        assertThat(message.has("deleted")).isFalse();
        assertThat(messages.get(1).path("type").asText()).isEqualTo("edited");
        // limit counts events
        alice.send(new ClientFrame.History("h1", room, null, 1));
        assertThat(alice.expectReply("h1", "history").path("messages").get(0).path("type").asText()).isEqualTo("edited");
    }

    @Test
    void editsAndReactionsCountAgainstTheSendBudgetAndDeletionsDoNot() {
        String room = tag + "-budget";
        ChatPeer alice = connect("alice");
        alice.join("j", room);
        long seq = send(alice, room, "budget");
        JsonNode refused = null;
        for (int i = 0; i < 20 && refused == null; i++) {
            alice.send(new ClientFrame.React("r" + i, room, seq, null, "e" + i, true));
            JsonNode reply = alice.expectReply("r" + i);
            if (reply.path("type").asText().equals("error")) {
                refused = reply;
            }
        }
        assertThat(refused).as("the budget of 8 ran out").isNotNull();
        assertError(refused, "rate_limited");
        assertThat(refused.path("retryAfterMs").asLong()).isPositive();
        alice.send(new ClientFrame.Delete("d", room, seq, null));
        alice.expectReply("d", "ack");
    }

    // ------------------------------------------------------------------ helpers

    private ChatPeer connect(String name) {
        ChatPeer peer = ChatPeer.connect(node.client(), user(name));
        peers.add(peer);
        return peer;
    }

    private String user(String name) {
        return name + "-" + tag;
    }

    private static long send(ChatPeer peer, String room, String text) {
        String id = java.util.UUID.randomUUID().toString();
        peer.send(new ClientFrame.Send(id, room, id, text));
        return peer.expectReply(id, "ack").path("seq").asLong();
    }

    /** Edits and returns the ack's timestamp. */
    private static String edit(ChatPeer peer, String room, long target, String text) {
        String ref = "edit-" + target + "-" + text.length();
        peer.send(new ClientFrame.Edit(ref, room, target, null, text));
        return peer.expectReply(ref, "ack").path("ts").asText();
    }

    private static void assertError(JsonNode error, String code) {
        assertThat(error.path("code").asText()).as("%s", error).isEqualTo(code);
    }
}
