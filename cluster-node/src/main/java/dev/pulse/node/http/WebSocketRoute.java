package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import dev.pulse.node.auth.TokenService;
import dev.pulse.protocol.ErrorCode;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /ws?token=…}: 403 for a page of another origin, 401 unless the token is valid, both before any upgrade. */
public final class WebSocketRoute {

    private final TokenService tokens;
    private final WebSocketBridge bridge;
    private final AllowedOrigins origins;
    private final SecureRandom random = new SecureRandom();

    public WebSocketRoute(TokenService tokens, WebSocketBridge bridge, AllowedOrigins origins) {
        this.tokens = tokens;
        this.bridge = bridge;
        this.origins = origins;
    }

    public Route route() {
        return path("ws", () -> get(() -> parameterOptional("token", token -> extractRequest(request -> {
            String origin = request.getHeader("origin").map(HttpHeader::value).orElse(null);
            if (!origins.allows(origin, request.getHeader("host").map(HttpHeader::value).orElse(null))) {
                return complete(JsonResponses.error(StatusCodes.FORBIDDEN, ErrorCode.FORBIDDEN,
                    "a page from " + origin + " may not open sockets here (PULSE_ALLOWED_ORIGINS)"));
            }
            Optional<String> user = token.flatMap(tokens::verify);
            if (user.isEmpty()) {
                return complete(JsonResponses.error(StatusCodes.UNAUTHORIZED, ErrorCode.UNAUTHORIZED,
                    token.isEmpty() ? "missing token: connect to /ws?token=<token from POST /api/login>"
                        : "invalid or expired token: log in again"));
            }
            Optional<WebSocketUpgrade> upgrade = request.getAttribute(AttributeKeys.webSocketUpgrade);
            if (upgrade.isEmpty() || !bridge.accepts(upgrade.get())) {
                return complete(JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, "expected a WebSocket upgrade"));
            }
            return onSuccess(bridge.open(user.get(), newSessionId(), upgrade.get()), response -> complete(response));
        }))));
    }

    private String newSessionId() {
        byte[] id = new byte[9];
        random.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }
}
