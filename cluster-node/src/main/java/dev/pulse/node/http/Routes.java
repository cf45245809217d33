package dev.pulse.node.http;

import static org.apache.pekko.http.javadsl.server.Directives.concat;

import org.apache.pekko.http.javadsl.server.Route;

/** All HTTP routes of a node. */
public final class Routes {

    private Routes() {}

    public static Route all(LoginRoute login, WebSocketRoute webSocket, HealthRoute health, StaticRoute statics) {
        return concat(login.route(), webSocket.route(), health.route(), statics.route());
    }
}
