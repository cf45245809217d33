package dev.pulse.perf;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A lean client WebSocket on {@code java.net.http}: frames go out in order through an outbox (the
 * JDK allows one {@code sendText} at a time), whole text messages come in to {@link #onFrame}.
 * It parses nothing itself; {@link #field} and {@link #number} pick single values out of a frame
 * (Pulse's server frames put {@code type} first and have no escapes in the values benchmarks read),
 * which keeps tens of thousands of frames a second cheap. The JDK calls a listener sequentially
 * for one socket.
 */
abstract class LeanSocket implements WebSocket.Listener {

    private final ConcurrentLinkedQueue<String> outbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writing = new AtomicBoolean();
    private StringBuilder partial;
    private volatile WebSocket socket;

    /** {@code ws://…/ws?token=…} for the node at {@code base} ({@code http://host:port}). */
    static URI wsUri(URI base, String token) {
        return URI.create(base.toString().replaceFirst("^http", "ws") + "/ws?token=" + URLEncoder.encode(token, StandardCharsets.UTF_8));
    }

    /** Opens the socket; frames may arrive (to {@link #onFrame}) before the returned stage completes. */
    CompletableFuture<WebSocket> open(HttpClient http, URI ws, Duration connectTimeout) {
        return http.newWebSocketBuilder().connectTimeout(connectTimeout).buildAsync(ws, this);
    }

    WebSocket socket() {
        return socket;
    }

    /** Queues a text frame and writes what the socket takes. */
    void sendFrame(String frame) {
        outbox.add(frame);
        pump();
    }

    private void pump() {
        WebSocket ws = socket;
        while (ws != null && !outbox.isEmpty() && writing.compareAndSet(false, true)) {
            String next = outbox.poll();
            if (next == null) {
                writing.set(false);
                continue;
            }
            CompletableFuture<WebSocket> sent = ws.sendText(next, true);
            if (sent.isDone() && !sent.isCompletedExceptionally()) {
                writing.set(false); // written at once: go round the loop rather than recurse
            } else {
                sent.whenComplete((w, e) -> {
                    if (e != null) {
                        onSendFailed(e);
                    }
                    writing.set(false);
                    pump();
                });
                return;
            }
        }
    }

    /** A write failed (the socket is broken); {@link #onClose} or {@link #onError} usually follows. */
    void onSendFailed(Throwable error) {}

    /** One whole text message. */
    abstract void onFrame(CharSequence frame);

    @Override
    public void onOpen(WebSocket webSocket) {
        socket = webSocket;
        webSocket.request(Long.MAX_VALUE);
        pump(); // frames queued before the handshake finished
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        if (!last) {
            if (partial == null) {
                partial = new StringBuilder();
            }
            partial.append(data);
            return null;
        }
        CharSequence frame = data;
        if (partial != null && partial.length() > 0) {
            frame = partial.append(data).toString();
            partial = null;
        }
        onFrame(frame);
        return null;
    }

    /** Sends a close frame (the node answers it and closes the connection). */
    void close(int code, String reason) {
        WebSocket ws = socket;
        if (ws != null) {
            ws.sendClose(code, reason);
        }
    }

    /** Drops the connection at once, without a close handshake. */
    void abort() {
        WebSocket ws = socket;
        if (ws != null) {
            ws.abort();
        }
    }

    /** The string value following {@code key} (e.g. {@code "type":"}), or null; values here have no escapes. */
    static String field(CharSequence s, String key) {
        int start = indexOf(s, key);
        if (start < 0) {
            return null;
        }
        start += key.length();
        int end = start;
        while (end < s.length() && s.charAt(end) != '"') {
            end++;
        }
        return s.subSequence(start, end).toString();
    }

    /** The non-negative integer following {@code key} (e.g. {@code "seq":} or {@code "text":"}), or -1. */
    static long number(CharSequence s, String key) {
        int at = indexOf(s, key);
        if (at < 0) {
            return -1;
        }
        at += key.length();
        long value = 0;
        int digits = 0;
        while (at < s.length() && s.charAt(at) >= '0' && s.charAt(at) <= '9' && digits < 18) {
            value = value * 10 + (s.charAt(at++) - '0');
            digits++;
        }
        return digits == 0 ? -1 : value;
    }

    static int indexOf(CharSequence s, String key) {
        int n = s.length() - key.length();
        outer:
        for (int i = 0; i <= n; i++) {
            for (int k = 0; k < key.length(); k++) {
                if (s.charAt(i + k) != key.charAt(k)) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
