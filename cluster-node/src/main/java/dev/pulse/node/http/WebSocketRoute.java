package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.onComplete;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import dev.pulse.node.auth.Accounts;
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

/**
 * {@code GET /ws?token=…} or {@code ?ticket=…}: 403 for a page of another origin, 401 unless the token
 * (or single-use ticket) is valid and not signed out, all before any upgrade.
 */
public final class WebSocketRoute {

    private final TokenService tokens;
    private final Accounts accounts;
    private final ClientAddress clients;
    private final AddressSockets addressSockets;
    private final WebSocketBridge bridge;
    private final AllowedOrigins origins;
    private final SecureRandom random = new SecureRandom();

    public WebSocketRoute(TokenService tokens, Accounts accounts, WebSocketBridge bridge, AllowedOrigins origins,
                          ClientAddress clients, int maxSocketsPerAddress) {
        this.tokens = tokens;
        this.accounts = accounts;
        this.clients = clients;
        this.addressSockets = new AddressSockets(maxSocketsPerAddress);
        this.bridge = bridge;
        this.origins = origins;
    }

    public Route route() {
        return path("ws", () -> get(() -> parameterOptional("token", token -> parameterOptional("ticket", ticket ->
            extractRequest(request -> {
                String origin = request.getHeader("origin").map(HttpHeader::value).orElse(null);
                if (!origins.allows(origin, request.getHeader("host").map(HttpHeader::value).orElse(null))) {
                    return complete(JsonResponses.error(StatusCodes.FORBIDDEN, ErrorCode.FORBIDDEN,
                        "a page from " + origin + " may not open sockets here (PULSE_ALLOWED_ORIGINS)"));
                }
                Optional<TokenService.Credential> credential = ticket.isPresent()
                    ? ticket.flatMap(tokens::verifyTicket) : token.flatMap(tokens::verify);
                if (credential.isEmpty()) {
                    return unauthorized(token.isEmpty() && ticket.isEmpty()
                        ? "missing token: connect to /ws?token=<token from POST /api/login> or ?ticket=<from POST /api/ticket>"
                        : ticket.isPresent() ? "invalid or expired ticket: ask POST /api/ticket for another"
                        : "invalid or expired token: log in again");
                }
                Optional<WebSocketUpgrade> upgrade = request.getAttribute(AttributeKeys.webSocketUpgrade);
                if (upgrade.isEmpty() || !bridge.accepts(upgrade.get())) {
                    return complete(JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, "expected a WebSocket upgrade"));
                }
                // Signed out, or a ticket used before: only the user's entity knows.
                return onComplete(accounts.admit(credential.get()), admission -> {
                    if (admission.isFailure()) {
                        return complete(JsonResponses.error(StatusCodes.SERVICE_UNAVAILABLE, ErrorCode.UNAVAILABLE,
                            "sign-in is unavailable; try again"));
                    }
                    if (!admission.get().admitted()) {
                        return unauthorized(admission.get().reason());
                    }
                    String address = clients.of(request);
                    if (!addressSockets.tryOpen(address)) {
                        return complete(JsonResponses.error(StatusCodes.TOO_MANY_REQUESTS, ErrorCode.RATE_LIMITED,
                            "at most " + addressSockets.max() + " open sockets per client address; close one first"));
                    }
                    String key = request.getHeader("sec-websocket-key").map(HttpHeader::value).orElseThrow();
                    return onSuccess(bridge.open(credential.get(), newSessionId(), key, () -> addressSockets.closed(address)),
                        response -> complete(response));
                });
            })))));
    }

    private static Route unauthorized(String message) {
        return complete(JsonResponses.error(StatusCodes.UNAUTHORIZED, ErrorCode.UNAUTHORIZED, message));
    }

    private String newSessionId() {
        byte[] id = new byte[9];
        random.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }
}
