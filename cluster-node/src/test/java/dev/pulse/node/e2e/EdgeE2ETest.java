package dev.pulse.node.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pulse.node.TestNode;
import dev.pulse.node.testkit.ChatPeer;
import dev.pulse.protocol.ServerFrame;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP edge as a browser or an attacker meets it (issue 12, "The edge"): security headers on every
 * answer, logins that are never cached and never guessed at, terse errors, and the {@code Origin} check
 * on {@code /ws}. Each of these failed before the edge was hardened.
 */
class EdgeE2ETest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path data;

    private static TestNode node;

    @BeforeAll
    static void start() {
        node = TestNode.start(data);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + node.httpPort() + path);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    private static HttpResponse<String> login(String body) throws Exception {
        return send(HttpRequest.newBuilder(uri("/api/login")).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    // ------------------------------------------------------------------ headers

    @Test
    void everyAnswerCarriesTheSecurityHeaders() throws Exception {
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        Matcher script = Pattern.compile("src=\"\\.?(/assets/[^\"]+\\.js)\"").matcher(page.body());
        assertThat(script.find()).as("the UI's script in %s", page.body()).isTrue();

        List<HttpResponse<String>> answers = List.of(page, get(script.group(1)), get("/no-such-page"), get("/health"),
            login("{\"user\":\"edge-headers\"}"), login("{}"));
        for (HttpResponse<String> answer : answers) {
            String what = answer.request().method() + " " + answer.uri().getPath() + " (" + answer.statusCode() + ")";
            assertThat(answer.headers().firstValue("Content-Security-Policy")).as(what).hasValueSatisfying(csp -> {
                assertThat(csp).contains("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'");
                assertThat(csp).doesNotContain("unsafe-inline", "unsafe-eval");
            });
            assertThat(answer.headers().firstValue("X-Content-Type-Options")).as(what).contains("nosniff");
            assertThat(answer.headers().firstValue("X-Frame-Options")).as(what).contains("DENY");
            assertThat(answer.headers().firstValue("Referrer-Policy")).as(what).contains("no-referrer");
        }
    }

    // ------------------------------------------------------------------ login

    @Test
    void loginAnswersAreNeverStored() throws Exception {
        assertThat(login("{\"user\":\"edge-store\"}").headers().firstValue("Cache-Control")).contains("no-store");
        assertThat(login("{\"user\":\"Not Valid\"}").headers().firstValue("Cache-Control")).contains("no-store");
    }

    @Test
    void aLoginWithTheSameFieldTwiceIsRefused() throws Exception {
        HttpResponse<String> twice = login("{\"user\":\"alice\",\"user\":\"bob\"}");
        assertThat(twice.statusCode()).as(twice.body()).isEqualTo(400);
        assertThat(JSON.readTree(twice.body()).path("code").asText()).isEqualTo("invalid");
    }

    @Test
    void aLoginWithMoreAfterItsObjectIsRefused() throws Exception {
        for (String body : List.of("{\"user\":\"alice\"} {\"user\":\"bob\"}", "{\"user\":\"alice\"} trailing", "{\"user\":\"alice\"}]")) {
            HttpResponse<String> answer = login(body);
            assertThat(answer.statusCode()).as("%s -> %s", body, answer.body()).isEqualTo(400);
        }
        assertThat(login("{\"user\":\"edge-spaces\"} \n").statusCode()).as("trailing white space is fine").isEqualTo(200);
    }

    @Test
    void aTooLargeBodyGetsATerseJsonError() throws Exception {
        HttpResponse<String> answer = login("{\"user\":\"" + "a".repeat(9_000) + "\"}");
        assertThat(answer.statusCode()).isEqualTo(413);
        JsonNode body = JSON.readTree(answer.body());
        assertThat(body.path("type").asText()).isEqualTo("error");
        assertThat(body.path("code").asText()).isEqualTo("too_large");
        assertThat(answer.body()).doesNotContainIgnoringCase("pekko").doesNotContain("Exception", "max-content-length");
    }

    // ------------------------------------------------------------------ Origin on /ws

    @Test
    void aPageOfAnotherOriginMayNotOpenASocket() throws Exception {
        String token = node.client().login("edge-origin").token();
        HttpResponse<String> refused = send(HttpRequest.newBuilder(uri("/ws?token=" + token))
            .header("Origin", "https://evil.example").GET());
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(refused.body()).path("code").asText()).isEqualTo("forbidden");

        URI ws = URI.create("ws://127.0.0.1:" + node.httpPort() + "/ws?token=" + token);
        try {
            WebSocket socket = HTTP.newWebSocketBuilder().header("Origin", "https://evil.example")
                .buildAsync(ws, new WebSocket.Listener() {}).get(10, TimeUnit.SECONDS);
            socket.abort();
            throw new AssertionError("a WebSocket from https://evil.example opened");
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOfSatisfying(WebSocketHandshakeException.class,
                handshake -> assertThat(handshake.getResponse().statusCode()).isEqualTo(403));
        }
    }

    @Test
    void theNodesOwnPagesAndNonBrowserClientsMayOpenSockets() throws Exception {
        String token = node.client().login("edge-own").token();
        URI ws = URI.create("ws://127.0.0.1:" + node.httpPort() + "/ws?token=" + token);
        WebSocket own = HTTP.newWebSocketBuilder().header("Origin", "http://127.0.0.1:" + node.httpPort())
            .buildAsync(ws, new WebSocket.Listener() {}).get(10, TimeUnit.SECONDS);
        own.abort();

        try (ChatPeer noOrigin = ChatPeer.open(node.client(), token)) {
            assertThat(noOrigin.expectPush(ServerFrame.Welcome.class).user()).isEqualTo("edge-own");
        }
    }
}
