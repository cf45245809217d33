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
        var body = JSON.createObjectNode().put("user", user);
        if (password != null) {
            body.put("password", password);
        }
        HttpResponse<String> response = post("/api/login", body.toString());
        if (response.statusCode() != 200) {
            throw new HttpFailure(response.statusCode(), response.body());
        }
        try {
            JsonNode json = JSON.readTree(response.body());
            return new Login(json.get("token").asText(), json.get("user").asText(), json.get("expiresAt").asText());
        } catch (IOException e) {
            throw new IllegalStateException("login answered non-JSON: " + response.body(), e);
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
        URI ws = URI.create(base.toString().replaceFirst("^http", "ws") + "/ws?token="
            + URLEncoder.encode(token, StandardCharsets.UTF_8));
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
