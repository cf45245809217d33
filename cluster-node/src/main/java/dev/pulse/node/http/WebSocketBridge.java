package dev.pulse.node.http;

import dev.pulse.node.auth.TokenService;
import dev.pulse.node.metrics.SocketStats;
import dev.pulse.node.session.Inbound;
import dev.pulse.node.session.Session;
import dev.pulse.node.session.Sessions;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.FrameCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.scaladsl.model.ws.Message;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;

/**
 * Bridges one WebSocket into a {@link Session} actor: inbound messages are made strict (streamed
 * text bounded by the frame limit) and fed with back-pressure into the session; outbound frames
 * come from the session's bounded queue ({@link WebSocketOutbound}). The socket itself is Pekko
 * HTTP's own WebSocket stack, set up by {@link PekkoWebSocket}.
 */
public final class WebSocketBridge {

    private final ActorSystem<?> system;
    private final Materializer materializer;
    private final ActorRef<Sessions.Command> sessions;
    private final int maxFrameBytes;
    private final int outboundBuffer;
    private final long outboundBufferBytes;
    private final PekkoWebSocket webSocket;
    private final OpenSockets openSockets = new OpenSockets();

    public WebSocketBridge(ActorSystem<?> system, ActorRef<Sessions.Command> sessions, int maxFrameBytes,
                           int outboundBuffer, long outboundBufferBytes, Duration closeGrace) {
        this.system = system;
        this.materializer = Materializer.matFromSystem(system);
        this.sessions = sessions;
        this.maxFrameBytes = maxFrameBytes;
        this.outboundBuffer = outboundBuffer;
        this.outboundBufferBytes = outboundBufferBytes;
        this.webSocket = new PekkoWebSocket(system, closeGrace);
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
     * Starts a session for the credential's user and answers the upgrade request with the switch to
     * WebSocket; {@code ended} runs once the socket is gone (or was never opened).
     */
    public CompletionStage<HttpResponse> open(TokenService.Credential credential, String sessionId, WebSocketUpgrade upgrade,
                                              Runnable ended) {
        WebSocketOutbound outbound = new WebSocketOutbound(outboundBuffer, outboundBufferBytes);
        CompletionStage<Sessions.Spawned> spawned = AskPattern.ask(sessions,
            replyTo -> new Sessions.Spawn(sessionId, credential, outbound, replyTo), Duration.ofSeconds(5), system.scheduler());
        return spawned.whenComplete((answer, failure) -> {
                if (!(answer instanceof Sessions.Started)) {
                    ended.run();
                }
            })
            .thenApply(answer -> answer instanceof Sessions.Started started
                ? webSocket.accept(upgrade, messages(started.session(), outbound, ended), outbound.closeRequested(), outbound::written)
                : JsonResponses.error(StatusCodes.TOO_MANY_REQUESTS, ErrorCode.RATE_LIMITED, ((Sessions.Refused) answer).reason()));
    }

    private Flow<Message, Message, NotUsed> messages(ActorRef<Session.Command> session, WebSocketOutbound outbound,
                                                     Runnable ended) {
        Source<Message, NotUsed> fromSession = Source.<Message>queue(outboundBuffer)
            .mapMaterializedValue(queue -> {
                outbound.attach(queue);
                openSockets.opened(outbound);
                return NotUsed.getInstance();
            });
        Sink<Message, NotUsed> toSession = Flow.<Message>create()
            .mapAsync(1, this::strict)
            .to(ActorSink.actorRefWithBackpressure(session,
                Session.FromClient::new,
                Session.StreamStarted::new,
                Session.StreamAck.INSTANCE,
                new Session.ClientGone(),
                Session.ClientFailed::new));
        return Flow.fromSinkAndSourceCoupled(toSession, fromSession)
            .watchTermination((notUsed, done) -> {
                done.whenComplete((result, failure) -> {
                    openSockets.closed(outbound);
                    ended.run();
                });
                return NotUsed.getInstance();
            });
    }

    /** Collects a message, keeping at most the frame limit of a streamed text. */
    private CompletionStage<Inbound> strict(Message message) {
        if (message instanceof org.apache.pekko.http.scaladsl.model.ws.TextMessage.Strict text) {
            return CompletableFuture.completedFuture(new Inbound.Text(text.text()));
        }
        if (message instanceof org.apache.pekko.http.scaladsl.model.ws.TextMessage text) {
            return text.getStreamedText()
                .runFold(new BoundedText(maxFrameBytes), BoundedText::add, materializer)
                .thenApply(BoundedText::result);
        }
        return ((org.apache.pekko.http.scaladsl.model.ws.BinaryMessage) message).getStreamedData()
            .runWith(Sink.ignore(), materializer)
            .thenApply(done -> new Inbound.Binary());
    }

    /** Accumulates a streamed text until it passes the limit, then only counts. */
    private static final class BoundedText {
        private final int limit;
        private StringBuilder text = new StringBuilder();
        private long bytes;

        BoundedText(int limit) {
            this.limit = limit;
        }

        BoundedText add(String chunk) {
            bytes += FrameCodec.utf8Length(chunk);
            if (text != null) {
                if (bytes > limit) {
                    text = null;
                } else {
                    text.append(chunk);
                }
            }
            return this;
        }

        Inbound result() {
            return text == null ? new Inbound.TooLarge(bytes) : new Inbound.Text(text.toString());
        }
    }
}
