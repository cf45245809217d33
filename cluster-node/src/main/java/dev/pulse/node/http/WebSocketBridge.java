package dev.pulse.node.http;

import dev.pulse.node.auth.TokenService;
import dev.pulse.node.metrics.SocketStats;
import dev.pulse.node.session.Session;
import dev.pulse.node.session.Sessions;
import dev.pulse.protocol.ErrorCode;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;


/**
 * Bridges one WebSocket into a {@link Session} actor: the session is started first (it may be
 * refused), then the upgrade is answered and the socket's stage ({@link PekkoWebSocketConnection})
 * feeds the client's messages into the session with back-pressure and writes the frames the session
 * queues ({@link WebSocketOutbound}).
 */
public final class WebSocketBridge {

    private final ActorSystem<?> system;
    private final ActorRef<Sessions.Command> sessions;
    private final int outboundBuffer;
    private final long outboundBufferBytes;
    private final PekkoWebSocket webSocket;
    private final OpenSockets openSockets = new OpenSockets();

    public WebSocketBridge(ActorSystem<?> system, ActorRef<Sessions.Command> sessions, int maxFrameBytes,
                           int outboundBuffer, long outboundBufferBytes, Duration closeGrace) {
        this.system = system;
        this.sessions = sessions;
        this.outboundBuffer = outboundBuffer;
        this.outboundBufferBytes = outboundBufferBytes;
        this.webSocket = new PekkoWebSocket(closeGrace, maxFrameBytes);
    }

    /** The sockets open now, for metrics. */
    public SocketStats sockets() {
        return openSockets;
    }

    /** Whether {@link #open} can serve this upgrade request. */
    public boolean accepts(WebSocketUpgrade upgrade) {
        return PekkoWebSocket.supports(upgrade);
    }

    /**
     * Starts a session for the credential's user and answers the upgrade request (its
     * {@code Sec-WebSocket-Key} is {@code key}) with the switch to WebSocket; {@code ended} runs once
     * the socket is gone (or was never opened).
     */
    public CompletionStage<HttpResponse> open(TokenService.Credential credential, String sessionId, String key,
                                              Runnable ended) {
        WebSocketOutbound outbound = new WebSocketOutbound(outboundBuffer, outboundBufferBytes);
        CompletionStage<Sessions.Spawned> spawned = AskPattern.ask(sessions,
            replyTo -> new Sessions.Spawn(sessionId, credential, outbound, replyTo), Duration.ofSeconds(5), system.scheduler());
        return spawned.whenComplete((answer, failure) -> {
                if (!(answer instanceof Sessions.Started)) {
                    ended.run();
                }
            })
            .thenApply(answer -> {
                if (answer instanceof Sessions.Started started) {
                    return webSocket.accept(key, started.session(), outbound, () -> openSockets.opened(outbound), () -> {
                        openSockets.closed(outbound);
                        ended.run();
                    });
                }
                return JsonResponses.error(StatusCodes.TOO_MANY_REQUESTS, ErrorCode.RATE_LIMITED, ((Sessions.Refused) answer).reason());
            });
    }
}
