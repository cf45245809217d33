package dev.pulse.node.faults;

import static dev.pulse.node.testkit.ChatPeer.ofType;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.ServerFrame;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL goes away under a running node and comes back: sends are answered "unavailable"
 * quickly (no hang, no ack), the node stays up, and it recovers by itself.
 */
class DatabaseOutageTest {

    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path nodeData;
    @TempDir
    Path pgData;

    private EmbeddedPostgres postgres;
    private TestNode node;

    @AfterEach
    void stop() throws IOException {
        if (node != null) {
            node.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    private EmbeddedPostgres startPostgres(int port) throws IOException {
        return EmbeddedPostgres.builder().setPort(port).setDataDirectory(pgData).setCleanDataDirectory(false).start();
    }

    @Test
    void sendsFailFastWhileTheDatabaseIsDownAndSucceedOnceItIsBack() throws IOException {
        int port = freePort();
        postgres = startPostgres(port);
        node = TestNode.start(nodeData, Map.of(
                "PULSE_DB_URL", "jdbc:postgresql://localhost:" + port + "/postgres",
                "PULSE_DB_USER", "postgres", "PULSE_DB_PASSWORD", "postgres"),
            ConfigFactory.parseString("pulse.limits.send-burst = 1000"));

        ChatPeer alice = ChatPeer.connect(node.client(), "alice", T);
        alice.join("j", "ops");
        alice.send(new ClientFrame.Send("s1", "ops", "before", "before the outage"));
        assertThat(alice.expectReply("s1", ServerFrame.Ack.class).seq()).isEqualTo(1);

        postgres.close();
        postgres = null;

        long start = System.nanoTime();
        alice.send(new ClientFrame.Send("s2", "ops", "during", "during the outage"));
        ServerFrame.Error error = alice.expectReply("s2", ServerFrame.Error.class);
        long answeredMs = (System.nanoTime() - start) / 1_000_000;
        System.out.println("{\"test\":\"database-outage\",\"unavailableAfterMs\":" + answeredMs + "}");
        assertThat(error.code()).isEqualTo(ErrorCode.UNAVAILABLE.wire());
        assertThat(answeredMs).as("answered without hanging").isLessThan(6_000);
        assertThat(alice.pending()).noneMatch(ofType("ack"));
        assertOpen(alice);

        postgres = startPostgres(port);

        // The client retries with the same id until the room is back; exactly one message results.
        ServerFrame.Ack ack = retryUntilAcked(alice, "ops", "during", "during the outage");
        assertThat(ack).as("acked after the database returned").isNotNull();
        assertThat(ack.seq()).isEqualTo(2);

        alice.send(new ClientFrame.History("h", "ops", null, 50));
        ServerFrame.History history = alice.expectReply("h", ServerFrame.History.class);
        assertThat(history.chatMessages()).extracting(ServerFrame.Message::id).containsExactly("before", "during");
        alice.close();
    }

    /**
     * A database that hangs instead of refusing (a stalled network path): no journal answer comes,
     * so the session's own deadline answers "unavailable"; once the path is back, the retry with the
     * same id is committed exactly once.
     */
    @Test
    void sendsAreAnsweredAtTheDeadlineWhileTheDatabaseHangs() throws IOException {
        int port = freePort();
        postgres = startPostgres(port);
        try (FaultProxy path = FaultProxy.to(port)) {
            node = TestNode.start(nodeData, Map.of(
                    "PULSE_DB_URL", "jdbc:postgresql://localhost:" + path.port() + "/postgres",
                    "PULSE_DB_USER", "postgres", "PULSE_DB_PASSWORD", "postgres"),
                ConfigFactory.parseString("pulse.limits.send-burst = 1000\npulse.session.entity-timeout = 1s"));
            ChatPeer alice = ChatPeer.connect(node.client(), "alice", T);
            alice.join("j", "hang");
            alice.send(new ClientFrame.Send("s1", "hang", "before", "before the stall"));
            assertThat(alice.expectReply("s1", ServerFrame.Ack.class).seq()).isEqualTo(1);

            path.stallAll();
            long start = System.nanoTime();
            alice.send(new ClientFrame.Send("s2", "hang", "stalled", "while the database hangs"));
            alice.send(new ClientFrame.Send("s3", "hang", "stalled-2", "also while it hangs"));
            ServerFrame.Error first = alice.expectReply("s2", ServerFrame.Error.class);
            ServerFrame.Error second = alice.expectReply("s3", ServerFrame.Error.class);
            long answeredMs = (System.nanoTime() - start) / 1_000_000;
            System.out.println("{\"test\":\"database-hang\",\"unavailableAfterMs\":" + answeredMs + "}");
            assertThat(first.code()).isEqualTo(ErrorCode.UNAVAILABLE.wire());
            assertThat(second.code()).isEqualTo(ErrorCode.UNAVAILABLE.wire());
            assertThat(answeredMs).as("answered at the 1 s deadline, not left hanging").isBetween(900L, 5_000L);
            assertThat(alice.pending()).noneMatch(ofType("ack"));
            assertOpen(alice);

            path.resume();
            ServerFrame.Ack ack = retryUntilAcked(alice, "hang", "stalled", "while the database hangs");
            assertThat(ack).as("acked after the database path returned").isNotNull();

            alice.send(new ClientFrame.History("h", "hang", null, 50));
            ServerFrame.History history = alice.expectReply("h", ServerFrame.History.class);
            assertThat(history.chatMessages()).extracting(ServerFrame.Message::id)
                .as("the stalled write may have landed before the retry, but only once")
                .containsOnlyOnce("stalled")
                .startsWith("before");
            assertThat(history.chatMessages()).extracting(ServerFrame.Message::seq)
                .as("gap-free").containsExactly(java.util.stream.LongStream.rangeClosed(1, history.chatMessages().size()).boxed().toArray(Long[]::new));
            alice.close();
        }
    }

    /** Retries a send with the same id, as a client does, until it is acked (null after 60 s). */
    private static ServerFrame.Ack retryUntilAcked(ChatPeer c, String room, String id, String text) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
            String ref = "retry-" + attempt;
            c.send(new ClientFrame.Send(ref, room, id, text));
            ServerFrame reply = c.expectReply(ref, ServerFrame.class);
            if (reply instanceof ServerFrame.Ack a) {
                return a;
            }
        }
        return null;
    }

    private void assertOpen(ChatPeer c) {
        assertThat(node.client().get("/health").statusCode()).as("the node stays up").isEqualTo(200);
        assertThat(c.isOpen()).isTrue();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
