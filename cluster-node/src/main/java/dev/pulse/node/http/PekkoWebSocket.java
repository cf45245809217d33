package dev.pulse.node.http;

import dev.pulse.node.session.Session;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.http.impl.engine.server.UpgradeToOtherProtocolResponseHeader;
import org.apache.pekko.http.impl.engine.ws.FrameEvent;
import org.apache.pekko.http.impl.engine.ws.FrameEventParser$;
import org.apache.pekko.http.impl.engine.ws.Handshake$;
import org.apache.pekko.http.impl.engine.ws.UpgradeToWebSocketLowLevel;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgrade;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;

/**
 * The one place that uses Pekko HTTP's internal WebSocket API ({@code org.apache.pekko.http.impl}),
 * with {@link PekkoWebSocketConnection}: Pekko HTTP checks the upgrade request and parses the
 * client's frames; the answer to the upgrade hands the socket's bytes to one stage of ours instead
 * of Pekko HTTP's message stack (why: {@link PekkoWebSocketConnection}).
 *
 * <p>Upgrading Pekko HTTP means checking this class and the stage against its {@code Handshake}
 * (the 101 answer), {@code UpgradeToOtherProtocolResponseHeader}, {@code FrameEventParser} and the
 * {@code FrameEvent} model.
 */
final class PekkoWebSocket {

    /** RFC 6455, 4.2.2: the accept key is SHA-1 of the client's key and this GUID, in Base64. */
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private final Duration closeGrace;
    private final int maxMessageBytes;

    PekkoWebSocket(Duration closeGrace, int maxMessageBytes) {
        this.closeGrace = closeGrace;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Whether {@link #accept} can take this upgrade (it always can from Pekko HTTP's own server). */
    static boolean supports(WebSocketUpgrade upgrade) {
        return upgrade instanceof UpgradeToWebSocketLowLevel;
    }

    /**
     * The 101 answer to an upgrade request with this {@code Sec-WebSocket-Key} (Pekko HTTP has checked
     * it, or there would be no {@link WebSocketUpgrade}): the socket then carries the session's frames;
     * {@code started} runs when it carries them, {@code ended} once it is gone.
     */
    HttpResponse accept(String key, ActorRef<Session.Command> session, WebSocketOutbound outbound, Runnable started,
                        Runnable ended) {
        Flow<ByteString, ByteString, ?> socket = Flow.<ByteString>create()
            .via(frameParser())
            .via(new PekkoWebSocketConnection(session, outbound, maxMessageBytes, closeGrace, started, ended));
        return HttpResponse.create()
            .withStatus(StatusCodes.SWITCHING_PROTOCOLS)
            .addHeader(Handshake$.MODULE$.UpgradeHeader())
            .addHeader(Handshake$.MODULE$.ConnectionUpgradeHeader())
            .addHeader(RawHeader.create("Sec-WebSocket-Accept", acceptKey(key)))
            .addHeader(new UpgradeToOtherProtocolResponseHeader(asAnyFlow(socket.asScala())));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static org.apache.pekko.stream.scaladsl.Flow<ByteString, ByteString, Object> asAnyFlow(
            org.apache.pekko.stream.scaladsl.Flow flow) {
        return flow;
    }

    @SuppressWarnings("unchecked")
    private static Graph<FlowShape<ByteString, FrameEvent>, ?> frameParser() {
        return (Graph<FlowShape<ByteString, FrameEvent>, ?>) (Object) FrameEventParser$.MODULE$;
    }

    static String acceptKey(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1").digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-1", e);
        }
    }
}
