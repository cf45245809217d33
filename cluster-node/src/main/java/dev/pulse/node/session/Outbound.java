package dev.pulse.node.session;

import dev.pulse.node.delivery.EncodedFrame;

/**
 * The way out of one connection, as a session sees it: a bounded queue of encoded frames, and a
 * close with a code and reason. A full queue means the client does not read fast enough (a slow
 * consumer). The transport (the WebSocket bridge in {@code http}) implements it.
 */
public interface Outbound {

    enum Offered { ENQUEUED, FULL, CLOSED }

    Offered offer(EncodedFrame frame);

    /** Frames queued and not yet written to the socket. */
    int queued();

    int capacity();

    /** UTF-8 bytes of the frames queued and not yet handed to the socket. */
    long queuedBytes();

    /**
     * The most bytes the queue holds: a frame that would pass it is refused ({@code FULL}) unless the
     * queue is empty, so a client cannot make the node hold more than this for it by not reading.
     */
    long byteCapacity();

    /** Closes the connection with a WebSocket close {@code code}; frames still queued are dropped. */
    void close(int code, String reason);

    /** Ends the connection normally (close code 1000) once queued frames are written. */
    void complete();
}
