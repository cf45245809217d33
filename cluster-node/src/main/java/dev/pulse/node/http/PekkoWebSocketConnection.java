package dev.pulse.node.http;

import dev.pulse.node.session.Inbound;
import dev.pulse.node.session.Session;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.apache.pekko.actor.Terminated;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.impl.engine.ws.FrameData;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEventParser$;
import org.apache.pekko.http.impl.engine.ws.FrameHeader;
import org.apache.pekko.http.impl.engine.ws.FrameStart;
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
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import scala.Option;
import scala.Tuple2;
import scala.runtime.BoxedUnit;

/**
 * One WebSocket, server side, as a single stage between Pekko HTTP's frame parser and the socket's
 * bytes: RFC 6455 from the client's frames to {@link Session} messages (with back-pressure: the next
 * message is read once the session has taken the last), and the session's queued frames
 * ({@link WebSocketOutbound}) to the wire as shared, pre-rendered bytes, coalesced into one write
 * when several are ready.
 *
 * <p>Why not Pekko HTTP's own message stack: it runs ~40 stage logics per socket, a substream for
 * every incoming message and a timer tick every 3 s per socket; that was most of a node's CPU per
 * delivered frame and of its heap per idle socket (perf/SCALE.md). The rules it kept are kept here:
 * client frames must be masked, no reserved bits, final control frames of at most 125 bytes, pings
 * answered with pongs, text must be UTF-8 (else 1007), a protocol error closes with 1002, a close is
 * answered with the peer's code, and our own close waits for the peer's answer at most a grace period.
 */
final class PekkoWebSocketConnection extends GraphStage<FlowShape<FrameEvent, ByteString>> {

    private static final int OP_CONTINUATION = 0;
    private static final int OP_TEXT = 1;
    private static final int OP_BINARY = 2;
    private static final int OP_CLOSE = 8;
    private static final int OP_PING = 9;
    private static final int OP_PONG = 10;
    private static final int CLOSE_PROTOCOL_ERROR = 1002;
    private static final int CLOSE_INCONSISTENT_DATA = 1007;
    private static final int CLOSE_INTERNAL_ERROR = 1011;
    /** A write gathers queued frames up to about this many bytes. */
    private static final int WRITE_BYTES = 64 * 1024;

    private final Inlet<FrameEvent> in = Inlet.create("WebSocket.frames");
    private final Outlet<ByteString> out = Outlet.create("WebSocket.bytes");
    private final FlowShape<FrameEvent, ByteString> shape = FlowShape.of(in, out);

    private final ActorRef<Session.Command> session;
    private final WebSocketOutbound outbound;
    private final int maxMessageBytes;
    private final Duration closeGrace;
    private final Runnable started;
    private final Runnable ended;

    /**
     * @param maxMessageBytes a text message longer than this is drained and reported as
     *                        {@link Inbound.TooLarge}, never held
     * @param started         runs when the socket's stream starts
     * @param ended           runs once when it is gone
     */
    PekkoWebSocketConnection(ActorRef<Session.Command> session, WebSocketOutbound outbound, int maxMessageBytes,
                             Duration closeGrace, Runnable started, Runnable ended) {
        this.session = session;
        this.outbound = outbound;
        this.maxMessageBytes = maxMessageBytes;
        this.closeGrace = closeGrace;
        this.started = started;
        this.ended = ended;
    }

    @Override
    public FlowShape<FrameEvent, ByteString> shape() {
        return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attributes) {
        return new Logic();
    }

    private final class Logic extends TimerGraphStageLogic {

        private ActorRef<Session.StreamAck> acks;
        /** A message went to the session and was not taken yet: read nothing more meanwhile. */
        private boolean awaitingAck = true;
        /** The session was told the client is gone (or failed): tell it nothing more. */
        private boolean sessionToldGone;

        // The frame being read.
        private int frameOpcode;
        private boolean frameFinal;
        private int mask;
        private ByteStringBuilder controlPayload;
        // The message being read: 0 when between messages.
        private int messageOpcode;
        private long messageBytes;
        /** Null for a binary message or once a text passes the limit: then it is only counted. */
        private ByteStringBuilder messageText;

        /** The pong for the latest ping, not written yet (a pong for the latest ping is enough). */
        private ByteString pendingPong;
        /** Once a close is started, nothing but this frame goes out. */
        private ByteString closeFrame;
        private boolean closeSent;
        /** The peer closed first: end as soon as our answer is written. */
        private boolean endAfterClose;

