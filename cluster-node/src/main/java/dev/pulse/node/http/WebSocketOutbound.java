package dev.pulse.node.http;

import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.session.Outbound;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.http.scaladsl.model.ws.Message;
import org.apache.pekko.http.scaladsl.model.ws.TextMessage;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * A session's way out through one WebSocket: a bounded queue of text messages, and a close with a
 * code and reason (carried out by {@link PekkoWebSocket}'s close stage). A full queue means the
 * client is not reading fast enough (a slow consumer).
 *
 * <p>The session exists (and says welcome) before the socket's stream is materialized, so frames
 * offered until then wait here, within the same bound, and are handed over in order by
 * {@link #attach}. Materializing the queue with the socket's own stream, instead of ahead of it,
 * saves every connection a stream actor and a publisher/subscriber pair.
 */
final class WebSocketOutbound implements Outbound {

    /** A request to close the socket with a WebSocket close code. */
    public record CloseRequest(int code, String reason) {}

    private final int capacity;
    private final long byteCapacity;
    /** UTF-8 bytes offered and not yet handed to the socket ({@link #written}); offers and writes race. */
    private final AtomicLong queuedBytes = new AtomicLong();
    private final CompletableFuture<CloseRequest> closeRequest = new CompletableFuture<>();
    /** Null until the stream is materialized; then every offer goes straight to it. */
    private volatile BoundedSourceQueue<Message> queue;
    /** Guarded by this; only used before {@link #attach}. */
    private List<Message> early = new ArrayList<>(4);
    private boolean completeRequested;

    WebSocketOutbound(int capacity, long byteCapacity) {
        this.capacity = capacity;
        this.byteCapacity = byteCapacity;
    }

    /** A text frame of {@code bytes} left for the socket (counted where the frames go to the wire). */
    void written(long bytes) {
        queuedBytes.addAndGet(-bytes);
    }

    /** Called once, when the socket's stream materializes its outbound queue. */
    void attach(BoundedSourceQueue<Message> materialized) {
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

    @Override
    public Offered offer(EncodedFrame encoded) {
        long before = queuedBytes.get();
        if (before > 0 && before + encoded.bytes() > byteCapacity) {
            return Offered.FULL; // one frame alone always goes: a queue that is empty holds nothing else
        }
        // The frame's text is shared by every recipient; only this small wrapper is per socket.
        Message frame = TextMessage.apply(encoded.text());
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
                    queuedBytes.addAndGet(encoded.bytes());
                    return Offered.ENQUEUED;
                }
            }
        }
        // Counted before the offer: the stream may write the frame (and subtract) before offer returns.
        queuedBytes.addAndGet(encoded.bytes());
        QueueOfferResult result = q.offer(frame);
        if (result == QueueOfferResult.enqueued()) {
            return Offered.ENQUEUED;
        }
        queuedBytes.addAndGet(-encoded.bytes());
        return result == QueueOfferResult.dropped() ? Offered.FULL : Offered.CLOSED;
    }

    @Override
    public int queued() {
        BoundedSourceQueue<Message> q = queue;
        if (q != null) {
            return q.size();
        }
        synchronized (this) {
            return queue != null ? queue.size() : early.size();
        }
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public long queuedBytes() {
        return Math.max(0, queuedBytes.get());
    }

    @Override
    public long byteCapacity() {
        return byteCapacity;
    }

    @Override
    public void close(int code, String reason) {
        closeRequest.complete(new CloseRequest(code, reason));
    }

    @Override
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

    CompletionStage<CloseRequest> closeRequested() {
        return closeRequest;
    }
}
