package dev.pulse.node.session;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.scaladsl.model.ws.Message;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * The way out of one WebSocket: a bounded queue of frames, and a close with a code and reason.
 * A full queue means the client is not reading fast enough (a slow consumer).
 *
 * <p>The session exists (and says welcome) before the socket's stream is materialized, so frames
 * offered until then wait here, within the same bound, and are handed over in order by
 * {@link #attach}. Materializing the queue with the socket's own stream, instead of ahead of it,
 * saves every connection a stream actor and a publisher/subscriber pair.
 */
public final class Outbound {

    /** A request to close the socket with a WebSocket close code. */
    public record CloseRequest(int code, String reason) {}

    public enum Offered { ENQUEUED, FULL, CLOSED }

    private final int capacity;
    private final CompletableFuture<CloseRequest> closeRequest = new CompletableFuture<>();
    /** Null until the stream is materialized; then every offer goes straight to it. */
    private volatile BoundedSourceQueue<Message> queue;
    /** Guarded by this; only used before {@link #attach}. */
    private List<Message> early = new ArrayList<>(4);
    private boolean completeRequested;

    public Outbound(int capacity) {
        this.capacity = capacity;
    }

    /** Called once, when the socket's stream materializes its outbound queue. */
    public void attach(BoundedSourceQueue<Message> materialized) {
        synchronized (this) {
            for (Message frame : early) {
                materialized.offer(frame);
            }
            early = null;
            queue = materialized;
            if (completeRequested) {
                completeQuietly(materialized);
            }
        }
    }

    public Offered offer(Message frame) {
        BoundedSourceQueue<Message> q = queue;
        if (q == null) {
            synchronized (this) {
                q = queue;
                if (q == null) {
                    if (completeRequested) {
                        return Offered.CLOSED;
                    }
                    if (early.size() >= capacity) {
                        return Offered.FULL;
                    }
                    early.add(frame);
                    return Offered.ENQUEUED;
                }
            }
        }
        QueueOfferResult result = q.offer(frame);
        if (result == QueueOfferResult.enqueued()) {
            return Offered.ENQUEUED;
        }
        return result == QueueOfferResult.dropped() ? Offered.FULL : Offered.CLOSED;
    }

    /** Frames queued and not yet written to the socket. */
    public int queued() {
        BoundedSourceQueue<Message> q = queue;
        if (q != null) {
            return q.size();
        }
        synchronized (this) {
            return queue != null ? queue.size() : early.size();
        }
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
        if (closeRequest.isDone()) {
            return;
        }
        BoundedSourceQueue<Message> q;
        synchronized (this) {
            q = queue;
            if (q == null) {
                completeRequested = true; // completed on attach
                return;
            }
        }
        completeQuietly(q);
    }

    private static void completeQuietly(BoundedSourceQueue<Message> q) {
        try {
            q.complete();
        } catch (IllegalStateException alreadyDone) {
            // the socket side finished first; nothing left to end
        }
    }

    public CompletionStage<CloseRequest> closeRequested() {
        return closeRequest;
    }
}
