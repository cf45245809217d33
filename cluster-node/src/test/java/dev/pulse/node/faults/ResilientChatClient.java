package dev.pulse.node.faults;

import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A chat client that follows the protocol over a bad network: it keeps the highest {@code seq} it
 * has seen, rejoins with {@code since} after every disconnect, and resends every unacked message with
 * the same {@code id}. It declares a connection dead when it is closed, when an ack is missing for
 * {@link #DEAD_AFTER}, or when nothing (not even a pong) arrived for that long.
 * <p>It checks the stream as it goes: every {@code message} must carry exactly the next {@code seq}
 * (no duplicate, no gap, across reconnects), {@code synced} must not skip anything, and a retried
 * {@code id} must be acked with the same {@code seq}. Anything else is recorded in {@link #violations()}.
 * <p>One driver thread does everything, so the state needs no locks; the test reads it through
 * the synchronized accessors.
 */
final class ResilientChatClient implements AutoCloseable {

    static final Duration DEAD_AFTER = Duration.ofSeconds(3);
    private static final long PING_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final int WINDOW = 4;

    private final String user;
    private final String token;
    private final PulseClient viaProxy;
    private final String room;
    private final int toSend;
    private final int textLength;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread driver;

    // driver state
    private PulseConnection connection;
    private boolean synced;
    private long lastHeardNanos;
    private long lastPingNanos;
    private int refs;
    private int nextIndex;
    private final Map<String, Pending> unacked = new LinkedHashMap<>();
    private final Map<String, String> sendRefs = new HashMap<>();

    // observed (guarded by this)
    private long highestSeq;
    private final List<ServerFrame.Message> observed = new ArrayList<>();
    private final Map<String, Long> ackedSeq = new LinkedHashMap<>();
    private final Map<String, String> sentTexts = new LinkedHashMap<>();
    private final List<String> violations = new ArrayList<>();
    private int connects;
    private int deadDetected;
    private int resends;
    private int resendsAlreadyCommitted;
    private final Set<String> observedIds = new HashSet<>();
    private long minAckNanos = Long.MAX_VALUE;
    private final List<String> dropReasons = new ArrayList<>();

    private static final class Pending {
        final String text;
        long sentAtNanos = -1; // -1: not sent on the current connection
        long notBeforeNanos;
        int attempts;

        Pending(String text) {
            this.text = text;
        }
    }

    /**
     * @param token    a login token (logged in once, elsewhere)
     * @param viaProxy where to open WebSockets
     */
    ResilientChatClient(String user, String token, PulseClient viaProxy, String room, int toSend, int textLength) {
        this.user = user;
        this.token = token;
        this.viaProxy = viaProxy;
        this.room = room;
        this.toSend = toSend;
        this.textLength = textLength;
        this.driver = new Thread(this::run, "resilient-" + user);
        this.driver.setDaemon(true);
    }

    ResilientChatClient start() {
        driver.start();
        return this;
    }

    String user() {
        return user;
    }

    // ------------------------------------------------------------------ what the test reads

    synchronized boolean allAcked() {
        return ackedSeq.size() == toSend;
    }

    synchronized long highestSeq() {
        return highestSeq;
    }

    synchronized List<ServerFrame.Message> observed() {
        return List.copyOf(observed);
    }

    synchronized Map<String, Long> acked() {
        return Map.copyOf(ackedSeq);
    }

    synchronized Map<String, String> sentTexts() {
        return Map.copyOf(sentTexts);
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    synchronized int connects() {
        return connects;
    }

    synchronized int deadDetected() {
        return deadDetected;
    }

    synchronized int resends() {
        return resends;
    }

    /** Resends of an id the rejoin replay had already delivered: the original made it, its ack did not. */
    synchronized int resendsAlreadyCommitted() {
        return resendsAlreadyCommitted;
    }

    /** The shortest time from a send to its ack, in ms (Long.MAX_VALUE before the first ack). */
    synchronized long minAckMillis() {
        return minAckNanos == Long.MAX_VALUE ? Long.MAX_VALUE : minAckNanos / 1_000_000;
    }

    synchronized List<String> dropReasons() {
        return List.copyOf(dropReasons);
    }

    private synchronized void violation(String what) {
        violations.add(user + ": " + what);
    }

    // ------------------------------------------------------------------ driver

    private void run() {
        long backoffMs = 50;
        try {
            while (stop.getCount() > 0) {
                if (connection == null) {
                    if (!connect()) {
                        if (stop.await(backoffMs, TimeUnit.MILLISECONDS)) {
                            return;
                        }
                        backoffMs = Math.min(1000, backoffMs * 2);
                        continue;
                    }
                }
                String dead = step();
                if (dead != null) {
                    drop(dead);
                } else if (synced) {
                    backoffMs = 50;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | AssertionError e) {
            violation("driver failed: " + e);
        } finally {
            if (connection != null) {
                connection.abort();
            }
        }
    }

    private boolean connect() {
        try {
            connection = viaProxy.connect(token);
        } catch (RuntimeException e) {
            synchronized (this) {
                dropReasons.add("connect failed: " + e.getClass().getSimpleName());
            }
            return false;
        }
        synchronized (this) {
            connects++;
        }
        synced = false;
        lastHeardNanos = System.nanoTime();
        lastPingNanos = System.nanoTime();
        unacked.values().forEach(p -> p.sentAtNanos = -1);
        long since;
        synchronized (this) {
            since = highestSeq;
        }
        if (!trySend(new ClientFrame.Join(ref(), room, since))) {
            drop("join failed");
            return false;
        }
        return true;
    }

    /** One turn: read what arrived, keep alive, send. Returns why the connection is dead, or null. */
    private String step() {
        ServerFrame frame = poll(Duration.ofMillis(20));
        while (frame != null) {
            lastHeardNanos = System.nanoTime();
            String dead = handle(frame);
            if (dead != null) {
                return dead;
            }
            frame = poll(Duration.ZERO);
        }
        long now = System.nanoTime();
        if (connection.closed().isDone()) {
            return "closed " + connection.closed().join();
        }
        if (now - lastHeardNanos > DEAD_AFTER.toNanos()) {
            return "silent for " + DEAD_AFTER.toMillis() + " ms";
        }
        for (Pending pending : unacked.values()) {
            if (pending.sentAtNanos >= 0 && now - pending.sentAtNanos > DEAD_AFTER.toNanos()) {
                return "no ack for " + DEAD_AFTER.toMillis() + " ms";
            }
        }
        if (now - lastPingNanos > PING_EVERY_NANOS) {
            lastPingNanos = now;
            if (!trySend(new ClientFrame.Ping(ref()))) {
                return "ping failed";
            }
        }
        if (!synced) {
            return null;
        }
        while (unacked.size() < WINDOW && nextIndex < toSend) {
            String id = user + "-" + nextIndex;
            String text = text(nextIndex);
            nextIndex++;
            unacked.put(id, new Pending(text));
            synchronized (this) {
                sentTexts.put(id, text);
            }
        }
        for (Map.Entry<String, Pending> entry : unacked.entrySet()) {
            Pending pending = entry.getValue();
            if (pending.sentAtNanos < 0 && now >= pending.notBeforeNanos) {
                String ref = ref();
                sendRefs.put(ref, entry.getKey());
                pending.sentAtNanos = System.nanoTime();
                if (pending.attempts++ > 0) {
                    synchronized (this) {
                        resends++;
                        if (observedIds.contains(entry.getKey())) {
                            resendsAlreadyCommitted++;
                        }
                    }
                }
                if (!trySend(new ClientFrame.Send(ref, room, entry.getKey(), pending.text))) {
                    return "send failed";
                }
            }
        }
        return null;
    }

    private String handle(ServerFrame frame) {
        if (frame instanceof ServerFrame.Message message && room.equals(message.room())) {
            synchronized (this) {
                if (message.seq() != highestSeq + 1) {
                    violation((message.seq() <= highestSeq ? "duplicate" : "gap") + ": seq " + message.seq()
                        + " after " + highestSeq + " (id " + message.id() + ")");
                }
                Long acked = ackedSeq.get(message.id());
                if (acked != null && acked != message.seq()) {
                    violation("id " + message.id() + " acked as seq " + acked + " but delivered as " + message.seq());
                }
                highestSeq = Math.max(highestSeq, message.seq());
                observed.add(message);
                observedIds.add(message.id());
            }
        } else if (frame instanceof ServerFrame.Synced s && room.equals(s.room())) {
            synchronized (this) {
                if (highestSeq < s.lastSeq()) {
                    violation("synced at " + s.lastSeq() + " but only saw up to " + highestSeq);
                }
            }
            synced = true;
        } else if (frame instanceof ServerFrame.Ack ack) {
            sendRefs.remove(ack.ref());
            Pending pending = unacked.remove(ack.id());
            synchronized (this) {
                if (pending != null && pending.sentAtNanos >= 0) {
                    minAckNanos = Math.min(minAckNanos, System.nanoTime() - pending.sentAtNanos);
                }
                Long before = ackedSeq.putIfAbsent(ack.id(), ack.seq());
                if (before != null && before != ack.seq()) {
                    violation("id " + ack.id() + " acked twice with different seqs " + before + " and " + ack.seq());
                }
                for (ServerFrame.Message seen : observed) {
                    if (seen.id().equals(ack.id()) && seen.seq() != ack.seq()) {
                        violation("id " + ack.id() + " delivered as seq " + seen.seq() + " but acked as " + ack.seq());
                    }
                }
            }
        } else if (frame instanceof ServerFrame.Error error) {
            String id = error.ref() == null ? null : sendRefs.remove(error.ref());
            if (id != null && ("rate_limited".equals(error.code()) || "unavailable".equals(error.code()))) {
                Pending pending = unacked.get(id);
                if (pending != null) {
                    long wait = error.retryAfterMs() == null ? 100 : error.retryAfterMs();
                    pending.sentAtNanos = -1;
                    pending.notBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
                }
            } else if ("unavailable".equals(error.code())) {
                // a join or resume the server could not answer in time: it asks us to join again with since
                return "unavailable: " + error.message();
            } else {
                violation("unexpected error " + error);
            }
        }
        return null;
    }

    private void drop(String why) {
        synchronized (this) {
            deadDetected++;
            dropReasons.add(why);
        }
        connection.abort();
        connection = null;
        synced = false;
    }

    private boolean trySend(ClientFrame frame) {
        try {
            connection.send(frame);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The next received frame, or null when none arrives within {@code timeout} or the socket closed. */
    private ServerFrame poll(Duration timeout) {
        return connection.poll(timeout);
    }

    private String ref() {
        return "r" + (++refs);
    }

    private String text(int index) {
        StringBuilder text = new StringBuilder(user).append(" #").append(index).append(' ');
        while (text.length() < textLength) {
            text.append((char) ('a' + text.length() % 26));
        }
        return text.toString();
    }

    @Override
    public void close() throws InterruptedException {
        stop.countDown();
        driver.join(5000);
        if (driver.isAlive()) {
            driver.interrupt();
            driver.join(5000);
        }
    }
}
