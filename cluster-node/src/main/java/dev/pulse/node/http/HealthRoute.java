package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;

import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code GET /health}: 200 while this node is an Up member of its cluster, 503 otherwise. */
public final class HealthRoute {

    private final Cluster cluster;
    private final String node;

    public HealthRoute(Cluster cluster, String node) {
        this.cluster = cluster;
        this.node = node;
    }

    public Route route() {
        return path("health", () -> get(() -> {
            MemberStatus status = cluster.selfMember().status();
            boolean up = status == MemberStatus.up();
            int members = cluster.state().members().size();
            var body = JsonResponses.JSON.createObjectNode()
                .put("status", up ? "ok" : "starting")
                .put("node", node)
                .put("member", status.toString())
                .put("members", members);
            return complete(JsonResponses.json(up ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, body));
        }));
    }
}
