package dev.pulse.node.session;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.scaladsl.model.ws.Message;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * The way out of one WebSocket: a bounded queue of frames, and a close with a code and reason.
 * A full queue means the client is not reading fast enough (a slow consumer).
 */
public final class Outbound {

    /** A request to close the socket with a WebSocket close code. */
    public record CloseRequest(int code, String reason) {}

    public enum Offered { ENQUEUED, FULL, CLOSED }

    private final BoundedSourceQueue<Message> queue;
    private final int capacity;
    private final CompletableFuture<CloseRequest> closeRequest = new CompletableFuture<>();

    public Outbound(BoundedSourceQueue<Message> queue, int capacity) {
        this.queue = queue;
        this.capacity = capacity;
    }

    public Offered offer(Message frame) {
        QueueOfferResult result = queue.offer(frame);
        if (result == QueueOfferResult.enqueued()) {
            return Offered.ENQUEUED;
        }
        return result == QueueOfferResult.dropped() ? Offered.FULL : Offered.CLOSED;
    }

    /** Frames queued and not yet written to the socket. */
    public int queued() {
        return queue.size();
    }

    public int capacity() {
        return capacity;
    }

    /** Closes the socket with {@code code}; frames still queued are dropped. */
    public void close(int code, String reason) {
        closeRequest.complete(new CloseRequest(code, reason));
    }

    /** Ends the outbound stream normally (close code 1000) once queued frames are written. */
    public void complete() {
        if (!closeRequest.isDone()) {
            try {
                queue.complete();
            } catch (IllegalStateException alreadyDone) {
                // the socket side finished first; nothing left to end
            }
        }
    }

    public CompletionStage<CloseRequest> closeRequested() {
        return closeRequest;
    }
}