        Logic() {
            super(shape);
            setHandler(in, new AbstractInHandler() {
                @Override
                public void onPush() {
                    onFrame(grab(in));
                }

                @Override
                public void onUpstreamFinish() {
                    tellSessionGone(null); // the client's TCP ended without a close handshake
                    completeStage();
                }

                @Override
                public void onUpstreamFailure(Throwable cause) {
                    tellSessionGone(cause);
                    failStage(cause);
                }
            });
            setHandler(out, new AbstractOutHandler() {
                @Override
                public void onPull() {
                    write();
                }

                @Override
                public void onDownstreamFinish(Throwable cause) {
                    tellSessionGone(null);
                    completeStage();
                }
            });
        }

        @Override
        public void preStart() {
            StageActor stageActor = getStageActor(this::onStageMessage);
            stageActor.watch(Adapter.toClassic(session));
            acks = Adapter.toTyped(stageActor.ref());
            // Frames to write and a close asked for both come to write(), which starts a close first.
            AsyncCallback<BoxedUnit> wake = createAsyncCallback(unit -> write());
            outbound.attach(() -> wake.invoke(BoxedUnit.UNIT));
            started.run();
            session.tell(new Session.StreamStarted(acks)); // its ack lets the first message in
            write(); // a close asked before we started?
        }

        @Override
        public void postStop() {
            tellSessionGone(null);
            outbound.ended();
            ended.run();
        }

        private BoxedUnit onStageMessage(Tuple2<org.apache.pekko.actor.ActorRef, Object> message) {
            if (message._2() instanceof Session.StreamAck) {
                awaitingAck = false;
                readMore();
            } else if (message._2() instanceof Terminated) {
                // The session stopped: it closed the socket first, unless it failed.
                sessionToldGone = true;
                if (closeFrame == null && outbound.closeRequest() == null && !outbound.completeRequested()) {
                    startClose(CLOSE_INTERNAL_ERROR, "internal error");
                } else {
                    write();
                }
            }
            return BoxedUnit.UNIT;
        }

        // ------------------------------------------------------------ from the client

        private void readMore() {
            if ((closeFrame != null || !awaitingAck) && !hasBeenPulled(in) && !isClosed(in)) {
                pull(in);
            }
        }

        private void onFrame(FrameEvent event) {
            if (closeFrame != null) {
                // Closing: only the peer's close frame matters now.
                if (event instanceof FrameStart start && start.header().opcode().code() == OP_CLOSE) {
                    if (closeSent) {
                        completeStage();
                    } else {
                        endAfterClose = true;
                    }
                } else {
                    readMore();
                }
                return;
            }
            if (event instanceof FrameStart start) {
                if (!startFrame(start.header())) {
                    return;
                }
                payload(start.data(), start.lastPart());
            } else {
                FrameData data = (FrameData) event;
                payload(data.data(), data.lastPart());
            }
        }

        /** Checks a frame's header against RFC 6455 and the message in progress; false if it closed. */
        private boolean startFrame(FrameHeader header) {
            Option<Object> frameMask = header.mask();
            if (frameMask.isEmpty()) {
                return protocolError("a client's frames must be masked");
            }
            if (header.rsv1() || header.rsv2() || header.rsv3()) {
                return protocolError("no extension was negotiated");
            }
            int opcode = header.opcode().code();
            if (opcode >= OP_CLOSE) {
                if (opcode > OP_PONG) {
                    return protocolError("unknown opcode " + opcode);
                }
                if (!header.fin() || header.length() > 125) {
                    return protocolError("a control frame must be final and at most 125 bytes");
                }
                controlPayload = new ByteStringBuilder();
            } else if (opcode == OP_CONTINUATION) {
                if (messageOpcode == 0) {
                    return protocolError("a continuation frame without a message");
                }
            } else if (opcode == OP_TEXT || opcode == OP_BINARY) {
                if (messageOpcode != 0) {
                    return protocolError("a new message before the last one ended");
                }
                messageOpcode = opcode;
                messageBytes = 0;
                messageText = opcode == OP_TEXT ? new ByteStringBuilder() : null;
            } else {
                return protocolError("unknown opcode " + opcode);
            }
            frameOpcode = opcode;
            frameFinal = header.fin();
            mask = (Integer) frameMask.get();
            return true;
        }

        private void payload(ByteString masked, boolean frameEnds) {
            ByteString data = unmask(masked);
            if (frameOpcode >= OP_CLOSE) {
                controlPayload.append(data);
                if (frameEnds) {
                    onControlFrame(frameOpcode, controlPayload.result());
                    controlPayload = null;
                } else {
                    readMore();
                }
                return;
            }
            messageBytes += data.length();
            if (messageText != null) {
                if (messageBytes > maxMessageBytes) {
                    messageText = null; // from here on only counted
                } else {
                    messageText.append(data);
                }
            }
            if (frameEnds && frameFinal) {
                onMessage();
            } else {
                readMore();
            }
        }

