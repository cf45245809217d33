package dev.pulse.node.e2e;

import static dev.pulse.node.testkit.ChatPeer.message;
import static dev.pulse.node.testkit.Wire.awaitUntil;
import static dev.pulse.node.testkit.Wire.fields;
import static dev.pulse.node.testkit.Wire.iso;
import static dev.pulse.node.testkit.Wire.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.pulse.node.TestNode;
import dev.pulse.node.auth.TokenService;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Black-box tests of the connection layer of the wire contract (PROTOCOL.md): login, the WebSocket
 * handshake and welcome, ping, malformed frames, frame and text limits, the send rate limit, slow
 * consumers, keep-alive, shutdown and health. Everything goes through real sockets to real nodes.
 */
class ConnectionE2ETest {

    private static final Duration T = Duration.ofSeconds(10);
    private static final String SECRET = "test-secret-of-at-least-32-bytes!!";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_FRAME = 64 * 1024;
    /** U+1F600, one code point, two UTF-16 chars, four UTF-8 bytes. */
    private static final String EMOJI = "\uD83D\uDE00";

    @TempDir
    static Path sharedData;

    /** A node with default settings, shared by the tests that do not need their own configuration. */
    private static TestNode node;

    private final List<ChatPeer> opened = new ArrayList<>();

    @BeforeAll
    static void startSharedNode() {
        node = TestNode.start(sharedData);
    }

