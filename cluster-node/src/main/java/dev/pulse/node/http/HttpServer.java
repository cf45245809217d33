package dev.pulse.node.http;

import dev.pulse.node.auth.Accounts;
import dev.pulse.node.auth.TokenService;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;

/** The node's HTTP server: login, the WebSocket endpoint, health and the web UI on one port. */
public final class HttpServer {

    private final ServerBinding binding;

    private HttpServer(ServerBinding binding) {
        this.binding = binding;
    }

    /** Binds every route, or fails with the address that could not be bound. */
    public static HttpServer start(ActorSystem<?> system, String host, int port, TokenService tokens,
                                   Accounts accounts, ClientAddress clients, int maxSocketsPerAddress,
                                   WebSocketBridge bridge, AllowedOrigins origins, String node) {
        var route = Routes.all(
            new AccountRoutes(accounts, tokens, clients),
            new WebSocketRoute(tokens, accounts, bridge, origins, clients, maxSocketsPerAddress),
            new HealthRoute(Cluster.get(system), node),
            new StaticRoute());
        try {
            return new HttpServer(Http.get(system).newServerAt(host, port).bind(route)
                .toCompletableFuture().get(30, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException("cannot bind HTTP to " + host + ":" + port, e);
        }
    }

    /** Stops accepting connections; open ones go on. */
    public CompletionStage<Done> unbind() {
        return binding.unbind().thenApply(done -> Done.getInstance());
    }

    /** Ends open connections, giving requests in flight {@code deadline} to finish. */
    public CompletionStage<Done> terminate(Duration deadline) {
        return binding.terminate(deadline).thenApply(terminated -> Done.getInstance());
    }

    /** The port bound (useful when configured as 0). */
    public int port() {
        return binding.localAddress().getPort();
    }

    public String host() {
        return binding.localAddress().getHostString();
    }
}
