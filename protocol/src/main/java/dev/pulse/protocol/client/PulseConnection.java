package dev.pulse.protocol.client;

import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.FrameCodec;
import dev.pulse.protocol.ServerFrame;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * One open WebSocket to a node. Received frames are kept in an inbox in arrival order;
 * {@link #await} takes the first frame that matches and leaves the others for later.
 */
public final class PulseConnection implements AutoCloseable {

    /** How the server closed the socket. */
    public record Closed(int code, String reason) {}

    private final List<ServerFrame> inbox = new ArrayList<>();
    private final List<String> rawInbox = new ArrayList<>();
    private final CompletableFuture<Closed> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private volatile WebSocket socket;
    private volatile boolean paused;
    private boolean demandPending;

    PulseConnection() {}

    void attach(WebSocket socket) {
        this.socket = socket;
    }

    WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            @Override
            public void onOpen(WebSocket webSocket) {
                webSocket.request(1);
            }

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    String text = partial.toString();
                    partial.setLength(0);
                    ServerFrame frame = FrameCodec.decodeServer(text);
                    synchronized (inbox) {
                        inbox.add(frame);
                        rawInbox.add(text);
                        inbox.notifyAll();
                    }
                }
                requestMore(webSocket);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
                requestMore(webSocket);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                closed.complete(new Closed(statusCode, reason));
                synchronized (inbox) {
                    inbox.notifyAll();
                }
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                closed.complete(new Closed(1006, String.valueOf(error)));
                synchronized (inbox) {
                    inbox.notifyAll();
                }
            }
        };
    }

    private void requestMore(WebSocket webSocket) {
        synchronized (this) {
            if (paused) {
                demandPending = true;
                return;
            }
        }
        webSocket.request(1);
    }

    /** Stops reading from the socket, so the server's frames pile up (a slow consumer). */
    public synchronized void pauseReading() {
        paused = true;
    }

    public void resumeReading() {
        boolean request;
        synchronized (this) {
            paused = false;
            request = demandPending;
            demandPending = false;
        }
        if (request) {
            socket.request(1);
        }
    }

    public void send(ClientFrame frame) {
        sendRaw(FrameCodec.encode(frame));
    }

    public void sendRaw(String text) {
        socket.sendText(text, true).join();
    }

    /** Sends one text message in several WebSocket fragments. */
    public void sendFragmented(String text, int fragments) {
        int step = Math.max(1, text.length() / fragments);
        for (int start = 0; start < text.length(); start += step) {
            int end = Math.min(text.length(), start + step);
            socket.sendText(text.substring(start, end), end == text.length()).join();
        }
    }

    public void sendBinary(byte[] data) {
        socket.sendBinary(ByteBuffer.wrap(data), true).join();
    }

    /** Takes the first received frame of {@code type} that matches, waiting up to {@code timeout}. */
    public <T extends ServerFrame> T await(Class<T> type, Predicate<? super T> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (inbox) {
            while (true) {
                for (int i = 0; i < inbox.size(); i++) {
                    ServerFrame frame = inbox.get(i);
                    if (type.isInstance(frame) && match.test(type.cast(frame))) {
                        inbox.remove(i);
                        rawInbox.remove(i);
                        return type.cast(frame);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed.isDone()) {
                    throw new AssertionError("no " + type.getSimpleName() + " matching within " + timeout
                        + "; inbox: " + inbox + (closed.isDone() ? "; closed: " + closed.join() : ""));
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(inbox, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    public <T extends ServerFrame> T await(Class<T> type, Duration timeout) {
        return await(type, f -> true, timeout);
    }

    /** Takes the next frame whatever it is. */
    public ServerFrame next(Duration timeout) {
        return await(ServerFrame.class, timeout);
    }

    /**
     * Takes the next frame, or null when none arrives within {@code timeout} or the socket is closed
     * (frames received before the close are handed out first): a stream reader's view.
     */
    public ServerFrame poll(Duration timeout) {
        synchronized (inbox) {
            if (!awaitFrame(timeout)) {
                return null;
            }
            rawInbox.remove(0);
            return inbox.remove(0);
        }
    }

    /**
     * Takes the raw JSON text of the next frame, or null when none arrives within {@code timeout} or the
     * socket is closed (frames received before the close are handed out first): {@link #poll} for
     * readers that keep the frame's exact text. {@code Duration.ZERO} takes what has already arrived.
     */
    public String pollRaw(Duration timeout) {
        synchronized (inbox) {
            if (!awaitFrame(timeout)) {
                return null;
            }
            inbox.remove(0);
            return rawInbox.remove(0);
        }
    }

    /** Waits (holding the inbox's lock) until a frame is there; false on timeout or once closed and read out. */
    private boolean awaitFrame(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inbox.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || closed.isDone()) {
                return false;
            }
            try {
                TimeUnit.NANOSECONDS.timedWait(inbox, left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
        return true;
    }

    /** True once the socket is closed and every frame received before has been taken. */
    public boolean ended() {
        synchronized (inbox) {
            return closed.isDone() && inbox.isEmpty();
        }
    }

    /** Sends a frame; false (instead of an exception) when the socket is gone. */
    public boolean trySend(ClientFrame frame) {
        try {
            socket.sendText(FrameCodec.encode(frame), true).get(5, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Takes the raw JSON text of the next frame. */
    public String nextRaw(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (inbox) {
            while (rawInbox.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no frame within " + timeout);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(inbox, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
            inbox.remove(0);
            return rawInbox.remove(0);
        }
    }

    /** A copy of the frames received and not yet taken. */
    public List<ServerFrame> pending() {
        synchronized (inbox) {
            return List.copyOf(inbox);
        }
    }

    /** Completes when the server closes the socket (or it fails: code 1006). */
    public CompletableFuture<Closed> closed() {
        return closed;
    }

    public Closed awaitClosed(Duration timeout) {
        try {
            return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("socket still open after " + timeout);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    public boolean isOpen() {
        return !closed.isDone() && socket != null && !socket.isInputClosed();
    }

    /** Drops the TCP connection without a close handshake, like a lost network. */
    public void abort() {
        socket.abort();
        closed.complete(new Closed(1006, "aborted by client"));
    }

    @Override
    public void close() {
        if (socket != null && !socket.isOutputClosed()) {
            try {
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(1, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the socket is being torn down anyway
            }
        }
        if (socket != null) {
            socket.abort();
        }
    }
}
