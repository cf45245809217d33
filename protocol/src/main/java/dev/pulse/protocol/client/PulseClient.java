package dev.pulse.protocol.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A small blocking client of a Pulse node over real sockets: log in over HTTP, then open a
 * WebSocket. Tests and load tools share it.
 */
public final class PulseClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;

    /** @param base the node's HTTP address, e.g. {@code http://127.0.0.1:8080} */
    public PulseClient(URI base) {
        this.base = base;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    public URI base() {
        return base;
    }

    public record Login(String token, String user, String expiresAt) {}

    /** An HTTP answer that was not 200, with its JSON body. */
    public static final class HttpFailure extends RuntimeException {
        private final int status;
        private final String body;

        public HttpFailure(int status, String body) {
            super("HTTP " + status + ": " + body);
            this.status = status;
            this.body = body;
        }

        public int status() {
            return status;
        }

        public String body() {
            return body;
        }
    }

    public Login login(String user) {
        return login(user, null);
    }

    public Login login(String user, String password) {
        return signIn("/api/login", 200, user, password);
    }

    /** Version 1.1: makes the account and signs in ({@code 201}). */
    public Login register(String user, String password) {
        return signIn("/api/register", 201, user, password);
    }

    private Login signIn(String path, int expected, String user, String password) {
        var body = JSON.createObjectNode().put("user", user);
        if (password != null) {
            body.put("password", password);
        }
        HttpResponse<String> response = post(path, body.toString());
        if (response.statusCode() != expected) {
            throw new HttpFailure(response.statusCode(), response.body());
        }
        JsonNode json = json(response);
        return new Login(json.get("token").asText(), json.get("user").asText(), json.get("expiresAt").asText());
    }

    /** Version 1.1: {@code POST /api/logout} with the token as a bearer; the raw answer (204 when signed out). */
    public HttpResponse<String> logout(String token) {
        return postWithToken("/api/logout", token);
    }

    /** Version 1.1: a single-use ticket for {@link #connectWithTicket}. */
    public String ticket(String token) {
        HttpResponse<String> response = postWithToken("/api/ticket", token);
        if (response.statusCode() != 200) {
            throw new HttpFailure(response.statusCode(), response.body());
        }
        return json(response).get("ticket").asText();
    }

    public HttpResponse<String> postWithToken(String path, String token) {
        return send(HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.noBody())
            .build());
    }

    private static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IllegalStateException(response.uri() + " answered non-JSON: " + response.body(), e);
        }
    }

    /** POSTs a raw body and returns the raw response, for tests of the HTTP edge. */
    public HttpResponse<String> post(String path, String body) {
        HttpRequest request = HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
        return send(request);
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET().build());
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("request to " + request.uri() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Logs in and connects in one step. */
    public PulseConnection connectAs(String user) {
        return connect(login(user).token());
    }

    /**
     * Opens {@code /ws?token=…}; throws {@link HttpFailure} with the status when the node refuses the
     * upgrade (401 for a bad token).
     */
    public PulseConnection connect(String token) {
        return open("token", token);
    }

    /** Opens {@code /ws?ticket=…} (version 1.1). */
    public PulseConnection connectWithTicket(String ticket) {
        return open("ticket", ticket);
    }

    private PulseConnection open(String parameter, String value) {
        URI ws = URI.create(base.toString().replaceFirst("^http", "ws") + "/ws?" + parameter + "="
            + URLEncoder.encode(value, StandardCharsets.UTF_8));
        PulseConnection connection = new PulseConnection();
        CompletableFuture<java.net.http.WebSocket> opening = http.newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .buildAsync(ws, connection.listener());
        try {
            connection.attach(opening.join());
        } catch (CompletionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException handshake) {
                HttpResponse<?> response = handshake.getResponse();
                throw new HttpFailure(response.statusCode(), String.valueOf(response.body()));
            }
            throw e;
        }
        return connection;
    }
}