    @AfterAll
    static void stopSharedNode() {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void closeConnections() {
        opened.forEach(ChatPeer::close);
        opened.clear();
    }

    private ChatPeer track(ChatPeer peer) {
        opened.add(peer);
        return peer;
    }

    private ChatPeer connect(TestNode on, String user) {
        return track(ChatPeer.connect(on.client(), user, T));
    }

    // ================================================================== 1. login

    @Test
    void loginAnswers200WithTokenUserAndIsoExpiry() throws IOException {
        Instant before = Instant.now();
        HttpResponse<String> response = node.client().post("/api/login", "{\"user\":\"login-ok\"}");

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(response.body());
        assertThat(body.isObject()).as("login body %s", response.body()).isTrue();
        assertThat(body.path("token").isTextual()).as("token is a string in %s", body).isTrue();
        assertThat(body.path("token").textValue()).isNotBlank();
        assertThat(body.path("user").isTextual()).isTrue();
        assertThat(body.path("user").textValue()).isEqualTo("login-ok");
        assertThat(body.path("expiresAt").isTextual()).as("expiresAt is a string in %s", body).isTrue();
        assertThat(iso(body.path("expiresAt").textValue())).isAfter(before);

        // The token is the one /ws accepts, for that user.
        ChatPeer connection = track(ChatPeer.open(node.client(), body.path("token").textValue()));
        assertThat(connection.expectPush(ServerFrame.Welcome.class).user()).isEqualTo("login-ok");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "0", "a_b.c-9", "abcdefghijklmnopqrstuvwxyz012345" /* 32 chars */})
    void loginAcceptsEveryValidUserName(String user) {
        assertThat(user.length()).isBetween(1, 32);
        PulseClient.Login login = node.client().login(user);
        assertThat(login.user()).isEqualTo(user);
        assertThat(login.token()).isNotBlank();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"user\":\"Alice\"}",                                  // upper-case
        "{\"user\":\"ALICE\"}",
        "{\"user\":\"abcdefghijklmnopqrstuvwxyz0123456\"}",      // 33 chars
        "{\"user\":\"\"}",                                       // empty
        "{\"user\":\"al ice\"}",                                 // bad chars
        "{\"user\":\"al/ice\"}",
        "{\"user\":\"alice!\"}",
        "{\"user\":\"\u00e5lice\"}",
        "{\"user\":\"dm:a:b\"}",
        "{\"user\":42}",                                         // not a string
        "{\"user\":null}",
        "{\"user\":[\"alice\"]}",
        "{\"user\":{\"name\":\"alice\"}}",
        "{}",                                                    // missing
        "{\"name\":\"alice\"}",
        "not json",                                              // invalid JSON
        "{\"user\":\"alice\"",
        "",
        "[\"alice\"]",
        "\"alice\""
    })
    void loginRejectsBadNamesAndBodiesWith400AndAJsonErrorBody(String body) throws IOException {
        HttpResponse<String> response = node.client().post("/api/login", body);

        assertThat(response.statusCode()).as("POST /api/login %s", body).isEqualTo(400);
        JsonNode error = JSON.readTree(response.body());
        assertThat(error != null && error.isObject())
            .as("400 body must be a JSON object, was: %s", response.body()).isTrue();
    }

    @Test
    void loginRequiresTheConfiguredPassword(@TempDir Path dir) throws IOException {
        try (TestNode guarded = TestNode.start(dir, Map.of("PULSE_LOGIN_PASSWORD", "open-sesame"))) {
            PulseClient client = guarded.client();

            assertThat(client.post("/api/login", "{\"user\":\"pw-user\",\"password\":\"wrong\"}").statusCode())
                .as("wrong password").isEqualTo(401);
            assertThat(client.post("/api/login", "{\"user\":\"pw-user\"}").statusCode())
                .as("missing password").isEqualTo(401);
            assertThat(client.post("/api/login", "{\"user\":\"pw-user\",\"password\":\"\"}").statusCode())
                .as("empty password").isEqualTo(401);
            assertThat(client.post("/api/login", "{\"user\":\"pw-user\",\"password\":\"open-sesame \"}").statusCode())
                .as("password with a trailing space").isEqualTo(401);
            assertThatThrownBy(() -> client.login("pw-user", "OPEN-SESAME"))
                .isInstanceOfSatisfying(PulseClient.HttpFailure.class, f -> assertThat(f.status()).isEqualTo(401));

            HttpResponse<String> ok = client.post("/api/login", "{\"user\":\"pw-user\",\"password\":\"open-sesame\"}");
            assertThat(ok.statusCode()).isEqualTo(200);
            JsonNode body = JSON.readTree(ok.body());
            assertThat(body.path("user").textValue()).isEqualTo("pw-user");
            assertThat(iso(body.path("expiresAt").textValue())).isAfter(Instant.now());

            ChatPeer connection = track(ChatPeer.open(client, body.path("token").textValue()));
            assertThat(connection.expectPush(ServerFrame.Welcome.class).user()).isEqualTo("pw-user");
            connection.close();
        }
    }

    // ================================================================== 2. /ws handshake and welcome

    @Test
    void socketWithoutTokenIsRefusedWith401BeforeTheUpgrade() {
        String ws = "ws://127.0.0.1:" + node.httpPort();
        assertThat(handshakeStatus(URI.create(ws + "/ws"))).as("no token parameter").isEqualTo(401);
        assertThat(handshakeStatus(URI.create(ws + "/ws?token="))).as("empty token").isEqualTo(401);
        assertThat(node.client().get("/ws").statusCode()).as("plain GET /ws without token").isEqualTo(401);
    }

    @Test
    void socketWithForgedTokenIsRefusedWith401() {
        String forged = new TokenService("another-secret-that-is-also-32-bytes-long", Duration.ofHours(1), Clock.systemUTC())
            .issue("alice").token();
        assertRefused(forged, "token signed with another secret");

        String valid = node.client().login("forge-victim").token();
        // Change the signature's first character: the last one may carry only padding bits,
        // which a base64url decoder ignores, so changing it can leave the signature intact.
        int signature = valid.lastIndexOf('.') + 1;
        char first = valid.charAt(signature);
        String tampered = valid.substring(0, signature) + (first == 'A' ? 'B' : 'A') + valid.substring(signature + 1);
        assertRefused(tampered, "token with a changed signature");

        assertRefused("not-a-token", "garbage token");
    }

    @Test
    void socketWithExpiredTokenIsRefusedWith401() {
        Clock anHourAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
        String expired = new TokenService(SECRET, Duration.ofMinutes(5), anHourAgo).issue("late-user").token();
        assertRefused(expired, "token expired 55 minutes ago");

        // Control: the same construction with a current clock is accepted, so the refusal above is the expiry.
        String fresh = new TokenService(SECRET, Duration.ofMinutes(5), Clock.systemUTC()).issue("late-user").token();
        ChatPeer connection = track(ChatPeer.open(node.client(), fresh));
        assertThat(connection.expectPush(ServerFrame.Welcome.class).user()).isEqualTo("late-user");
    }

    @Test
    void validTokenGetsExactlyTheWelcomeFrameFirst() {
        ChatPeer first = track(ChatPeer.open(node.client(), node.client().login("welcome-user").token()));
        JsonNode welcome = first.expectNext();

        assertThat(fields(welcome)).containsExactlyInAnyOrder("type", "user", "session", "node", "heartbeatMs", "protocol");
        assertThat(welcome.get("type").textValue()).isEqualTo("welcome");
        assertThat(welcome.get("user").textValue()).isEqualTo("welcome-user");
        assertThat(welcome.get("session").isTextual()).isTrue();
        assertThat(welcome.get("session").textValue()).isNotBlank();
        assertThat(welcome.get("node").isTextual()).isTrue();
        assertThat(welcome.get("node").textValue()).matches("[^\\s:]+:\\d{1,5}").isEqualTo(node.node().node());
        assertThat(welcome.get("heartbeatMs").isIntegralNumber()).as("heartbeatMs is an integer: %s", welcome).isTrue();
        assertThat(welcome.get("heartbeatMs").longValue()).isEqualTo(15000);
        // PROTOCOL.md 1.1: "welcome says "protocol":1.1 once these are implemented"
        assertThat(welcome.get("protocol").isNumber()).as("protocol is a number: %s", welcome).isTrue();
        assertThat(welcome.get("protocol").toString()).isEqualTo("1.1");
    }

    @Test
    void eachSocketIsASessionOfItsOwn() {
        ChatPeer first = track(ChatPeer.open(node.client(), node.client().login("welcome-user").token()));
        JsonNode welcome = first.expectNext();
        ChatPeer second = track(ChatPeer.open(node.client(), node.client().login("welcome-user").token()));
        JsonNode again = second.expectNext();
        assertThat(again.get("type").textValue()).isEqualTo("welcome");
        assertThat(again.get("session").textValue()).as("each socket is its own session")
            .isNotEqualTo(welcome.get("session").textValue());
    }

    // ================================================================== 3. ping, ref

    @Test
    void pingIsAnsweredWithPongEchoingTheRef() {
        ChatPeer c = connect(node, "ping-user");

        c.sendRaw("{\"type\":\"ping\",\"ref\":\"p-1\"}");
        assertThat(c.expectNext()).isEqualTo(json("{\"type\":\"pong\",\"ref\":\"p-1\"}"));

        c.sendRaw("{\"type\":\"ping\"}");
        assertThat(c.expectNext()).as("no ref sent, none echoed").isEqualTo(json("{\"type\":\"pong\"}"));

        String ref64 = "r".repeat(63) + "\u00e9"; // 64 chars, 65 UTF-8 bytes
        c.sendRaw("{\"type\":\"ping\",\"ref\":\"" + ref64 + "\"}");
        assertThat(c.expectNext()).isEqualTo(JSON.createObjectNode().put("type", "pong").put("ref", ref64));
    }

    @Test
    void refLongerThan64CharsIsInvalid() {
        ChatPeer c = connect(node, "long-ref-user");

        c.sendRaw("{\"type\":\"ping\",\"ref\":\"" + "r".repeat(65) + "\"}");
        JsonNode error = c.expectNext();
        assertThat(error.path("type").textValue()).as("answer to a 65-char ref: %s", error).isEqualTo("error");
        assertThat(error.path("code").textValue()).isEqualTo("invalid");
        assertOpenAndAlive(c);
    }

    @Test
    void errorsEchoTheRefOfTheFrameTheyAnswer() {
        ChatPeer c = connect(node, "ref-echo-user");

        assertError(c, "{\"type\":\"frobnicate\",\"ref\":\"e-1\"}", "e-1", "invalid");
        assertError(c, "{\"type\":\"join\",\"ref\":\"e-2\",\"room\":\"Not A Room\"}", "e-2", "invalid");
        assertError(c, "{\"type\":\"send\",\"ref\":\"e-3\",\"room\":\"ref-echo\",\"id\":\"x\"}", "e-3", "invalid");
        assertError(c, "{\"type\":\"join\",\"ref\":\"e-4\",\"room\":\"dm:other1:other2\"}", "e-4", "forbidden");
        assertError(c, "{\"ref\":\"e-5\"}", "e-5", "invalid");
        assertOpenAndAlive(c);
    }

    // ================================================================== 4. malformed frames

    @Test
    void malformedFramesGetInvalidAndTheSocketStaysOpen() {
        ChatPeer c = connect(node, "malformed-user");
        List<String> bad = List.of(
            "{not json",
            "{\"type\":\"ping\"",
            "",
            "   ",
            "[1,2]",
            "[{\"type\":\"ping\"}]",
            "\"ping\"",
            "42",
            "null",
            "true",
            "{}",
            "{\"type\":42}",
            "{\"type\":null}",
            "{\"type\":{\"name\":\"ping\"}}",
            "{\"type\":\"nope\"}",
            "{\"type\":\"PING\"}");
        for (String frame : bad) {
            c.sendRaw(frame);
            JsonNode answer = c.expectNext();
            assertThat(answer.path("type").textValue()).as("answer to [%s]: %s", frame, answer).isEqualTo("error");
            assertThat(answer.path("code").textValue()).as("answer to [%s]: %s", frame, answer).isEqualTo("invalid");
            assertThat(answer.path("message").isTextual()).as("message in %s", answer).isTrue();
            assertThat(c.isOpen()).as("open after [%s]", frame).isTrue();
        }
        assertOpenAndAlive(c);
    }

    @Test
    void unknownFieldsAreIgnored() {
        ChatPeer c = connect(node, "unknown-fields-user");

        c.sendRaw("{\"type\":\"ping\",\"ref\":\"u-1\",\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"more\":true}");
        assertThat(c.expectNext()).isEqualTo(json("{\"type\":\"pong\",\"ref\":\"u-1\"}"));
        assertOpenAndAlive(c);
    }

    @Test
    void frameWithTwoJsonObjectsIsMalformed() {
        // "Every frame is one UTF-8 JSON object": trailing content makes the frame malformed, and
        // silently running only the first object would lose the second without telling the client.
        ChatPeer c = connect(node, "two-objects-user");

        c.sendRaw("{\"type\":\"ping\",\"ref\":\"t\"}{\"type\":\"ping\",\"ref\":\"u\"}");
        JsonNode answer = c.expectNext();
        assertThat(answer.path("type").textValue()).as("answer to two concatenated objects: %s", answer).isEqualTo("error");
        assertThat(answer.path("code").textValue()).isEqualTo("invalid");

        c.sendRaw("{\"type\":\"ping\",\"ref\":\"v\"} trailing");
        answer = c.expectNext();
        assertThat(answer.path("type").textValue()).as("answer to an object with trailing garbage: %s", answer)
            .isEqualTo("error");
        assertThat(answer.path("code").textValue()).isEqualTo("invalid");
        assertOpenAndAlive(c);
    }

    // ================================================================== 5. frame limits

    @Test
    void frameOfExactly64KiBIsAcceptedAndOneByteMoreIsTooLarge() {
        ChatPeer c = connect(node, "frame-limit-user");

        String atLimit = pingOfBytes("at-limit", MAX_FRAME, 'a');
        assertThat(atLimit.getBytes(StandardCharsets.UTF_8)).hasSize(MAX_FRAME);
        c.sendRaw(atLimit);
        assertThat(c.expectNext()).isEqualTo(json("{\"type\":\"pong\",\"ref\":\"at-limit\"}"));

        String over = pingOfBytes("over", MAX_FRAME + 1, 'a');
        c.sendRaw(over);
        assertTooLarge(c, "strict frame of 65537 bytes");
        assertOpenAndAlive(c);

        c.sendRaw(pingOfBytes("huge", 1024 * 1024, 'a'));
        assertTooLarge(c, "strict frame of 1 MiB");
        assertOpenAndAlive(c);
    }

    @Test
    void theFrameLimitCountsUtf8BytesNotChars() {
        ChatPeer c = connect(node, "frame-limit-utf8-user");

        // The limit is in UTF-8 bytes: two-byte characters reach it with half as many chars.
        String multiByteAtLimit = pingOfBytes("mb-at-limit", MAX_FRAME, '\u00e9');
        assertThat(multiByteAtLimit.getBytes(StandardCharsets.UTF_8)).hasSize(MAX_FRAME);
        c.sendRaw(multiByteAtLimit);
        assertThat(c.expectNext()).isEqualTo(json("{\"type\":\"pong\",\"ref\":\"mb-at-limit\"}"));

        String multiByteOver = pingOfBytes("mb-over", MAX_FRAME + 2, '\u00e9');
        assertThat(multiByteOver.length()).isLessThan(MAX_FRAME);
        c.sendRaw(multiByteOver);
        assertTooLarge(c, "frame of 65538 UTF-8 bytes in " + multiByteOver.length() + " chars");
        assertOpenAndAlive(c);
    }

    @Test
    void fragmentedFramesCountTheWholeMessageAgainstTheLimit() {
        ChatPeer c = connect(node, "fragment-limit-user");

        c.sendFragmented(pingOfBytes("frag-over", MAX_FRAME + 1, 'a'), 5);
        assertTooLarge(c, "65537 bytes in 5 fragments");
        assertOpenAndAlive(c);

        c.sendFragmented(pingOfBytes("frag-huge", 1024 * 1024, 'a'), 16);
        assertTooLarge(c, "1 MiB in 16 fragments");
        assertOpenAndAlive(c);

        c.sendFragmented(pingOfBytes("frag-at-limit", MAX_FRAME, 'a'), 4);
        assertThat(c.expectNext()).isEqualTo(json("{\"type\":\"pong\",\"ref\":\"frag-at-limit\"}"));
    }

    @Test
    void fragmentedValidSendWorksNormally() {
        ChatPeer c = connect(node, "fragment-sender");
        String text = "streamed in seven fragments, ".repeat(30).strip();
        String frame = JSON.createObjectNode().put("type", "send").put("ref", "f-1").put("room", "fragments")
            .put("id", "frag-msg-1").put("text", text).toString();

        c.sendFragmented(frame, 7);

        ServerFrame.Ack ack = c.expectReply("f-1", ServerFrame.Ack.class);
        assertThat(ack.room()).isEqualTo("fragments");
        assertThat(ack.id()).isEqualTo("frag-msg-1");
        assertThat(ack.seq()).isEqualTo(1);
        ServerFrame.Message message = c.expectPush(ServerFrame.Message.class, m -> "frag-msg-1".equals(m.id()));
        assertThat(message.text()).isEqualTo(text);
        assertThat(message.from()).isEqualTo("fragment-sender");
        assertThat(message.seq()).isEqualTo(1);
    }

    @Test
    void binaryFrameIsInvalidAndTheSocketStaysOpen() {
        ChatPeer c = connect(node, "binary-user");

        c.sendBinary("{\"type\":\"ping\",\"ref\":\"bin\"}".getBytes(StandardCharsets.UTF_8));
        JsonNode error = c.expectNext();
        assertThat(error.path("type").textValue()).as("answer to a binary frame: %s", error).isEqualTo("error");
        assertThat(error.path("code").textValue()).isEqualTo("invalid");
        assertOpenAndAlive(c);
    }

    // ================================================================== 6. text limits

    @Test
    void textMustHave1To4000CodePointsAfterTrimming() {
        ChatPeer c = connect(node, "text-limit-user");
        String room = "text-limits";

        assertError(c, send("t-ws", room, "ws-only", " \t\n \r "), "t-ws", "invalid");
        assertError(c, send("t-empty", room, "empty", ""), "t-empty", "invalid");
        assertError(c, send("t-4001", room, "too-long", "z".repeat(4001)), "t-4001", "invalid");
        assertError(c, send("t-4001e", room, "too-long-emoji", EMOJI.repeat(4001)), "t-4001e", "invalid");

        String plain = "x".repeat(4000);
        String emoji = EMOJI.repeat(4000);
        assertThat(emoji.codePointCount(0, emoji.length())).isEqualTo(4000);
        assertThat(c.isOpen()).isTrue();

        c.sendRaw(send("t-4000", room, "plain-4000", plain));
        assertThat(c.expectReply("t-4000", ServerFrame.Ack.class).seq()).isEqualTo(1);
        c.sendRaw(send("t-4000e", room, "emoji-4000", emoji));
        assertThat(c.expectReply("t-4000e", ServerFrame.Ack.class).seq()).isEqualTo(2);
        c.sendRaw(send("t-padded", room, "padded-4000", "  \n" + "y".repeat(4000) + " \t"));
        assertThat(c.expectReply("t-padded", ServerFrame.Ack.class).seq())
            .as("4000 code points after trimming; rejected sends took no seq").isEqualTo(3);

        assertThat(c.expectPush(ServerFrame.Message.class, m -> m.seq() == 1).text()).isEqualTo(plain);
        assertThat(c.expectPush(ServerFrame.Message.class, m -> m.seq() == 2).text()).isEqualTo(emoji);
    }

    // ================================================================== 7. rate limit

    @Test
    void twentySendsPassAndThe21stIsRateLimitedWithRetryAfter() {
        ChatPeer c = connect(node, "rate-one");
        String room = "rate-one-room";
        c.join("j", room);

        // Pipelined, so all 21 arrive well within the window (and within any refill of a token bucket).
        for (int i = 1; i <= 21; i++) {
            c.sendRaw(send("r-" + i, room, "rate-one-" + i, "message " + i));
        }
        List<Long> seqs = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            String ref = "r-" + i;
            ServerFrame reply = c.expectReply(ref, ServerFrame.class);
            assertThat(reply).as("reply to send %d", i).isInstanceOf(ServerFrame.Ack.class);
            seqs.add(((ServerFrame.Ack) reply).seq());
        }
        assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());

        JsonNode limited = c.expectReply("r-21");
        assertThat(limited.path("type").textValue()).as("reply to the 21st send: %s", limited).isEqualTo("error");
        assertThat(limited.path("code").textValue()).isEqualTo("rate_limited");
        assertThat(limited.path("ref").textValue()).isEqualTo("r-21");
        assertThat(limited.path("message").isTextual()).isTrue();
        assertThat(limited.path("retryAfterMs").isIntegralNumber()).as("retryAfterMs in %s", limited).isTrue();
        assertThat(limited.path("retryAfterMs").longValue()).isBetween(1L, 10_000L);
        assertOpenAndAlive(c);
    }

    @Test
    void sessionsOfOneUserShareTheSendBudget() {
        ChatPeer a = connect(node, "rate-two");
        ChatPeer b = connect(node, "rate-two");
        String room = "rate-two-room";
        for (ChatPeer c : List.of(a, b)) {
            c.join("j", room);
        }

        for (int i = 1; i <= 10; i++) {
            a.sendRaw(send("a-" + i, room, "rate-two-a-" + i, "from a " + i));
            b.sendRaw(send("b-" + i, room, "rate-two-b-" + i, "from b " + i));
        }
        a.sendRaw(send("a-11", room, "rate-two-a-11", "from a 11"));
        b.sendRaw(send("b-11", room, "rate-two-b-11", "from b 11"));

        List<ServerFrame.Ack> acks = new ArrayList<>();
        List<ServerFrame.Error> limited = new ArrayList<>();
        for (ChatPeer c : List.of(a, b)) {
            String prefix = c == a ? "a-" : "b-";
            for (int i = 1; i <= 11; i++) {
                String ref = prefix + i;
                ServerFrame reply = c.expectReply(ref, ServerFrame.class);
                if (reply instanceof ServerFrame.Ack ack) {
                    acks.add(ack);
                } else {
                    limited.add((ServerFrame.Error) reply);
                }
            }
        }
        assertThat(acks).as("22 sends of one user in two sessions: 20 pass").hasSize(20);
        assertThat(acks).extracting(ServerFrame.Ack::seq).containsExactlyInAnyOrderElementsOf(
            LongStream.rangeClosed(1, 20).boxed().toList());
        assertThat(limited).as("and 2 are rate limited").hasSize(2).allSatisfy(e -> {
            assertThat(e.code()).isEqualTo("rate_limited");
            assertThat(e.retryAfterMs()).isNotNull().isPositive();
        });

        // The budget is per user: someone else still sends.
        ChatPeer other = connect(node, "rate-two-other");
        other.sendRaw(send("o-1", room, "rate-two-other-1", "not limited"));
        assertThat(other.expectReply("o-1", ServerFrame.class)).isInstanceOf(ServerFrame.Ack.class);
    }

    // ================================================================== 8. slow consumer

    @Test
    void slowConsumerIsClosed1008AndResumesWithSinceWithoutLoss(@TempDir Path dir) {
        Config config = ConfigFactory.parseMap(Map.of(
            "pulse.session.outbound-buffer", 8,
            "pulse.limits.send-burst", 100_000,
            "pulse.limits.max-text-chars", 60_000,
            // The paused client must still find our close frame when it reads again.
            "pulse.session.close-grace", "30s"));
        try (TestNode slow = TestNode.start(dir, Map.of(), config)) {
            String room = "flood";
            ChatPeer producer = connect(slow, "flood-producer");
            producer.join("j", room);
            ChatPeer victim = connect(slow, "flood-victim");
            victim.send(new ClientFrame.Join("j", room, null));
            assertThat(victim.expectReply("j", ServerFrame.Joined.class).lastSeq()).isZero();

            victim.pauseReading();
            String pad = "p".repeat(60_000 - 20);
            long lastSeq = 0;
            int sent = 0;
            boolean victimGone = false;
            while (!victimGone && sent < 2_000) {
                lastSeq = sendBatch(producer, room, sent, 3, pad);
                sent += 3;
                // Everything the producer got besides its acks and messages, looked at and dropped.
                victimGone = producer.takePending().stream().anyMatch(f -> "presence".equals(f.path("type").asText())
                    && "flood-victim".equals(f.path("user").asText()) && "offline".equals(f.path("status").asText()));
            }
            // Messages the victim certainly missed, committed after it was dropped: a client away for a
            // while from a busy room misses hundreds (more than one replay chunk of any sane size).
            for (int i = 0; i < 100; i++) {
                lastSeq = sendBatch(producer, room, sent, 3, "small");
                sent += 3;
            }

            victim.resumeReading();
            PulseConnection.Closed closed = victim.expectClosed(Duration.ofSeconds(30));
            assertThat(closed).as("close of a client that stopped reading").isEqualTo(new PulseConnection.Closed(1008, "slow consumer"));
            assertThat(slow.metrics().value("pulse_slow_consumer_closes_total")).as("slow-consumer closes counted").isEqualTo(1);

            List<Long> seen = victim.pending().stream()
                .filter(message(room))
                .map(f -> f.get("seq").asLong()).toList();
            long lastSeen = seen.isEmpty() ? 0 : seen.get(seen.size() - 1);
            assertThat(seen).as("what the victim got before the close is a gapless prefix")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, lastSeen).boxed().toList());
            assertThat(lastSeen).as("the victim missed messages").isLessThan(lastSeq);

            ChatPeer again = connect(slow, "flood-victim");
            again.send(new ClientFrame.Join("rejoin", room, lastSeen));
            ServerFrame.Joined joined = again.expectReply("rejoin", ServerFrame.Joined.class);
            assertThat(joined.lastSeq()).isEqualTo(lastSeq);
            // Fails at once if the server closes the socket before synced (and after 30 s without it).
            List<JsonNode> resumed = again.takeThrough("synced", Duration.ofSeconds(30));
            List<Long> replayed = resumed.stream().filter(message(room)).map(f -> f.get("seq").asLong()).toList();
            ServerFrame.Synced synced = ChatPeer.decode(resumed.get(resumed.size() - 1), ServerFrame.Synced.class);
            assertThat(replayed).as("every remaining message exactly once, in order")
                .containsExactlyElementsOf(LongStream.rangeClosed(lastSeen + 1, lastSeq).boxed().toList());
            assertThat(synced).isEqualTo(new ServerFrame.Synced(room, lastSeq));
            assertThat(again.isOpen()).isTrue();

            // And it is live again: the next message arrives once.
            producer.sendRaw(send("after", room, "after-resume", "after resume"));
            producer.expectReply("after", ServerFrame.Ack.class);
            ServerFrame.Message live = again.expectPush(ServerFrame.Message.class, m -> m.room().equals(room));
            assertThat(live.seq()).isEqualTo(lastSeq + 1);
            assertThat(live.id()).isEqualTo("after-resume");
        }
    }

    /**
     * Issue 12: history had no rate limit. History, presence and join requests share one budget per
     * user (over all the user's sockets); one past it is answered rate_limited with retryAfterMs and
     * the socket stays; other users are untouched. Typing past its own budget is dropped silently.
     */
    @Test
    void historyPresenceAndJoinShareOneBudgetPerUserAndTypingHasItsOwn(@TempDir Path dir) {
        Config config = ConfigFactory.parseMap(Map.of("pulse.limits.request-burst", 6,
            "pulse.limits.request-window", "60s", "pulse.limits.typing-burst", 2));
        try (TestNode limited = TestNode.start(dir, Map.of(), config)) {
            ChatPeer eve = connect(limited, "eve");
            ChatPeer evesPhone = connect(limited, "eve");
            ChatPeer bob = connect(limited, "bob");
            List<String> rooms = List.of("budget-a", "budget-b", "budget-c");
            for (String room : rooms) {
                bob.join("j-" + room, room);
                eve.join("j-" + room, room); // 3 of eve's 6
            }
            // Typing: one notice per room, three rooms; two reach bob, the third is dropped without an answer.
            for (String room : rooms) {
                eve.send(new ClientFrame.Typing(null, room));
            }
            eve.ping("typed"); // the typing frames were handled before this pong
            bob.expectPush("typing", f -> f.path("room").asText().equals("budget-a"));
            bob.expectPush("typing", f -> f.path("room").asText().equals("budget-b"));
            bob.sync();
            assertThat(bob.pending()).noneMatch(f -> f.path("type").asText().equals("typing"));

            eve.send(new ClientFrame.History("h1", "budget-a", null, 50));
            eve.expectReply("h1", ServerFrame.History.class);
            evesPhone.send(new ClientFrame.PresenceQuery("p1", List.of("bob")));
            evesPhone.expectReply("p1", ServerFrame.PresenceList.class);
            evesPhone.send(new ClientFrame.History("h2", "budget-a", null, 50));
            evesPhone.expectReply("h2", ServerFrame.History.class);

            for (ChatPeer device : List.of(eve, evesPhone)) {
                device.send(new ClientFrame.History("over", "budget-a", null, 50));
                ServerFrame.Error refused = device.expectReply("over", ServerFrame.Error.class);
                assertThat(refused.code()).isEqualTo("rate_limited");
                assertThat(refused.retryAfterMs()).isBetween(1L, 60_000L);
                device.ping("still-open");
            }
            bob.send(new ClientFrame.History("h", "budget-a", null, 50));
            bob.expectReply("h", ServerFrame.History.class);
        }
    }

    /**
     * A client that asks for history and never reads (issue 12: 250 pages of 3.2 MB each grew the heap by
     * about 1 GB): the outbound queue is bounded in bytes too, so it is closed as a slow consumer long
     * before its 200 requests are answered, although 200 frames are far under the 1,024-frame bound.
     */
    @Test
    void aClientThatAsksForHistoryAndNeverReadsIsClosedByTheByteBound(@TempDir Path dir) {
        Config config = ConfigFactory.parseMap(Map.of("pulse.limits.send-burst", 100_000, "pulse.session.close-grace", "30s"));
        try (TestNode bounded = TestNode.start(dir, Map.of(), config)) {
            String room = "heavy-history";
            ChatPeer writer = connect(bounded, "heavy-writer");
            writer.join("j", room);
            String heavy = "\u20ac".repeat(4_000); // 12,000 UTF-8 bytes: the largest text a message may have
            for (int i = 0; i < 40; i++) {
                writer.send(new ClientFrame.Send("s-" + i, room, "heavy-" + i, heavy));
                writer.expectReply("s-" + i, ServerFrame.Ack.class);
            }

            ChatPeer hoarder = connect(bounded, "heavy-hoarder");
            hoarder.join("j", room);
            hoarder.pauseReading();
            for (int i = 0; i < 200; i++) {
                hoarder.send(new ClientFrame.History("h-" + i, room, null, 200));
            }
            // Pages are cut to about 192 KiB each (room.remote-bytes): 200 of them are ~38 MB, far more
            // than the kernel's socket buffers take, so the node must close it while it still does not read.
            awaitUntil("the node closes the hoarder as a slow consumer", Duration.ofSeconds(30),
                () -> bounded.metrics().value("pulse_slow_consumer_closes_total") == 1);
            hoarder.resumeReading();
            assertThat(hoarder.expectClosed(Duration.ofSeconds(30))).isEqualTo(new PulseConnection.Closed(1008, "slow consumer"));
            long answered = hoarder.pending().stream().filter(f -> "history".equals(f.path("type").asText())).count();
            assertThat(answered).as("history pages the hoarder got before the close").isLessThan(200);
            assertThat(bounded.metrics().value("pulse_slow_consumer_closes_total")).isEqualTo(1);
        }
    }

    /** A user has at most max-sockets-per-user sockets open on a node (issue 12: one user got 1,100). */
    @Test
    void aUserMayHaveAtMostTheSocketCapOpenOnANode(@TempDir Path dir) {
        try (TestNode capped = TestNode.start(dir, Map.of(), ConfigFactory.parseMap(Map.of("pulse.limits.max-sockets-per-user", 2)))) {
            String token = capped.client().login("socket-hoarder").token();
            ChatPeer first = track(ChatPeer.open(capped.client(), token));
            track(ChatPeer.open(capped.client(), token));
            URI ws = URI.create("ws://127.0.0.1:" + capped.httpPort() + "/ws?token=" + token);
            assertThat(handshakeStatus(ws)).as("a third socket of the same user").isEqualTo(429);
            assertThat(rawUpgrade(capped, token)).as("the refusal says why")
                .startsWith("HTTP/1.1 429").contains("\"code\":\"rate_limited\"", "at most 2 open sockets per user");
            assertThat(track(ChatPeer.open(capped.client(), capped.client().login("someone-else").token())).isOpen())
                .as("other users are not affected").isTrue();

            first.close();
            awaitUntil("a socket may open again once one has closed", T, () -> {
                try {
                    track(ChatPeer.open(capped.client(), token));
                    return true;
                } catch (PulseClient.HttpFailure refused) {
                    return false;
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A WebSocket upgrade request by hand: the whole answer as text (the JDK's client hides a refusal's body). */
    private static String rawUpgrade(TestNode on, String token) throws IOException {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", on.httpPort())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(("GET /ws?token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1:" + on.httpPort()
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            StringBuilder answer = new StringBuilder();
            byte[] buffer = new byte[4096];
            try {
                int read;
                while (!answer.toString().endsWith("}") && (read = socket.getInputStream().read(buffer)) > 0) {
                    answer.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
                }
            } catch (java.net.SocketTimeoutException e) {
                // answered with a body that does not end in "}": returned as it is
            }
            return answer.toString();
        }
    }

    /** Sockets per client address: off by default, a bound when configured (whatever the users). */
    @Test
    void aClientAddressMayHaveAtMostItsSocketCapOpenWhenOneIsSet(@TempDir Path dir) {
        try (TestNode capped = TestNode.start(dir, Map.of(), ConfigFactory.parseMap(Map.of("pulse.limits.max-sockets-per-address", 3)))) {
            List<ChatPeer> open = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                open.add(connect(capped, "from-one-address-" + i));
            }
            assertThatThrownBy(() -> ChatPeer.connect(capped.client(), "one-too-many", T))
                .isInstanceOfSatisfying(PulseClient.HttpFailure.class, e -> {
                    assertThat(e.status()).isEqualTo(429);
                    assertThat(e.body()).contains("rate_limited", "per client address");
                });
            open.remove(0).close();
            awaitUntil("a socket may open again once one has closed", T, () -> {
                try {
                    open.add(connect(capped, "after-a-close"));
                    return true;
                } catch (PulseClient.HttpFailure refused) {
                    return false;
                }
            });
        }
    }

    /** One session may be in at most max-rooms-per-session rooms (issue 12: one session joined 3,000). */
    @Test
    void aSessionMayBeInAtMostTheRoomCap(@TempDir Path dir) {
        try (TestNode capped = TestNode.start(dir, Map.of(), ConfigFactory.parseMap(Map.of("pulse.limits.max-rooms-per-session", 3)))) {
            ChatPeer many = connect(capped, "many-rooms");
            for (int i = 1; i <= 3; i++) {
                many.join("j" + i, "cap-" + i);
            }
            many.send(new ClientFrame.Join("j4", "cap-4", null));
            ServerFrame.Error refused = many.expectReply("j4", ServerFrame.Error.class);
            assertThat(refused.code()).isEqualTo("rate_limited");
            assertThat(refused.message()).contains("at most 3 rooms");
            many.send(new ClientFrame.Send("s5", "cap-5", "m5", "an implicit join is one more room"));
            assertThat(many.expectReply("s5", ServerFrame.Error.class).code()).isEqualTo("rate_limited");

            many.send(new ClientFrame.Join("again", "cap-2", null));
            assertThat(many.expectReply("again", ServerFrame.Joined.class).room()).as("a room it is in may be joined again").isEqualTo("cap-2");
            many.send(new ClientFrame.Leave("l1", "cap-1"));
            many.expectReply("l1", ServerFrame.Left.class);
            many.join("j4-again", "cap-4");
            assertThat(many.isOpen()).isTrue();
        }
    }

    /** A page of large messages holds fewer of them; hasMore says so, and paging on with before loses none. */
    @Test
    void historyPagesAreBoundedInBytesAndPageOnWithoutGaps() {
        String room = "heavy-pages";
        // two writers: 40 sends are over one user's default send budget (20 in 10 s)
        List<ChatPeer> writers = List.of(connect(node, "pages-writer-a"), connect(node, "pages-writer-b"));
        writers.forEach(w -> w.join("j", room));
        String heavy = "\u20ac".repeat(3_990);
        for (int i = 1; i <= 40; i++) {
            ChatPeer w = writers.get((i - 1) / 20);
            w.send(new ClientFrame.Send("s-" + i, room, "page-" + i, i + heavy));
            w.expectReply("s-" + i, ServerFrame.Ack.class);
        }
        ChatPeer writer = writers.get(0);
        List<Long> seen = new ArrayList<>();
        Long before = null;
        int pages = 0;
        while (true) {
            writer.send(new ClientFrame.History("h" + pages, room, before, 200));
            ServerFrame.History page = writer.expectReply("h" + pages, ServerFrame.History.class);
            pages++;
            assertThat(page.chatMessages()).as("page %d", pages).isNotEmpty();
            int bytes = page.chatMessages().stream().mapToInt(m -> m.text().getBytes(StandardCharsets.UTF_8).length).sum();
            assertThat(bytes).as("text bytes of page %d", pages).isLessThanOrEqualTo(256 * 1024);
            List<Long> seqs = page.chatMessages().stream().map(ServerFrame.Message::seq).toList();
            seen.addAll(0, seqs);
            if (!page.hasMore()) {
                break;
            }
            before = seqs.get(0);
        }
        assertThat(pages).as("40 messages of 12 KB do not fit one page of 256 KiB").isGreaterThan(1);
        assertThat(seen).containsExactlyElementsOf(LongStream.rangeClosed(1, 40).boxed().toList());
    }

    /**
     * Sends {@code count} messages pipelined and waits for their acks and for their echo to the producer
     * itself; returns the highest seq. The producer reads everything, but its outbound buffer is as small
     * as the victim's: a batch of n costs it 2n frames, so n stays at 3 and each batch drains fully.
     */
    private static long sendBatch(ChatPeer producer, String room, int from, int count, String pad) {
        for (int i = from; i < from + count; i++) {
            producer.sendRaw(send("f-" + i, room, "flood-" + i, i + ":" + pad));
        }
        long highest = 0;
        for (int i = from; i < from + count; i++) {
            String ref = "f-" + i;
            ServerFrame reply = producer.expectReply(ref, ServerFrame.class);
            assertThat(reply).as("reply to flood send %d", i).isInstanceOf(ServerFrame.Ack.class);
            highest = Math.max(highest, ((ServerFrame.Ack) reply).seq());
            String id = "flood-" + i;
            producer.expectPush(ServerFrame.Message.class, m -> id.equals(m.id()));
        }
        return highest;
    }

    // ================================================================== 9. keep-alive

    /**
     * The server sends no WebSocket pings: a socket stays open on its client's heartbeat. So a
     * transport idle timeout shorter than the silence bound (2.5 heartbeats) must not cut a socket
     * first: the node raises it to 3 heartbeats, and a silent client gets the session's 1001.
     */
    @Test
    void theTransportNeverCutsASocketBeforeItsSessionsSilenceBound(@TempDir Path dir) {
        Config config = ConfigFactory.parseMap(Map.of("pekko.http.server.idle-timeout", "1s"));
        try (TestNode node = TestNode.start(dir, Map.of("PULSE_HEARTBEAT_MS", "1600"), config)) {
            ChatPeer pinging = connect(node, "beating-user");
            ChatPeer silent = connect(node, "silent-user");
            long lastFrame = System.nanoTime(); // before the server heard silent-user's last frame
            silent.send(new ClientFrame.Ping("last-word"));
            silent.expectReply("last-word", ServerFrame.Pong.class);

            for (int i = 0; i < 6; i++) { // 3.6 s: past 1 s of idle timeout, within the 4 s bound
                pinging.send(new ClientFrame.Ping("beat-" + i));
                pinging.expectReply("beat-" + i, ServerFrame.Pong.class);
                assertStaysOpen(pinging, Duration.ofMillis(600));
            }
            PulseConnection.Closed closed = silent.expectClosed(Duration.ofSeconds(10));
            long silentMs = (System.nanoTime() - lastFrame) / 1_000_000;
            assertThat(closed).isEqualTo(new PulseConnection.Closed(1001, "idle: no frame for 4000 ms"));
            assertThat(silentMs).as("closed after %d ms of silence", silentMs).isGreaterThanOrEqualTo(4000);
            assertThat(pinging.isOpen()).isTrue();
            pinging.close();
        }
    }

    // ================================================================== 10. shutdown

    @Test
    void nodeShutdownClosesOpenSocketsWith1001(@TempDir Path dir) throws Exception {
        TestNode stopping = TestNode.start(dir);
        CompletableFuture<Void> stopped = null;
        try {
            ChatPeer idle = connect(stopping, "shutdown-a");
            ChatPeer member = connect(stopping, "shutdown-b");
            member.join("j", "shutdown-room");

            stopped = CompletableFuture.runAsync(stopping::close);

            assertThat(idle.expectClosed(Duration.ofSeconds(30))).isEqualTo(new PulseConnection.Closed(1001, "going away"));
            assertThat(member.expectClosed(Duration.ofSeconds(30))).isEqualTo(new PulseConnection.Closed(1001, "going away"));
            stopped.get(60, TimeUnit.SECONDS);
        } finally {
            if (stopped == null) {
                stopping.close();
            }
        }
    }

    // ================================================================== 11. health and UI

    @Test
    void healthIsOk() throws IOException {
        awaitUntil("GET /health answers 200", T, () -> node.client().get("/health").statusCode() == 200);
        HttpResponse<String> health = node.client().get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(health.body());
        assertThat(body.isObject()).as("health body %s", health.body()).isTrue();
        assertThat(body.path("status").textValue()).isEqualTo("ok");
    }

    @Test
    void theRootServesHtml() {
        awaitUntil("GET /health answers 200", T, () -> node.client().get("/health").statusCode() == 200);
        HttpResponse<String> root = node.client().get("/");
        assertThat(root.statusCode()).isEqualTo(200);
        assertThat(root.headers().firstValue("Content-Type")).hasValueSatisfying(
            type -> assertThat(type).startsWith("text/html"));
        assertThat(root.body()).containsIgnoringCase("<html");
    }

    // ================================================================== helpers

    private static String send(String ref, String room, String id, String text) {
        return JSON.createObjectNode().put("type", "send").put("ref", ref).put("room", room).put("id", id)
            .put("text", text).toString();
    }

    /** A ping padded with an unknown field to exactly {@code bytes} UTF-8 bytes, padding with {@code fill}. */
    private static String pingOfBytes(String ref, int bytes, char fill) {
        String head = "{\"type\":\"ping\",\"ref\":\"" + ref + "\",\"pad\":\"";
        String tail = "\"}";
        int room = bytes - head.length() - tail.length();
        int fillBytes = String.valueOf(fill).getBytes(StandardCharsets.UTF_8).length;
        StringBuilder pad = new StringBuilder(String.valueOf(fill).repeat(room / fillBytes));
        pad.append("a".repeat(room % fillBytes));
        String frame = head + pad + tail;
        assertThat(frame.getBytes(StandardCharsets.UTF_8)).hasSize(bytes);
        return frame;
    }

    /** Sends {@code frame} and checks that the next frame is an error with {@code ref} and {@code code}. */
    private static void assertError(ChatPeer c, String frame, String ref, String code) {
        c.sendRaw(frame);
        JsonNode error = c.expectNext();
        assertThat(error.path("type").textValue()).as("answer to %s: %s", frame, error).isEqualTo("error");
        assertThat(error.path("code").textValue()).as("answer to %s: %s", frame, error).isEqualTo(code);
        assertThat(error.path("ref").textValue()).as("ref echoed in %s", error).isEqualTo(ref);
        assertThat(error.path("message").isTextual()).as("message in %s", error).isTrue();
        assertThat(c.isOpen()).as("socket open after %s", frame).isTrue();
    }

    private static void assertTooLarge(ChatPeer c, String what) {
        JsonNode error = c.expectNext();
        assertThat(error.path("type").textValue()).as("answer to %s: %s", what, error).isEqualTo("error");
        assertThat(error.path("code").textValue()).as("answer to %s: %s", what, error).isEqualTo("too_large");
    }

    private static final AtomicLong PINGS = new AtomicLong();

    /** The socket is open and still answers a ping. */
    private static void assertOpenAndAlive(ChatPeer c) {
        assertThat(c.isOpen()).as("socket open").isTrue();
        c.ping("alive-" + PINGS.incrementAndGet());
    }

    private static void assertRefused(String token, String what) {
        assertThatThrownBy(() -> ChatPeer.open(node.client(), token).close())
            .as(what)
            .isInstanceOfSatisfying(PulseClient.HttpFailure.class, f -> assertThat(f.status()).as(what).isEqualTo(401));
    }

    /** The HTTP status of a refused WebSocket handshake; fails if the socket opens. */
    private static int handshakeStatus(URI uri) {
        try {
            WebSocket socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(uri, new WebSocket.Listener() {}).join();
            socket.abort();
            return fail("the WebSocket to " + uri + " opened");
        } catch (CompletionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException handshake) {
                return handshake.getResponse().statusCode();
            }
            throw e;
        }
    }

    private static void assertStaysOpen(ChatPeer c, Duration during) {
        try {
            PulseConnection.Closed closed = c.closed().get(during.toMillis(), TimeUnit.MILLISECONDS);
            fail("socket closed within " + during + ": " + closed);
        } catch (TimeoutException expected) {
            assertThat(c.isOpen()).isTrue();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
