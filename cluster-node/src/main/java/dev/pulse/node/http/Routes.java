package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithDefaultHeaders;

import dev.pulse.protocol.ErrorCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/** All HTTP routes of a node, with the security headers on every answer, rejections included. */
public final class Routes {

    /**
     * A body that is too large or cannot be read gets a short JSON error: Pekko's own answer names its
     * exception and configuration keys. Other rejections (404, 405, …) keep Pekko's short texts.
     */
    private static final RejectionHandler TERSE_BODY_ERRORS = RejectionHandler.newBuilder()
        .handle(MalformedRequestContentRejection.class, rejection -> complete(
            rejection.getCause() instanceof EntityStreamSizeException
                ? JsonResponses.error(StatusCodes.PAYLOAD_TOO_LARGE, ErrorCode.TOO_LARGE, "the request body is too large")
                : JsonResponses.error(StatusCodes.BAD_REQUEST, ErrorCode.INVALID, "the request body could not be read")))
        .build()
        .withFallback(RejectionHandler.defaultHandler());

    private Routes() {}

    public static Route all(AccountRoutes accounts, WebSocketRoute webSocket, HealthRoute health, StaticRoute statics) {
        return respondWithDefaultHeaders(SecurityHeaders.ALL, () -> handleRejections(TERSE_BODY_ERRORS,
            () -> concat(accounts.route(), webSocket.route(), health.route(), statics.route())));
    }
}
