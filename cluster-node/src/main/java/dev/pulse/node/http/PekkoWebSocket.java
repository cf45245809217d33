package dev.pulse.node.http;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.LongConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.impl.engine.ws.WebSocket$;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.http.scaladsl.model.ws.Message;
import org.apache.pekko.http.scaladsl.settings.WebSocketSettings;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;

/**
 * The one place that uses Pekko HTTP's internal WebSocket API ({@code org.apache.pekko.http.impl}),
 * for two things its public API cannot do:
 * <ul>
 *   <li>close with a code of ours: the message API only closes with 1000 or 1011, the contract
 *       closes slow consumers with 1008 and idle or departing sessions with 1001;</li>
 *   <li>share one WebSocket stack blueprint between all connections: the public
 *       {@code handleMessagesWith} builds it per connection, ~15 KB of heap each for as long as the
 *       connection lives.</li>
 * </ul>
 * Upgrading Pekko HTTP means checking this class against its {@code WebSocket.stack},
 * {@code FrameEvent} and {@code UpgradeToWebSocketLowLevel}, and that a strict text message still
 * leaves the stack as one text frame whose header length is its UTF-8 length (the outbound queue's
 * byte count is settled there).
 */
final class PekkoWebSocket {

    private static final FiniteDuration CLOSE_TIMEOUT = FiniteDuration.create(3, "seconds");
    /** RFC 6455 opcode of a text frame. */
    private static final byte TEXT = 1;

    private final org.apache.pekko.stream.scaladsl.BidiFlow<FrameEvent, Message, Message, FrameEvent, NotUsed> stack;
    private final Duration closeGrace;

    PekkoWebSocket(ActorSystem<?> system, Duration closeGrace) {
        this.closeGrace = closeGrace;
        // The javadsl settings object is the same instance as the scaladsl one the stack wants.
        WebSocketSettings settings = (WebSocketSettings)
            org.apache.pekko.http.javadsl.settings.ServerSettings.create(system.classicSystem()).getWebsocketSettings();
        this.stack = WebSocket$.MODULE$.stack(true, settings, CLOSE_TIMEOUT, system.classicSystem().log());
    }

    /** Whether {@link #accept} can take this upgrade (it always can from Pekko HTTP's own server). */
    static boolean supports(WebSocketUpgrade upgrade) {
        return upgrade instanceof UpgradeToWebSocketLowLevel;
    }

    /**
     * Switches the connection to WebSocket with {@code messages} as its handler; when
     * {@code closeRequested} completes the socket closes with its code and reason.
     */
    HttpResponse accept(WebSocketUpgrade upgrade, Flow<Message, Message, NotUsed> messages,
                        CompletionStage<WebSocketOutbound.CloseRequest> closeRequested, LongConsumer textWritten) {
        var frames = stack.join(messages.asScala()).via(new CloseWithCode(closeRequested, closeGrace, textWritten));
        return ((UpgradeToWebSocketLowLevel) upgrade).handleFrames(asGraph(frames), Option.empty());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Graph<FlowShape<FrameEvent, FrameEvent>, Object> asGraph(org.apache.pekko.stream.scaladsl.Flow flow) {
        return flow;
    }

    /**
     * Sits between the WebSocket stack and the wire. When a close is requested, it sends a close
     * frame with that code, drops whatever the stack emits after it, and ends the connection when
     * the peer has answered (the stack then completes) or after a grace period.
     */
    private static final class CloseWithCode extends GraphStage<FlowShape<FrameEvent, FrameEvent>> {

        private final Inlet<FrameEvent> in = Inlet.create("CloseWithCode.in");
        private final Outlet<FrameEvent> out = Outlet.create("CloseWithCode.out");
        private final FlowShape<FrameEvent, FrameEvent> shape = FlowShape.of(in, out);
        private final CompletionStage<WebSocketOutbound.CloseRequest> closeRequested;
        private final Duration grace;
        private final LongConsumer textWritten;

        CloseWithCode(CompletionStage<WebSocketOutbound.CloseRequest> closeRequested, Duration grace, LongConsumer textWritten) {
            this.closeRequested = closeRequested;
            this.grace = grace;
            this.textWritten = textWritten;
        }

        @Override
        public FlowShape<FrameEvent, FrameEvent> shape() {
            return shape;
        }

        @Override
        public GraphStageLogic createLogic(Attributes attributes) {
            return new TimerGraphStageLogic(shape) {
                private FrameEvent closeFrame; // set once a close is requested
                private boolean closeSent;

                {
                    setHandler(in, new AbstractInHandler() {
                        @Override
                        public void onPush() {
                            FrameEvent frame = grab(in);
                            if (frame instanceof FrameStart start && start.header().opcode().code() == TEXT) {
                                textWritten.accept(start.header().length()); // out of the session's queue
                            }
                            if (closeFrame == null) {
                                push(out, frame);
                            } else {
                                pull(in); // after our close frame nothing else may go out
                            }
                        }

                        @Override
                        public void onUpstreamFinish() {
                            if (closeFrame != null && !closeSent) {
                                closeSent = true;
                                emit(out, closeFrame, () -> completeStage());
                            } else {
                                completeStage();
                            }
                        }
                    });
                    setHandler(out, new AbstractOutHandler() {
                        @Override
                        public void onPull() {
                            if (closeFrame != null && !closeSent) {
                                closeSent = true;
                                push(out, closeFrame);
                            } else if (!hasBeenPulled(in) && !isClosed(in)) {
                                pull(in);
                            }
                        }
                    });
                }

                @Override
                public void preStart() {
                    AsyncCallback<WebSocketOutbound.CloseRequest> onClose = createAsyncCallback(this::startClosing);
                    closeRequested.thenAccept(onClose::invoke);
                }

                private void startClosing(WebSocketOutbound.CloseRequest request) {
                    if (closeFrame != null) {
                        return;
                    }
                    closeFrame = FrameEvent$.MODULE$.closeFrame(request.code(), request.reason(), Option.empty());
                    scheduleOnce("grace", grace);
                    if (isAvailable(out)) {
                        closeSent = true;
                        push(out, closeFrame);
                    }
                    if (!hasBeenPulled(in) && !isClosed(in)) {
                        pull(in); // keep draining so the stack sees the peer's close answer
                    }
                }

                @Override
                public void onTimer(Object key) {
                    completeStage();
                }
            };
        }
    }
}
