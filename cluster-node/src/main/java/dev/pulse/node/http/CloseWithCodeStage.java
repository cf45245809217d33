package dev.pulse.node.http;

import dev.pulse.node.session.Outbound;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEvent$;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import scala.Option;

/**
 * Sits between Pekko HTTP's WebSocket stack and the wire. Pekko's message API can only close with
 * 1000 or 1011, while the contract closes slow consumers with 1008. When the session asks for a
 * close, this stage sends a close frame with that code, drops whatever the stack emits after it,
 * and ends the connection when the peer has answered (the stack then completes) or after a grace.
 */
final class CloseWithCodeStage extends GraphStage<FlowShape<FrameEvent, FrameEvent>> {

    private final Inlet<FrameEvent> in = Inlet.create("CloseWithCode.in");
    private final Outlet<FrameEvent> out = Outlet.create("CloseWithCode.out");
    private final FlowShape<FrameEvent, FrameEvent> shape = FlowShape.of(in, out);
    private final CompletionStage<Outbound.CloseRequest> closeRequested;
    private final Duration grace;

    CloseWithCodeStage(CompletionStage<Outbound.CloseRequest> closeRequested, Duration grace) {
        this.closeRequested = closeRequested;
        this.grace = grace;
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
                AsyncCallback<Outbound.CloseRequest> onClose = createAsyncCallback(this::startClosing);
                closeRequested.thenAccept(onClose::invoke);
            }

            private void startClosing(Outbound.CloseRequest request) {
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
