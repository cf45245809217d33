package dev.pulse.node.session;

import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.metrics.ClientMetrics;
import dev.pulse.protocol.ServerFrame;

/**
 * The client end of one session: encodes and queues frames, and closes. Once a close is under
 * way nothing more is queued. A full queue closes the connection as a slow consumer; the client
 * loses nothing, as it resumes with {@code since}.
 */
final class ClientConnection {

    static final int CLOSE_GOING_AWAY = 1001;
    static final int CLOSE_POLICY_VIOLATION = 1008;

    private final Outbound outbound;
    private final ClientMetrics metrics;
    private boolean closing;
    /** Why this side closed the connection: null until it does. */
    private String closeReason;
    private int closeCode;

    ClientConnection(Outbound outbound, ClientMetrics metrics) {
        this.outbound = outbound;
        this.metrics = metrics;
    }

    void send(ServerFrame frame) {
        offer(WireFrames.encode(frame));
    }

    /** Whether the frame was queued for the socket. */
    boolean offer(EncodedFrame frame) {
        if (closing) {
            return false;
        }
        Outbound.Offered offered = outbound.offer(frame);
        if (offered == Outbound.Offered.ENQUEUED) {
            metrics.frameOut(frame.type());
            return true;
        }
        if (offered == Outbound.Offered.FULL) {
            closeSlowConsumer();
        }
        return false;
    }

    /** Whether a resume may queue more now: it pauses at three quarters, so it never counts as slow. */
    boolean hasRoomToSend() {
        return !closing && outbound.queued() < Math.max(1, outbound.capacity() * 3 / 4)
            && outbound.queuedBytes() < outbound.byteCapacity() * 3 / 4;
    }

    void closeSlowConsumer() {
        if (!closing) {
            metrics.slowConsumerClosed();
            close(CLOSE_POLICY_VIOLATION, "slow consumer");
        }
    }

    void close(int code, String reason) {
        if (!closing) {
            closing = true;
            closeCode = code;
            closeReason = reason;
            outbound.close(code, reason);
        }
    }

    /** Why the node closed this connection; null when it did not (the client left, or it ended normally). */
    String closeReason() {
        return closeReason;
    }

    int closeCode() {
        return closeCode;
    }

    boolean closing() {
        return closing;
    }

    /** Ends the connection normally once queued frames are written (the session stopped). */
    void complete() {
        outbound.complete();
    }
}
