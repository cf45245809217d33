package dev.pulse.node.http;

import dev.pulse.node.session.Inbound;
import dev.pulse.node.session.Outbound;
import dev.pulse.node.session.Session;
import dev.pulse.node.session.Sessions;
import dev.pulse.protocol.FrameCodec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.impl.engine.ws.WebSocket$;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ws.Message;
import org.apache.pekko.http.scaladsl.settings.WebSocketSettings;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;

/**
 * Bridges one WebSocket into a {@link Session} actor: inbound messages are made strict (streamed
 * text bounded by the frame limit) and fed with back-pressure into the session; outbound frames
 * come from the session's bounded queue. Built on Pekko HTTP's own WebSocket stack, with a last
 * stage that can close with a code of ours (1008 slow consumer, 1001 idle or shutdown).
 */
public final class WebSocketBridge {

    private static final FiniteDuration CLOSE_TIMEOUT = FiniteDuration.create(3, "seconds");

    private final ActorSystem<?> system;
    private final Materializer materializer;
    private final ActorRef<Sessions.Command> sessions;
    private final int maxFrameBytes;
    private final int outboundBuffer;
    private final Duration closeGrace;
    private final WebSocketSettings webSocketSettings;
    private final LoggingAdapter log;
    private final org.apache.pekko.stream.scaladsl.BidiFlow<FrameEvent, Message, Message, FrameEvent, NotUsed> stack;

    public WebSocketBridge(ActorSystem<?> system, ActorRef<Sessions.Command> sessions, int maxFrameBytes,
                           int outboundBuffer, Duration closeGrace) {
        this.system = system;
        this.materializer = Materializer.matFromSystem(system);
        this.sessions = sessions;
        this.maxFrameBytes = maxFrameBytes;
        this.outboundBuffer = outboundBuffer;
        this.closeGrace = closeGrace;
        // The javadsl settings object is the same instance as the scaladsl one the stack wants.
        this.webSocketSettings = (WebSocketSettings)
            org.apache.pekko.http.javadsl.settings.ServerSettings.create(system.classicSystem()).getWebsocketSettings();
        this.log = system.classicSystem().log();
        // One blueprint for every connection: a connection keeps its handler graph for its whole
        // life, and a stack built per connection cost ~15 KB of heap each (traversal builders).
        this.stack = WebSocket$.MODULE$.stack(true, webSocketSettings, CLOSE_TIMEOUT, log);
    }

    /** Starts a session for {@code user} and answers the upgrade request with the switch to WebSocket. */
    public CompletionStage<HttpResponse> open(String user, String sessionId, UpgradeToWebSocketLowLevel upgrade) {
        Outbound outbound = new Outbound(outboundBuffer);
        CompletionStage<ActorRef<Session.Command>> session = AskPattern.ask(sessions,
            replyTo -> new Sessions.Spawn(sessionId, user, outbound, replyTo), Duration.ofSeconds(5), system.scheduler());
        return session.thenApply(ref -> upgrade.handleFrames(asGraph(frames(ref, outbound)), Option.empty()));
    }

    private org.apache.pekko.stream.scaladsl.Flow<FrameEvent, FrameEvent, ?> frames(
            ActorRef<Session.Command> session, Outbound outbound) {
        Source<Message, NotUsed> fromSession = Source.<Message>queue(outboundBuffer)
            .mapMaterializedValue(queue -> {
                outbound.attach(queue);
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
        Flow<Message, Message, NotUsed> messages = Flow.fromSinkAndSourceCoupled(toSession, fromSession);
        return stack
            .join(messages.asScala())
            .via(new CloseWithCodeStage(outbound.closeRequested(), closeGrace));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Graph<FlowShape<FrameEvent, FrameEvent>, Object> asGraph(org.apache.pekko.stream.scaladsl.Flow flow) {
        return flow;
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