        private ByteString unmask(ByteString data) {
            if (data.isEmpty()) {
                return data;
            }
            Tuple2<ByteString, Object> unmasked = FrameEventParser$.MODULE$.mask(data, mask);
            mask = (Integer) unmasked._2();
            return unmasked._1();
        }

        private void onMessage() {
            Inbound inbound;
            if (messageOpcode == OP_BINARY) {
                inbound = new Inbound.Binary();
            } else if (messageText == null) {
                inbound = new Inbound.TooLarge(messageBytes);
            } else {
                ByteBuffer bytes = messageText.result().asByteBuffer();
                try {
                    inbound = new Inbound.Text(StandardCharsets.UTF_8.newDecoder().decode(bytes).toString());
                } catch (CharacterCodingException e) {
                    startClose(CLOSE_INCONSISTENT_DATA, "text is not valid UTF-8");
                    tellSessionGone(new IllegalArgumentException("text frame that is not UTF-8"));
                    return;
                }
            }
            messageOpcode = 0;
            messageText = null;
            awaitingAck = true;
            session.tell(new Session.FromClient(acks, inbound));
        }

        private void onControlFrame(int opcode, ByteString payload) {
            if (opcode == OP_PING) {
                pendingPong = controlFrame(OP_PONG, payload);
                write();
                readMore();
            } else if (opcode == OP_PONG) {
                readMore();
            } else {
                // The peer closes: answer with its code (1002 for a malformed close), then end.
                tellSessionGone(null);
                Option<Tuple2<Object, String>> parsed = FrameEventParser$.MODULE$.parseCloseCode(payload);
                closeFrame = parsed.isEmpty() ? closeFrame(1000, "")
                    : closeFrame((Integer) parsed.get()._1(), parsed.get()._2());
                endAfterClose = true;
                write();
            }
        }

        private boolean protocolError(String reason) {
            startClose(CLOSE_PROTOCOL_ERROR, reason);
            tellSessionGone(new IllegalArgumentException("WebSocket protocol error: " + reason));
            return false;
        }

        private void tellSessionGone(Throwable cause) {
            if (!sessionToldGone) {
                sessionToldGone = true;
                session.tell(cause == null ? new Session.ClientGone() : new Session.ClientFailed(cause));
            }
        }

        // ------------------------------------------------------------ to the client

        /** Our close: the frame goes out next (queued frames are dropped), then we wait for the peer's. */
        private void startClose(int code, String reason) {
            if (closeFrame != null) {
                return;
            }
            closeFrame = closeFrame(code, reason);
            scheduleOnce("close-grace", closeGrace);
            write();
            readMore(); // keep reading: the peer's close frame ends it
        }

        private void write() {
            WebSocketOutbound.CloseRequest request = outbound.closeRequest();
            if (closeFrame == null && request != null) {
                // Asked to close, and the signal may still be on its way (demand can come first): a
                // session that closes also completes, and that must not become a normal close.
                startClose(request.code(), request.reason()); // writes the close frame itself
                return;
            }
            if (!isAvailable(out) || closeSent) {
                return;
            }
            if (closeFrame != null) {
                closeSent = true;
                push(out, closeFrame);
                if (endAfterClose) {
                    completeStage();
                }
                return;
            }
            if (pendingPong != null) {
                ByteString pong = pendingPong;
                pendingPong = null;
                push(out, pong);
                return;
            }
            ByteString frames = outbound.drain(WRITE_BYTES);
            if (frames == null && !outbound.sleep()) {
                frames = outbound.drain(WRITE_BYTES);
            }
            if (frames != null) {
                push(out, frames);
            } else if (outbound.completeRequested()) {
                startClose(1000, "");
            }
        }

        @Override
        public void onTimer(Object key) {
            completeStage(); // the peer never answered our close
        }
    }

    /** An unmasked control frame (payload at most 125 bytes). */
    private static ByteString controlFrame(int opcode, ByteString payload) {
        return ByteString.fromArrayUnsafe(new byte[] {(byte) (0x80 | opcode), (byte) payload.length()}).concat(payload);
    }

    private static ByteString closeFrame(int code, String reason) {
        ByteString body = ByteString.fromArrayUnsafe(new byte[] {(byte) (code >>> 8), (byte) code})
            .concat(truncatedUtf8(reason, 123));
        return controlFrame(OP_CLOSE, body);
    }

    /** At most {@code max} bytes of the text's UTF-8, never cutting a character. */
    private static ByteString truncatedUtf8(String text, int max) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= max) {
            return ByteString.fromArrayUnsafe(utf8);
        }
        int end = max;
        while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
            end--; // utf8[end] continues a character: cut before that character starts
        }
        return ByteString.fromArray(utf8, 0, end);
    }
}
