package dev.pulse.node.cluster;

import static dev.pulse.node.testkit.Wire.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One account, two nodes: what one node learns (a registration, a logout, a used ticket, wrong
 * passwords) holds on the other at once, because it lives in the user's sharded entity.
 */
class AccountsAcrossNodesTest {

    private static final Duration T = Duration.ofSeconds(15);
    private static final String PASSWORD = "correct horse battery";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path data;
    static TestNode first;
    static TestNode second;

    @BeforeAll
    static void startCluster() {
        first = TestNode.startOnPostgres(data, Map.of("PULSE_AUTH", "accounts"));
        second = TestNode.startOnPostgres(data, Map.of("PULSE_AUTH", "accounts", "PULSE_SEED_NODES", first.node().node()));
        awaitUntil("2 members up", T, () -> second.client().get("/health").body().contains("\"members\":2"));
    }

    @AfterAll
    static void stopCluster() {
        for (TestNode node : new TestNode[] {second, first}) {
            if (node != null) {
                node.close();
            }
        }
    }

    private static void assertRefused(Runnable connect) {
        assertThatThrownBy(connect::run)
            .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));
    }

    @Test
    void aLogoutOnOneNodeClosesTheTokensSocketsOnTheOtherAndRefusesItThere() {
        first.client().register("roaming", PASSWORD);
        String token = second.client().login("roaming", PASSWORD).token();
        ChatPeer onSecond = ChatPeer.open(second.client(), token);
        onSecond.expectNext();
        ChatPeer onFirst = ChatPeer.open(first.client(), token);
        onFirst.expectNext();

        long loggingOut = System.nanoTime();
        assertThat(first.client().logout(token).statusCode()).isEqualTo(204);
        assertThat(onSecond.expectClosed(T)).isEqualTo(new PulseConnection.Closed(1008, "signed out"));
        Duration closedElsewhere = Duration.ofNanos(System.nanoTime() - loggingOut);
        assertThat(onFirst.expectClosed(T)).isEqualTo(new PulseConnection.Closed(1008, "signed out"));
        System.out.printf("[accounts] the other node's socket closed %d ms after the logout was sent%n", closedElsewhere.toMillis());
        assertThat(closedElsewhere).as("revocation reaches the other node's sockets").isLessThan(Duration.ofSeconds(1));
        // From the 204 on the token is refused everywhere: every node asks the user's entity.
        assertRefused(() -> second.client().connect(token));
        assertThat(second.client().logout(token).statusCode()).isEqualTo(401);
        assertThat(second.client().post("/api/register", JSON.createObjectNode()
            .put("user", "roaming").put("password", "another password").toString()).statusCode()).isEqualTo(409);
    }

    @Test
    void aTicketUsedOnOneNodeIsUsedOnTheOther() {
        String token = second.client().register("ticketed", PASSWORD).token();
        String ticket = first.client().ticket(token);
        ChatPeer peer = ChatPeer.openWithTicket(second.client(), ticket);
        assertThat(peer.expectNext().path("user").asText()).isEqualTo("ticketed");
        assertRefused(() -> first.client().connectWithTicket(ticket));
        peer.close();
    }

    @Test
    void wrongPasswordsForANameCountOnEveryNode() {
        first.client().register("guessed", PASSWORD);
        for (int i = 0; i < 10; i++) {
            TestNode node = i % 2 == 0 ? first : second;
            assertThat(node.client().post("/api/login", JSON.createObjectNode()
                .put("user", "guessed").put("password", "guess " + i).toString()).statusCode()).isEqualTo(401);
        }
        for (TestNode node : new TestNode[] {first, second}) {
            assertThat(node.client().post("/api/login", JSON.createObjectNode()
                .put("user", "guessed").put("password", PASSWORD).toString()).statusCode()).isEqualTo(429);
        }
    }
}
