package dev.pulse.node.testkit;

import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.client.PulseClient;
import dev.pulse.protocol.client.PulseConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A chat client that follows the protocol: it keeps the highest {@code seq} it has seen, rejoins with
 * {@code since} after every disconnect, and resends every unacked message with the same {@code id}.
 * How it does so is its {@link Behaviour}: {@link Behaviour#BAD_NETWORK} (one node behind a bad
 * network: a missing ack or 3 s of silence means a dead connection, reconnect at once) or
 * {@link Behaviour#steady} (a cluster: one message at a time at a steady pace, resend after 1.5 s
 * without an ack on the same socket, and when the socket closes, move to another node after a random
 * pause of up to 2 s, as PROTOCOL.md "Leaving a node gracefully" asks).
 * <p>It checks the stream as it goes: every {@code message} must carry exactly the next {@code seq}
 * (no duplicate, no gap, across reconnects), {@code synced} must not skip anything, and a retried
 * {@code id} must be acked with the same {@code seq}. Anything else is recorded in {@link #violations()}.
 * It also records when each first ack arrived and through which node, presence pushes, and how the
 * server closed its sockets, for tests that measure.
 * <p>One driver thread does everything, so the state needs no locks; the test reads it through
 * the synchronized accessors.
 */
public final class ResilientChatClient implements AutoCloseable {

    /**
     * How the client treats its connection.
     *
     * @param window             sends in flight at a time
     * @param pace               at least this long between two new messages (ZERO: as fast as the window allows)
     * @param resendAfter        resend an unacked message on the same socket after this long; null: never
     * @param deadAfterNoAck     a missing ack for this long ends the connection; null: never
     * @param deadAfterSilence   nothing received (not even a pong) for this long ends the connection
     * @param maxReconnectPause  after a connection ended, wait a random time up to this long, then connect to
     *                           the next node; ZERO: reconnect at once to the same one, backing off on failures
     * @param rejoinInPlace      when the node answers a join (or a resume) with {@code unavailable}, join again
     *                           with {@code since} on the same socket a moment later; false: end the connection
     */
    public record Behaviour(int window, Duration pace, Duration resendAfter, Duration deadAfterNoAck,
                            Duration deadAfterSilence, Duration maxReconnectPause, boolean rejoinInPlace) {

        public static final Behaviour BAD_NETWORK =
            new Behaviour(4, Duration.ZERO, null, Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ZERO, false);

        /** One message at a time, a new one {@code pace} after the last ack; see the class comment. */
        public static Behaviour steady(Duration pace) {
            return new Behaviour(1, pace, Duration.ofMillis(1500), null, Duration.ofSeconds(3), Duration.ofSeconds(2), true);
        }
    }

    /** The first ack of an id: when it arrived and through which node (index into the client's nodes). */
    public record AckEvent(String id, long seq, long atNanos, int node) {}

    /** A pushed presence change, when it arrived and through which node. */
    public record PresenceEvent(String user, String status, long atNanos, int node) {}

    /** A connection the server (or the network) ended, and how. */
    public record CloseEvent(int code, String reason, long atNanos, int node) {}

    public static final Duration DEAD_AFTER = Duration.ofSeconds(3);
    private static final long PING_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long REJOIN_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final String user;
    private final String token;
    private final List<PulseClient> nodes;
    private final String room;
    private final int textLength;
    private final Behaviour behaviour;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread driver;
    private volatile boolean finishing;

    // driver state
    private int node;
    private PulseConnection connection;
    private boolean synced;
    private long lastHeardNanos;
    private long lastPingNanos;
    private long nextNewNotBeforeNanos;
    /** When to join again on this socket after an unavailable join; -1: no rejoin due. */
    private long rejoinAtNanos = -1;
    private int refs;
    private int nextIndex;
    private final Map<String, Pending> unacked = new LinkedHashMap<>();
    private final Map<String, String> sendRefs = new HashMap<>();

    // observed (guarded by this)
    private int toSend;
    private long highestSeq;
    private final List<ServerFrame.Message> observed = new ArrayList<>();
    private final Map<String, Long> observedSeqById = new HashMap<>();
    private final Map<String, Long> ackedSeq = new LinkedHashMap<>();
    private final List<AckEvent> acks = new ArrayList<>();
    private final List<PresenceEvent> presence = new ArrayList<>();
    private final List<CloseEvent> closes = new ArrayList<>();
    private final Map<String, String> sentTexts = new LinkedHashMap<>();
    private final List<String> violations = new ArrayList<>();
    private int connects;
    private int deadDetected;
    private int resends;
    private int resendsAlreadyCommitted;
    private long holes;
    private long duplicates;
    private long minAckNanos = Long.MAX_VALUE;
    private final List<String> dropReasons = new ArrayList<>();
    /** What happened to the connection, timestamped (nanoTime), for diagnosis: connect, joined, synced, close, … */
    private final List<Map.Entry<Long, String>> trace = new ArrayList<>();

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
     * A client of one node with {@link Behaviour#BAD_NETWORK}.
     *
     * @param token    a login token (logged in once, elsewhere)
     * @param viaProxy where to open WebSockets
     */
    public ResilientChatClient(String user, String token, PulseClient viaProxy, String room, int toSend, int textLength) {
        this(user, token, List.of(viaProxy), 0, room, toSend, textLength, Behaviour.BAD_NETWORK);
    }

    /**
     * @param nodes     where to open WebSockets; the client starts with {@code firstNode} and moves on to the
     *                  next one (in turn) when a connection ends, if {@code behaviour} says so
     * @param toSend    messages to send; {@link Integer#MAX_VALUE} to send until {@link #finish()}
     */
    public ResilientChatClient(String user, String token, List<PulseClient> nodes, int firstNode, String room, int toSend,
                               int textLength, Behaviour behaviour) {
        this.user = user;
        this.token = token;
        this.nodes = List.copyOf(nodes);
        this.node = firstNode;
        this.room = room;
        this.toSend = toSend;
        this.textLength = textLength;
        this.behaviour = behaviour;
        this.driver = new Thread(this::run, "resilient-" + user);
        this.driver.setDaemon(true);
    }

    public ResilientChatClient start() {
        driver.start();
        return this;
    }

    /** Sends no new message from now on; the unacked ones are still sent until acked. */
    public void finish() {
        finishing = true;
    }

    public String user() {
        return user;
    }

    public String room() {
        return room;
    }

    // ------------------------------------------------------------------ what the test reads

    /** Every message it was to send is acked (after {@link #finish()} for a client without a count). */
    public synchronized boolean allAcked() {
        return ackedSeq.size() == toSend;
    }

    public synchronized long highestSeq() {
        return highestSeq;
    }

    public synchronized List<ServerFrame.Message> observed() {
        return List.copyOf(observed);
    }

    public synchronized Map<String, Long> acked() {
        return Map.copyOf(ackedSeq);
    }

    /** First acks in the order they arrived. */
    public synchronized List<AckEvent> acks() {
        return List.copyOf(acks);
    }

    public synchronized List<PresenceEvent> presence() {
        return List.copyOf(presence);
    }

    public synchronized List<CloseEvent> closes() {
        return List.copyOf(closes);
    }

    public synchronized Map<String, String> sentTexts() {
        return Map.copyOf(sentTexts);
    }

    public synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    public synchronized int connects() {
        return connects;
    }

    public synchronized int deadDetected() {
        return deadDetected;
    }

    public synchronized int resends() {
        return resends;
    }

    /** Seqs the live view skipped (each recorded as a violation too). */
    public synchronized long holes() {
        return holes;
    }

    /** Messages at or below a seq already seen (each recorded as a violation too). */
    public synchronized long duplicates() {
        return duplicates;
    }

    /** Resends of an id the rejoin replay had already delivered: the original made it, its ack did not. */
    public synchronized int resendsAlreadyCommitted() {
        return resendsAlreadyCommitted;
    }

    /** The shortest time from a send to its ack, in ms (Long.MAX_VALUE before the first ack). */
    public synchronized long minAckMillis() {
        return minAckNanos == Long.MAX_VALUE ? Long.MAX_VALUE : minAckNanos / 1_000_000;
    }

    public synchronized List<String> dropReasons() {
        return List.copyOf(dropReasons);
    }

    /** The connection's history between {@code fromNanos} and {@code toNanos}, as "+ms event" relative to {@code fromNanos}. */
    public synchronized List<String> trace(long fromNanos, long toNanos) {
        return trace.stream().filter(e -> e.getKey() >= fromNanos && e.getKey() <= toNanos)
            .map(e -> "+" + (e.getKey() - fromNanos) / 1_000_000 + "ms " + e.getValue()).toList();
    }

    private synchronized void trace(String event) {
        trace.add(Map.entry(System.nanoTime(), event));
    }

    private synchronized void violation(String what) {
        violations.add(user + ": " + what);
    }

    // ------------------------------------------------------------------ driver

    private void run() {
        long backoffMs = 50;
        boolean pause = false;
        try {
            while (stop.getCount() > 0) {
                if (connection == null) {
                    boolean moving = positive(behaviour.maxReconnectPause());
                    if (pause && moving) {
                        long pauseMs = ThreadLocalRandom.current().nextLong(behaviour.maxReconnectPause().toMillis() + 1);
                        if (stop.await(pauseMs, TimeUnit.MILLISECONDS)) {
                            return;
                        }
                    }
                    if (!connect()) {
                        if (moving) {
                            node = (node + 1) % nodes.size();
                            pause = true;
                            continue;
                        }
                        if (stop.await(backoffMs, TimeUnit.MILLISECONDS)) {
                            return;
                        }
                        backoffMs = Math.min(1000, backoffMs * 2);
                        continue;
                    }
                    pause = false;
                }
                String dead = step();
                if (dead != null) {
                    drop(dead);
                    if (positive(behaviour.maxReconnectPause())) {
                        node = (node + 1) % nodes.size();
                        pause = true;
                    }
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
            connection = nodes.get(node).connect(token);
        } catch (RuntimeException e) {
            synchronized (this) {
                dropReasons.add("connect failed: " + e.getClass().getSimpleName());
            }
            trace("connect to node " + node + " failed: " + e.getClass().getSimpleName());
            return false;
        }
        synchronized (this) {
            connects++;
        }
        trace("connected to node " + node);
        synced = false;
        rejoinAtNanos = -1;
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
            PulseConnection.Closed closed = connection.closed().join();
            synchronized (this) {
                closes.add(new CloseEvent(closed.code(), closed.reason(), now, node));
            }
            return "closed " + closed;
        }
        if (now - lastHeardNanos > behaviour.deadAfterSilence().toNanos()) {
            return "silent for " + behaviour.deadAfterSilence().toMillis() + " ms";
        }
        for (Pending pending : unacked.values()) {
            if (pending.sentAtNanos < 0) {
                continue;
            }
            if (behaviour.deadAfterNoAck() != null && now - pending.sentAtNanos > behaviour.deadAfterNoAck().toNanos()) {
                return "no ack for " + behaviour.deadAfterNoAck().toMillis() + " ms";
            }
            if (behaviour.resendAfter() != null && now - pending.sentAtNanos > behaviour.resendAfter().toNanos()) {
                pending.sentAtNanos = -1; // sent again below, with the same id
                pending.notBeforeNanos = now;
            }
        }
        if (rejoinAtNanos >= 0 && now >= rejoinAtNanos) {
            rejoinAtNanos = -1;
            long since;
            synchronized (this) {
                since = highestSeq;
            }
            if (!trySend(new ClientFrame.Join(ref(), room, since))) {
                return "join failed";
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
        if (finishing) {
            synchronized (this) {
                toSend = Math.min(toSend, nextIndex);
            }
        }
        int limit;
        synchronized (this) {
            limit = toSend;
        }
        while (unacked.size() < behaviour.window() && nextIndex < limit && now >= nextNewNotBeforeNanos) {
            String id = user + "-" + nextIndex;
            String text = text(nextIndex);
            nextIndex++;
            unacked.put(id, new Pending(text));
            synchronized (this) {
                sentTexts.put(id, text);
            }
            if (positive(behaviour.pace())) {
                nextNewNotBeforeNanos = Long.MAX_VALUE; // set when it is acked
            }
        }
        for (Map.Entry<String, Pending> entry : unacked.entrySet()) {
            Pending pending = entry.getValue();
            if (pending.sentAtNanos < 0 && now >= pending.notBeforeNanos) {
                String ref = ref();
                sendRefs.put(ref, entry.getKey());
                pending.sentAtNanos = System.nanoTime();
                if (pending.attempts++ > 0) {
                    trace("resend " + entry.getKey() + " (attempt " + pending.attempts + ")");
                    synchronized (this) {
                        resends++;
                        if (observedSeqById.containsKey(entry.getKey())) {
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
                    if (message.seq() <= highestSeq) {
                        duplicates++;
                    } else {
                        holes += message.seq() - highestSeq - 1;
                    }
                    violation((message.seq() <= highestSeq ? "duplicate" : "gap") + ": seq " + message.seq()
                        + " after " + highestSeq + " (id " + message.id() + ") on node " + node);
                }
                Long acked = ackedSeq.get(message.id());
                if (acked != null && acked != message.seq()) {
                    violation("id " + message.id() + " acked as seq " + acked + " but delivered as " + message.seq());
                }
                highestSeq = Math.max(highestSeq, message.seq());
                observed.add(message);
                observedSeqById.putIfAbsent(message.id(), message.seq());
            }
        } else if (frame instanceof ServerFrame.Synced s && room.equals(s.room())) {
            synchronized (this) {
                if (highestSeq < s.lastSeq()) {
                    violation("synced at " + s.lastSeq() + " but only saw up to " + highestSeq);
                }
            }
            synced = true;
            trace("synced at " + s.lastSeq());
        } else if (frame instanceof ServerFrame.Joined joined) {
            trace("joined at " + joined.lastSeq());
        } else if (frame instanceof ServerFrame.Ack ack) {
            sendRefs.remove(ack.ref());
            Pending pending = unacked.remove(ack.id());
            long now = System.nanoTime();
            if (pending != null && positive(behaviour.pace()) && unacked.isEmpty()) {
                nextNewNotBeforeNanos = now + behaviour.pace().toNanos();
            }
            synchronized (this) {
                if (pending != null && pending.sentAtNanos >= 0) {
                    minAckNanos = Math.min(minAckNanos, now - pending.sentAtNanos);
                }
                Long before = ackedSeq.putIfAbsent(ack.id(), ack.seq());
                if (before == null) {
                    acks.add(new AckEvent(ack.id(), ack.seq(), now, node));
                    trace.add(Map.entry(now, "ack " + ack.id() + " seq " + ack.seq()
                        + (pending != null && pending.attempts > 1 ? " after " + pending.attempts + " attempts" : "")));
                } else if (before != ack.seq()) {
                    violation("id " + ack.id() + " acked twice with different seqs " + before + " and " + ack.seq());
                }
                Long seen = observedSeqById.get(ack.id());
                if (seen != null && seen != ack.seq()) {
                    violation("id " + ack.id() + " delivered as seq " + seen + " but acked as " + ack.seq());
                }
            }
        } else if (frame instanceof ServerFrame.Presence p) {
            synchronized (this) {
                presence.add(new PresenceEvent(p.user(), p.status(), System.nanoTime(), node));
            }
        } else if (frame instanceof ServerFrame.Error error) {
            String id = error.ref() == null ? null : sendRefs.remove(error.ref());
            trace("error " + error.code() + " ref " + error.ref() + ": " + error.message());
            if (id != null && ("rate_limited".equals(error.code()) || "unavailable".equals(error.code()))) {
                Pending pending = unacked.get(id);
                if (pending != null) {
                    long wait = error.retryAfterMs() == null ? 100 : error.retryAfterMs();
                    pending.sentAtNanos = -1;
                    pending.notBeforeNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait);
                }
            } else if ("unavailable".equals(error.code())) {
                // a join or resume the server could not answer in time: it asks us to join again with since
                if (!behaviour.rejoinInPlace()) {
                    return "unavailable: " + error.message();
                }
                synced = false;
                rejoinAtNanos = System.nanoTime() + REJOIN_AFTER_NANOS;
                synchronized (this) {
                    dropReasons.add("rejoin: " + error.message());
                }
            } else {
                violation("unexpected error " + error);
            }
        }
        return null;
    }

    private void drop(String why) {
        trace("dropped: " + why);
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

    private static boolean positive(Duration duration) {
        return !duration.isZero() && !duration.isNegative();
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
