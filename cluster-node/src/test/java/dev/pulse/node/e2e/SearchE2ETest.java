package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.persistence.JournalDatabase;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.Names;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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
 * Search over real sockets (PROTOCOL.md 1.1, "Search"), on H2 here and on PostgreSQL's full-text
 * search in the suite's second run: only rooms the user may read, newest first, current text only,
 * never a deleted message. The index is written just after each commit, so answers are awaited.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SearchE2ETest {

    private static final Duration INDEXED = Duration.ofSeconds(10);
    private static final AtomicInteger TESTS = new AtomicInteger();

    @TempDir
    static Path data;

    private static TestNode node;

    private final List<ChatPeer> peers = new ArrayList<>();
    private String tag;

    @BeforeAll
    static void startNode() {
        node = TestNode.start(data);
    }

    @AfterAll
    static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @BeforeEach
    void newTag() {
        tag = "s" + TESTS.incrementAndGet();
    }

    @AfterEach
    void closePeers() {
        peers.forEach(ChatPeer::close);
    }

    @Test
    void searchFindsTheCurrentTextOfTheUsersRoomsNewestFirstAndNoDeletedMessage() {
        ChatPeer alice = connect("alice");
        ChatPeer bob = connect("bob");
        String ops = tag + "-ops";
        String dev = tag + "-dev";
        String other = tag + "-other";
        String word = "zebra" + tag; // a word no other test writes
        long first = send(alice, ops, word + " prod now");
        send(alice, dev, "staging " + word.toUpperCase());
        long edited = send(alice, ops, "unrelated");
        long deleted = send(alice, ops, word + " secret");
        send(bob, other, word + " in a room alice is not in");
        send(bob, Names.dmRoom(user("bob"), user("carol")), word + " in a DM of others");
        alice.send(new ClientFrame.Edit("e", ops, edited, null, "later " + word));
        alice.expectReply("e", "ack");
        alice.send(new ClientFrame.Delete("d", ops, deleted, null));
        alice.expectReply("d", "ack");

        JsonNode answer = awaitSearch(alice, word, null, results -> results.size() == 3);
        assertThat(texts(answer)).containsExactly("later " + word, "staging " + word.toUpperCase(), word + " prod now");
        JsonNode newest = answer.path("results").get(0);
        assertThat(newest.path("room").asText()).isEqualTo(ops);
        assertThat(newest.path("seq").asLong()).isEqualTo(edited);
        assertThat(newest.path("from").asText()).isEqualTo(user("alice"));
        assertThat(newest.path("ts").asText()).isNotEmpty();
        assertThat(answer.path("results").get(2).path("seq").asLong()).isEqualTo(first);

        // one room; a word's beginning; any case; every word must be there
        assertThat(texts(awaitSearch(alice, word, dev, results -> true))).containsExactly("staging " + word.toUpperCase());
        assertThat(texts(awaitSearch(alice, word.substring(0, 6).toUpperCase() + " prod", null, results -> true)))
            .containsExactly(word + " prod now");
        assertThat(texts(awaitSearch(alice, word + " nothing", null, results -> true))).isEmpty();
        // a public room alice never joined may be searched when named
        assertThat(texts(awaitSearch(alice, word, other, results -> true))).hasSize(1);
    }

    @Test
    void aLimitCutsTheNewestAndBadQueriesAreRefused() {
        ChatPeer alice = connect("alice");
        String room = tag + "-many";
        String word = "okapi" + tag;
        for (int i = 0; i < 5; i++) {
            send(alice, room, word + " " + i);
        }
        awaitSearch(alice, word, room, results -> results.size() == 5);
        alice.send(new ClientFrame.Search("l", word, room, 2));
        assertThat(texts(alice.expectReply("l", "search"))).containsExactly(word + " 4", word + " 3");

        alice.send(new ClientFrame.Search("dm", word, Names.dmRoom(user("bob"), user("carol")), 20));
        assertThat(alice.expectReply("dm", "error").path("code").asText()).isEqualTo("forbidden");
        alice.sendRaw("{\"type\":\"search\",\"ref\":\"empty\",\"query\":\"\"}");
        assertThat(alice.expectReply("empty", "error").path("code").asText()).isEqualTo("invalid");
        alice.send(new ClientFrame.Search("punct", "?!", null, 20));
        assertThat(alice.expectReply("punct", "search").path("results")).isEmpty();
    }

    @Test
    void aMessageWithANulCharacterIsFoundAndDoesNotStopTheIndex() {
        ChatPeer alice = connect("alice");
        String room = tag + "-nul";
        String word = "narwhal" + tag;
        alice.sendRaw("{\"type\":\"send\",\"ref\":\"n\",\"room\":\"" + room + "\",\"id\":\"n1\",\"text\":\""
            + word + " with a \\u0000 inside\"}");
        alice.expectReply("n", "ack");
        send(alice, room, word + " after it");
        assertThat(awaitSearch(alice, word, room, results -> results.size() == 2).path("results")).hasSize(2);
    }

    @Test
    void theIndexSurvivesARestartAndKeepsUpAfterIt(@TempDir Path own) {
        String room = tag + "-durable";
        String word = "quokka" + tag;
        try (TestNode first = TestNode.start(own)) {
            ChatPeer alice = ChatPeer.connect(first.client(), user("alice"));
            send(alice, room, word + " before");
            awaitSearch(alice, word, room, results -> results.size() == 1);
            alice.close();
        }
        try (TestNode second = TestNode.start(own)) {
            ChatPeer alice = ChatPeer.connect(second.client(), user("alice"));
            send(alice, room, word + " after");
            assertThat(texts(awaitSearch(alice, word, room, results -> results.size() == 2)))
                .containsExactly(word + " after", word + " before");
            alice.close();
        }
    }

    /**
     * A room whose index lost its rows and progress (as a room written before search existed has none)
     * is indexed from its journal when it next starts, in more than one catch-up step.
     */
    @Test
    void aRoomWhoseIndexIsBehindCatchesUpFromItsJournalWhenItStarts(@TempDir Path own) throws Exception {
        String room = tag + "-behind";
        String word = "numbat" + tag;
        int messages = 1_100; // more than one catch-up chunk (1,000 events)
        try (TestNode first = TestNode.start(own, Map.of(), ConfigFactory.parseString("pulse.limits.send-burst = 2000"))) {
            ChatPeer alice = ChatPeer.connect(first.client(), user("alice"));
            send(alice, room, "earliest" + tag + " " + word);
            for (int i = 2; i <= messages; i++) {
                send(alice, room, word + " " + i);
            }
            // everything indexed (the newest last) before the index loses the room, in one transaction
            awaitSearch(alice, word, room, results -> results.contains(word + " " + messages));
            alice.close();
            try (Connection connection = JournalDatabase.of(first.node().system()).connection();
                 Statement statement = connection.createStatement()) {
                connection.setAutoCommit(false);
                statement.execute("DELETE FROM pulse_search WHERE room = '" + room + "'");
                statement.execute("DELETE FROM pulse_search_progress WHERE room = '" + room + "'");
                connection.commit();
            }
        }
        try (TestNode second = TestNode.start(own)) {
            ChatPeer alice = ChatPeer.connect(second.client(), user("alice"));
            alice.send(new ClientFrame.Join("j", room, (long) messages));
            alice.expectReply("j", "joined");
            // the newest message is indexed last, in the second step
            List<String> newest = texts(awaitSearch(alice, word, room, results -> results.contains(word + " " + messages)));
            assertThat(newest).hasSize(20).first().isEqualTo(word + " " + messages);
            assertThat(texts(awaitSearch(alice, "earliest" + tag, room, results -> results.size() == 1))).hasSize(1);
            alice.close();
        }
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
        String id = UUID.randomUUID().toString();
        peer.send(new ClientFrame.Send(id, room, id, text));
        return peer.expectReply(id, "ack").path("seq").asLong();
    }

    /** Searches until the answer's results match (the index is written just after the commit). */
    private static JsonNode awaitSearch(ChatPeer peer, String query, String room,
                                        java.util.function.Predicate<List<String>> until) {
        JsonNode[] last = new JsonNode[1];
        AtomicInteger asked = new AtomicInteger();
        Wire.awaitUntil("search '" + query + "' matches", INDEXED, () -> {
            String ref = "q" + asked.incrementAndGet();
            peer.send(new ClientFrame.Search(ref, query, room, 20));
            last[0] = peer.expectReply(ref, "search");
            return until.test(texts(last[0]));
        });
        return last[0];
    }

    private static List<String> texts(JsonNode answer) {
        List<String> texts = new ArrayList<>();
        answer.path("results").forEach(result -> texts.add(result.path("text").asText()));
        return texts;
    }
}
