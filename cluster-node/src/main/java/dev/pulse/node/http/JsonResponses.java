package dev.pulse.node.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pulse.protocol.ErrorCode;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;

/** JSON answers of the HTTP routes; errors have the same shape as WebSocket error frames. */
final class JsonResponses {

    static final ObjectMapper JSON = new ObjectMapper();

    private JsonResponses() {}

    static HttpResponse json(StatusCode status, ObjectNode body) {
        return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, body.toString());
    }

    static HttpResponse error(StatusCode status, ErrorCode code, String message) {
        return json(status, JSON.createObjectNode().put("type", "error").put("code", code.wire()).put("message", message));
    }
}
