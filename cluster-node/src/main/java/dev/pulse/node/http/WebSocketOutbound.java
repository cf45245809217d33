package dev.pulse.node.http;

import dev.pulse.node.delivery.EncodedFrame;
import dev.pulse.node.session.Outbound;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.util.ByteString;

/**
 * A session's way out through one WebSocket: a bounded queue of encoded frames that the socket's
 * stage ({@link PekkoWebSocketConnection}) drains into its writes, and a close with a code and reason.
 * A full queue means the client is not reading fast enough (a slow consumer).
 *
 * <p>The session offers, the socket's stage drains; neither waits for the other. An offer wakes the
 * stage only when it has gone to sleep on an empty queue, so a burst of frames for one socket costs
 * one wake-up and leaves as one write. The session exists (and says welcome) before the socket's
 * stream runs: frames offered until then simply wait in the queue.
 */
final class WebSocketOutbound implements Outbound {

    /** A request to close the socket with a WebSocket close code. */
    record CloseRequest(int code, String reason) {}

    private final int capacity;
    private final long byteCapacity;
    private final ConcurrentLinkedQueue<EncodedFrame> frames = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /** Payload bytes offered and not yet handed to the socket. */
    private final AtomicLong queuedBytes = new AtomicLong();
    /** False only while the stage sleeps on an empty queue: the next offer must wake it. */
    private final AtomicBoolean awake = new AtomicBoolean(true);
    /** The stage's wake-up: frames for a sleeping stage, or a close or completion asked for. */
    private volatile Runnable wake;
    private volatile CloseRequest closeRequest;
    private volatile boolean completeRequested;
    private volatile boolean ended;

    WebSocketOutbound(int capacity, long byteCapacity) {
        this.capacity = capacity;
        this.byteCapacity = byteCapacity;
    }

    @Override
    public Offered offer(EncodedFrame frame) {
        if (ended || closeRequest != null || completeRequested) {
            return Offered.CLOSED;
        }
        long before = queuedBytes.get();
        if (before > 0 && before + frame.bytes() > byteCapacity) {
            return Offered.FULL; // one frame alone always goes: a queue that is empty holds nothing else
        }
        if (queued.get() >= capacity) {
            return Offered.FULL;
        }
        // Counted before it is visible: the stage may take it (and subtract) before add returns.
        queued.incrementAndGet();
        queuedBytes.addAndGet(frame.bytes());
        frames.add(frame);
        if (!awake.get() && awake.compareAndSet(false, true)) {
            wake.run();
        }
        return Offered.ENQUEUED;
    }

    @Override
    public int queued() {
        return Math.max(0, queued.get());
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
        if (closeRequest == null) {
            closeRequest = new CloseRequest(code, reason);
            wakeIfAttached();
        }
    }

    @Override
    public void complete() {
        if (!completeRequested) {
            completeRequested = true;
            wakeIfAttached();
        }
    }

    private void wakeIfAttached() {
        Runnable signal = wake;
        if (signal != null) {
            signal.run();
        }
    }

    // ------------------------------------------------------------------ the socket's side

    /**
     * Called by the stage when it starts: {@code wake} runs when frames arrive at a stage asleep on an
     * empty queue, and when a close or completion is asked for (the stage also checks after this).
     */
    void attach(Runnable wake) {
        this.wake = wake;
    }

    /** The frames queued now, as one write of at most about {@code maxBytes} (one frame always), or null. */
    ByteString drain(int maxBytes) {
        EncodedFrame first = frames.poll();
        if (first == null) {
            return null;
        }
        ByteString write = first.wire();
        long payload = first.bytes();
        int count = 1;
        EncodedFrame next;
        while (write.length() < maxBytes && (next = frames.poll()) != null) {
            write = write.concat(next.wire());
            payload += next.bytes();
            count++;
        }
        queued.addAndGet(-count);
        queuedBytes.addAndGet(-payload);
        return write;
    }

    /**
     * The stage found the queue empty and waits: true if it may sleep until woken, false if a frame
     * slipped in meanwhile and it should drain again.
     */
    boolean sleep() {
        awake.set(false);
        return frames.isEmpty() || !awake.compareAndSet(false, true);
    }

    /** The close asked for, or null. */
    CloseRequest closeRequest() {
        return closeRequest;
    }

    boolean completeRequested() {
        return completeRequested;
    }

    /** The socket is gone: offers answer {@code CLOSED} and what is queued is dropped. */
    void ended() {
        ended = true;
        frames.clear();
        queued.set(0);
        queuedBytes.set(0);
    }
}
