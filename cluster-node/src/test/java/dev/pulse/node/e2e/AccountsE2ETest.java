package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.node.testkit.Wire;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Accounts as PROTOCOL.md 1.1 "Accounts and sign-in" specifies them, over real HTTP and sockets, on a
 * node in its default mode (PULSE_AUTH=accounts): register, login, the throttle on wrong passwords,
 * logout that closes sockets and refuses the token, single-use tickets, expiry, durability.
 */
class AccountsE2ETest {

    private static final Duration T = Duration.ofSeconds(10);
    private static final String PASSWORD = "correct horse battery";

    @TempDir
    static Path data;

    private static TestNode node;

    @BeforeAll
    static void start() {
        // Every request here comes from 127.0.0.1: the per-address bound has a test and a node of its own.
        node = TestNode.start(data, Map.of("PULSE_AUTH", "accounts"),
            ConfigFactory.parseString("pulse.auth.max-failures-per-address = 1000"));
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static PulseClient client() {
        return node.client();
    }

    private static HttpResponse<String> post(String path, String body) {
        return client().post(path, body);
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private static String credentials(String user, String password) {
        return JSON.createObjectNode().put("user", user).put("password", password).toString();
    }

    private static String json(String field, String value) {
        return JSON.createObjectNode().put(field, value).toString();
    }

    private static void assertError(HttpResponse<String> response, int status, String code) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode body = Wire.json(response.body());
        assertThat(body.path("type").asText()).isEqualTo("error");
        assertThat(body.path("code").asText()).isEqualTo(code);
        assertThat(body.path("message").asText()).isNotBlank();
    }

    @Test
    void registerMakesAnAccountOnceAndAnswersLikeLogin() {
        HttpResponse<String> created = post("/api/register", credentials("reg-alice", PASSWORD));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode body = Wire.json(created.body());
        assertThat(body.path("user").asText()).isEqualTo("reg-alice");
        assertThat(Instant.parse(body.path("expiresAt").asText())).isAfter(Instant.now());
        assertThat(created.headers().firstValue("Cache-Control")).contains("no-store");
        // The token opens a socket as that user.
        ChatPeer peer = ChatPeer.open(client(), body.path("token").asText());
        assertThat(peer.expectNext().path("user").asText()).isEqualTo("reg-alice");
        peer.close();

        assertError(post("/api/register", credentials("reg-alice", "another password")), 409, "conflict");
        // The first password still holds, the second never did.
        assertThat(client().login("reg-alice", PASSWORD).user()).isEqualTo("reg-alice");
        assertError(post("/api/login", credentials("reg-alice", "another password")), 401, "unauthorized");
    }

    @Test
    void passwordsAre8To256CharactersAndNamesFollowTheRules() {
        assertError(post("/api/register", credentials("short-pw", "seven77")), 400, "invalid");
        assertError(post("/api/register", credentials("long-pw", "x".repeat(257))), 400, "invalid");
        assertError(post("/api/register", json("user", "no-pw")), 400, "invalid");
        assertError(post("/api/register", credentials("Not-Lower", PASSWORD)), 400, "invalid");
        assertThat(post("/api/register", credentials("pw-256", "\u20ac".repeat(256))).statusCode()).isEqualTo(201);
        assertThat(post("/api/register", credentials("pw-8", "12345678")).statusCode()).isEqualTo(201);
    }

    /** Issue 12: accounts named "." or "-", and public rooms that read like DMs, are not made. */
    @Test
    void newAccountsNeedALetterOrDigitAndRoomsNamedLikeDirectMessagesAreRefused() {
        for (String name : new String[] {".", "..", "-", "_-_"}) {
            assertError(post("/api/register", credentials(name, PASSWORD)), 400, "invalid");
        }
        ChatPeer peer = ChatPeer.open(client(), client().register("namer", PASSWORD).token());
        peer.expectNext();
        peer.send(new ClientFrame.Join("j", "dm.alice.bob", null));
        assertThat(peer.expectReply("j", ServerFrame.Error.class).code()).isEqualTo("invalid");
        peer.send(new ClientFrame.Send("s", "dm.alice.bob", "m1", "not a DM"));
        assertThat(peer.expectReply("s", ServerFrame.Error.class).code()).isEqualTo("invalid");
        peer.join("j2", "admins");
        peer.close();
    }

    @Test
    void aWrongPasswordAndAnUnknownUserGetTheSameAnswerAndNoPasswordIsRefused() {
        client().register("known-user", PASSWORD);
        HttpResponse<String> wrong = post("/api/login", credentials("known-user", "wrong password"));
        HttpResponse<String> unknown = post("/api/login", credentials("never-registered", "wrong password"));
        assertError(wrong, 401, "unauthorized");
        assertError(unknown, 401, "unauthorized");
        assertThat(unknown.body()).isEqualTo(wrong.body());
        assertError(post("/api/login", json("user", "known-user")), 401, "unauthorized");
        // A name alone signs nobody in, and no socket opens without a token.
        assertThatThrownBy(() -> client().connectAs("known-user")).isInstanceOf(PulseClient.HttpFailure.class);
    }

    @Test
    void tenWrongPasswordsForANameThrottleItAndMalformedRequestsDoNotCount() {
        client().register("victim", PASSWORD);
        for (int i = 0; i < 5; i++) {
            assertError(post("/api/login", "{\"user\":\"victim\",\"password\":"), 400, "invalid");
        }
        for (int i = 0; i < 10; i++) {
            assertError(post("/api/login", credentials("victim", "guess " + i)), 401, "unauthorized");
        }
        HttpResponse<String> throttled = post("/api/login", credentials("victim", PASSWORD));
        assertError(throttled, 429, "rate_limited");
        long retryAfter = Wire.json(throttled.body()).path("retryAfterMs").asLong();
        assertThat(retryAfter).isBetween(1L, 60_000L);
        // Another name is not held back by the victim's.
        client().register("bystander", PASSWORD);
        assertThat(client().login("bystander", PASSWORD).user()).isEqualTo("bystander");
    }

    @Test
    void logoutRefusesTheTokenEverywhereAndClosesItsSockets() {
        String token = client().register("leaver", PASSWORD).token();
        String other = client().login("leaver", PASSWORD).token();
        ChatPeer signedIn = ChatPeer.open(client(), token);
        signedIn.expectNext();
        ChatPeer otherDevice = ChatPeer.open(client(), other);
        otherDevice.expectNext();

        assertThat(client().logout(token).statusCode()).isEqualTo(204);
        assertThat(signedIn.expectClosed(T)).isEqualTo(new PulseConnection.Closed(1008, "signed out"));
        assertThatThrownBy(() -> client().connect(token))
            .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));
        assertError(client().logout(token), 401, "unauthorized");
        assertError(client().postWithToken("/api/ticket", token), 401, "unauthorized");
        assertError(client().logout("not a token"), 401, "unauthorized");
        // The user's other sign-in is untouched.
        assertThat(otherDevice.isOpen()).isTrue();
        otherDevice.sync();
        otherDevice.close();
    }

    @Test
    void aTicketOpensOneSocketOnceAndIsNoToken() {
        String token = client().register("ticket-user", PASSWORD).token();
        HttpResponse<String> answer = client().postWithToken("/api/ticket", token);
        assertThat(answer.statusCode()).isEqualTo(200);
        JsonNode body = Wire.json(answer.body());
        String ticket = body.path("ticket").asText();
        assertThat(Duration.between(Instant.now(), Instant.parse(body.path("expiresAt").asText())))
            .isBetween(Duration.ofSeconds(20), Duration.ofSeconds(30));

        ChatPeer peer = ChatPeer.openWithTicket(client(), ticket);
        assertThat(peer.expectNext().path("user").asText()).isEqualTo("ticket-user");
        assertThatThrownBy(() -> client().connectWithTicket(ticket))
            .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));
        assertThatThrownBy(() -> client().connect(ticket))
            .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));
        assertThatThrownBy(() -> client().connectWithTicket(token))
            .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));

        // A socket opened with a ticket belongs to the ticket's token: logout closes it.
        assertThat(client().logout(token).statusCode()).isEqualTo(204);
        assertThat(peer.expectClosed(T)).isEqualTo(new PulseConnection.Closed(1008, "signed out"));
    }

    @Test
    void aDmWithANameThatHasNoAccountIsNotFound() {
        String token = client().register("dm-writer", PASSWORD).token();
        ChatPeer writer = ChatPeer.open(client(), token);
        assertThat(writer.expectNext().path("type").asText()).isEqualTo("welcome");
        String ghostRoom = dev.pulse.protocol.Names.dmRoom("dm-writer", "dm-ghost");
        writer.send(new dev.pulse.protocol.ClientFrame.Send("s1", ghostRoom, "m1", "anyone?"));
        writer.send(new dev.pulse.protocol.ClientFrame.Join("j1", ghostRoom, null));
        assertThat(writer.expectReply("s1", "error").path("code").asText()).isEqualTo("not_found");
        assertThat(writer.expectReply("j1", "error").path("code").asText()).isEqualTo("not_found");

        client().register("dm-reader", PASSWORD);
        String realRoom = dev.pulse.protocol.Names.dmRoom("dm-reader", "dm-writer");
        writer.send(new dev.pulse.protocol.ClientFrame.Send("s2", realRoom, "m2", "hello"));
        writer.send(new dev.pulse.protocol.ClientFrame.Send("s3", realRoom, "m3", "in order"));
        assertThat(writer.expectReply("s2", "ack").path("seq").asLong()).isEqualTo(1);
        assertThat(writer.expectReply("s3", "ack").path("seq").asLong()).isEqualTo(2);
        writer.close();
    }

    @Test
    void aSocketIsClosedWhenItsTokenExpires(@TempDir Path dir) {
        try (TestNode shortLived = TestNode.start(dir, Map.of("PULSE_AUTH", "accounts"),
                // long enough to register and connect on a busy CI machine, short enough to wait for
                ConfigFactory.parseString("pulse.token.ttl = 6s"))) {
            String token = shortLived.client().register("brief", PASSWORD).token();
            ChatPeer peer = ChatPeer.open(shortLived.client(), token);
            peer.expectNext();
            // the session checks the expiry with its silence check, every heartbeat / 4 (3.75 s here)
            assertThat(peer.expectClosed(Duration.ofSeconds(15))).isEqualTo(new PulseConnection.Closed(1008, "token expired"));
            assertThatThrownBy(() -> shortLived.client().connect(token))
                .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));
        }
    }

    @Test
    void accountsAndLogoutsSurviveARestart(@TempDir Path dir) {
        String signedOut;
        String kept;
        try (TestNode before = TestNode.start(dir, Map.of("PULSE_AUTH", "accounts"))) {
            before.client().register("durable", PASSWORD);
            signedOut = before.client().login("durable", PASSWORD).token();
            kept = before.client().login("durable", PASSWORD).token();
            assertThat(before.client().logout(signedOut).statusCode()).isEqualTo(204);
        }
        try (TestNode after = TestNode.start(dir, Map.of("PULSE_AUTH", "accounts"))) {
            assertThat(after.client().login("durable", PASSWORD).user()).isEqualTo("durable");
            assertError(after.client().post("/api/register", credentials("durable", PASSWORD)), 409, "conflict");
            assertThatThrownBy(() -> after.client().connect(signedOut))
                .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> assertThat(e.status()).isEqualTo(401));
            ChatPeer peer = ChatPeer.open(after.client(), kept);
            assertThat(peer.expectNext().path("user").asText()).isEqualTo("durable");
            peer.close();
        }
    }

    @Test
    void openModeSignsInByNameAndHasNoRegisterButLogoutAndTicketsWork(@TempDir Path dir) {
        try (TestNode open = TestNode.start(dir, Map.of("PULSE_AUTH", "open"))) {
            assertError(open.client().post("/api/register", credentials("anyone", PASSWORD)), 404, "not_found");
            // Version 1 exactly: a name of punctuation signs in, a room named like a DM is a room.
            ChatPeer dot = ChatPeer.connect(open.client(), ".", T);
            dot.join("j", "dm.a-b");
            dot.close();
            String token = open.client().login("anyone").token();
            ChatPeer peer = ChatPeer.openWithTicket(open.client(), open.client().ticket(token));
            assertThat(peer.expectNext().path("user").asText()).isEqualTo("anyone");
            assertThat(open.client().logout(token).statusCode()).isEqualTo(204);
            assertThat(peer.expectClosed(T)).isEqualTo(new PulseConnection.Closed(1008, "signed out"));
        }
    }

    private static HttpResponse<String> postWithForwardedFor(TestNode to, String body, String forwardedFor) {
        try {
            return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + to.httpPort() + "/api/login"))
                .header("Content-Type", "application/json").header("X-Forwarded-For", forwardedFor)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void oneAddressIsThrottledAcrossNames(@TempDir Path dir) {
        try (TestNode guarded = TestNode.start(dir, Map.of("PULSE_AUTH", "accounts"),
                ConfigFactory.parseString("pulse.auth.max-failures-per-address = 25"))) {
            // Wrong passwords spread over names, so that no name reaches its own bound of 10.
            int sent = 0;
            HttpResponse<String> last = null;
            while (sent < 40) {
                // Each with a made-up X-Forwarded-For: no proxy is trusted, so it changes nothing.
                last = postWithForwardedFor(guarded, credentials("sprayed-" + (sent % 5), "guess " + sent), "198.51.100." + sent);
                sent++;
                if (last.statusCode() == 429) {
                    break;
                }
                assertError(last, 401, "unauthorized");
            }
            assertError(last, 429, "rate_limited");
            assertThat(sent).as("requests until the address was held back").isEqualTo(26);
        }
    }
}
