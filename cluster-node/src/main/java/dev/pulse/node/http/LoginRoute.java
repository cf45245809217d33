package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;
import static org.apache.pekko.http.javadsl.server.Directives.withSizeLimit;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.pulse.node.auth.TokenService;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.Names;
import dev.pulse.protocol.Timestamps;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/** {@code POST /api/login {"user":"alice"}} → {@code 200 {"token","user","expiresAt"}}. */
public final class LoginRoute {

    private static final long MAX_BODY_BYTES = 8 * 1024;
    private static final String SHAPE = "the body must be one JSON object like {\"user\":\"alice\"}, each field once";
    /** {"user":"alice","user":"bob"} or a body with more after its object is refused, not guessed at. */
    private static final ObjectReader STRICT_JSON = JsonResponses.JSON.reader()
        .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** A token must not stay in a browser's or a proxy's cache. */
    private static final HttpHeader NO_STORE = RawHeader.create("Cache-Control", "no-store");

    private final TokenService tokens;
    private final String password;

    /** @param password required password, or empty when the node needs none */
    public LoginRoute(TokenService tokens, String password) {
        this.tokens = tokens;
        this.password = password;
    }

    public Route route() {
        return path(segment("api").slash("login"), () -> respondWithHeader(NO_STORE, () -> post(() ->
            withSizeLimit(MAX_BODY_BYTES, () -> entity(Unmarshaller.entityToString(), body -> complete(login(body)))))));
    }

    HttpResponse login(String body) {
        JsonNode json;
        try {
            json = STRICT_JSON.readTree(body);
        } catch (Exception e) {
            return JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, SHAPE);
        }
        if (json == null || !json.isObject() || !json.path("user").isTextual()) {
            return JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, SHAPE);
        }
        String user = json.get("user").textValue();
        if (!Names.isValidUser(user)) {
            return JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID,
                "user names are 1-32 characters of [a-z0-9_.-], lower-case");
        }
        if (!password.isEmpty()) {
            JsonNode given = json.get("password");
            if (given == null || !given.isTextual() || !MessageDigest.isEqual(
                given.textValue().getBytes(StandardCharsets.UTF_8), password.getBytes(StandardCharsets.UTF_8))) {
                return JsonResponses.error(StatusCodes.UNAUTHORIZED, ErrorCode.UNAUTHORIZED, "wrong or missing password");
            }
        }
        TokenService.Token token = tokens.issue(user);
        return JsonResponses.json(StatusCodes.OK, JsonResponses.JSON.createObjectNode()
            .put("token", token.token())
            .put("user", token.user())
            .put("expiresAt", Timestamps.format(token.expiresAt().toEpochMilli())));
    }
}
