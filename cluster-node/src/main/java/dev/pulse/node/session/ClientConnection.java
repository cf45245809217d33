package dev.pulse.node.session;

import dev.pulse.node.delivery.EncodedFrame;
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
    private boolean closing;

    ClientConnection(Outbound outbound) {
        this.outbound = outbound;
    }

    void send(ServerFrame frame) {
        offer(WireFrames.encode(frame));
    }

    void offer(EncodedFrame frame) {
        if (!closing && outbound.offer(frame) == Outbound.Offered.FULL) {
            closeSlowConsumer();
        }
    }

    /** Whether a resume may queue more now: it pauses at three quarters, so it never counts as slow. */
    boolean hasRoomToSend() {
        return !closing && outbound.queued() < Math.max(1, outbound.capacity() * 3 / 4);
    }

    void closeSlowConsumer() {
        close(CLOSE_POLICY_VIOLATION, "slow consumer");
    }

    void close(int code, String reason) {
        if (!closing) {
            closing = true;
            outbound.close(code, reason);
        }
    }

    boolean closing() {
        return closing;
    }

    /** Ends the connection normally once queued frames are written (the session stopped). */
    void complete() {
        outbound.complete();
    }
}
