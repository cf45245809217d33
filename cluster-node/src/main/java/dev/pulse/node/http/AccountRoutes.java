package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.onSuccess;
import static org.apache.pekko.http.javadsl.server.Directives.optionalHeaderValueByName;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;
import static org.apache.pekko.http.javadsl.server.Directives.withSizeLimit;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.pulse.node.auth.Accounts;
import dev.pulse.node.auth.TokenService;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.Names;
import dev.pulse.protocol.Timestamps;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * Sign-in over HTTP (PROTOCOL.md 1.1, "Accounts and sign-in"): {@code POST /api/register},
 * {@code /api/login}, {@code /api/logout} and {@code /api/ticket}. Bodies are strict JSON; what they
 * mean is {@link Accounts}'s to decide.
 */
public final class AccountRoutes {

    private static final long MAX_BODY_BYTES = 8 * 1024;
    private static final String SHAPE =
        "the body must be one JSON object like {\"user\":\"alice\",\"password\":\"…\"}, each field once";
    /** {"user":"alice","user":"bob"} or a body with more after its object is refused, not guessed at. */
    private static final ObjectReader STRICT_JSON = JsonResponses.JSON.reader()
        .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** A token must not stay in a browser's or a proxy's cache. */
    private static final HttpHeader NO_STORE = RawHeader.create("Cache-Control", "no-store");

    private final Accounts accounts;
    private final TokenService tokens;
    private final ClientAddress clients;

    public AccountRoutes(Accounts accounts, TokenService tokens, ClientAddress clients) {
        this.accounts = accounts;
        this.tokens = tokens;
        this.clients = clients;
    }

    public Route route() {
        return pathPrefix("api", () -> respondWithHeader(NO_STORE, () -> concat(
            path("login", () -> post(() -> withBody((user, password) -> extractRequest(request -> answer(
                accounts.login(user, password, clients.of(request)), StatusCodes.OK))))),
            path("register", () -> post(() -> withBody((user, password) -> answer(accounts.register(user, password),
                StatusCodes.CREATED)))),
            path("logout", () -> post(() -> withToken(credential -> onSuccess(accounts.logout(credential),
                signedOut -> complete(signedOut ? HttpResponse.create().withStatus(StatusCodes.NO_CONTENT) : signedOutAlready()))))),
            path("ticket", () -> post(() -> withToken(credential -> onSuccess(accounts.ticket(credential),
                ticket -> complete(ticket == null ? signedOutAlready() : JsonResponses.json(StatusCodes.OK,
                    JsonResponses.JSON.createObjectNode()
                        .put("ticket", ticket.ticket())
                        .put("expiresAt", Timestamps.format(ticket.expiresAt().toEpochMilli()))))))))
        )));
    }

    /** The user and password (null when absent) of a well-formed body; 400 for anything else. */
    private Route withBody(BiFunction<String, String, Route> inner) {
        return withSizeLimit(MAX_BODY_BYTES, () -> entity(Unmarshaller.entityToString(), body -> {
            JsonNode json;
            try {
                json = STRICT_JSON.readTree(body);
            } catch (Exception e) {
                return complete(JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, SHAPE));
            }
            if (json == null || !json.isObject() || !json.path("user").isTextual()
                || (json.has("password") && !json.get("password").isTextual())) {
                return complete(JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, SHAPE));
            }
            String user = json.get("user").textValue();
            if (!Names.isValidUser(user)) {
                return complete(JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID,
                    "user names are 1-32 characters of [a-z0-9_.-], lower-case"));
            }
            return inner.apply(user, json.has("password") ? json.get("password").textValue() : null);
        }));
    }

    /** The credential of a valid {@code Authorization: Bearer} token; 401 without one. */
    private Route withToken(java.util.function.Function<TokenService.Credential, Route> inner) {
        return optionalHeaderValueByName("Authorization", header -> {
            Optional<TokenService.Credential> credential = header
                .filter(value -> value.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(value -> value.substring(7).trim())
                .flatMap(tokens::verify);
            return credential.isPresent() ? inner.apply(credential.get())
                : complete(JsonResponses.error(StatusCodes.UNAUTHORIZED, ErrorCode.UNAUTHORIZED,
                    "send the token from POST /api/login as Authorization: Bearer <token>"));
        });
    }

    private static HttpResponse signedOutAlready() {
        return JsonResponses.error(StatusCodes.UNAUTHORIZED, ErrorCode.UNAUTHORIZED, "this token was signed out: log in again");
    }

    private static Route answer(CompletionStage<Accounts.Outcome> outcome, StatusCode success) {
        return onSuccess(outcome, result -> complete(response(result, success)));
    }

    static HttpResponse response(Accounts.Outcome outcome, StatusCode success) {
        if (outcome instanceof Accounts.SignedIn signedIn) {
            TokenService.Token token = signedIn.token();
            return JsonResponses.json(success, JsonResponses.JSON.createObjectNode()
                .put("token", token.token())
                .put("user", token.user())
                .put("expiresAt", Timestamps.format(token.expiresAt().toEpochMilli())));
        }
        if (outcome instanceof Accounts.Invalid invalid) {
            return JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, invalid.message());
        }
        if (outcome instanceof Accounts.WrongPassword) {
            return JsonResponses.error(StatusCodes.UNAUTHORIZED, ErrorCode.UNAUTHORIZED, "wrong user name or password");
        }
        if (outcome instanceof Accounts.NameTaken) {
            return JsonResponses.error(StatusCodes.CONFLICT, ErrorCode.CONFLICT, "that name is taken");
        }
        if (outcome instanceof Accounts.Throttled throttled) {
            return JsonResponses.json(StatusCodes.TOO_MANY_REQUESTS, JsonResponses.JSON.createObjectNode()
                .put("type", "error").put("code", ErrorCode.RATE_LIMITED.wire())
                .put("message", "too many wrong passwords; try again later")
                .put("retryAfterMs", throttled.retryAfterMs()));
        }
        if (outcome instanceof Accounts.NoAccounts) {
            return JsonResponses.error(StatusCodes.NOT_FOUND, ErrorCode.NOT_FOUND,
                "this node has no accounts (PULSE_AUTH=open): log in with a name");
        }
        return JsonResponses.error(StatusCodes.SERVICE_UNAVAILABLE, ErrorCode.UNAVAILABLE, "accounts are unavailable; try again");
    }
}
