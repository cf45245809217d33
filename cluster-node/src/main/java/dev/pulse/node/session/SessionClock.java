package dev.pulse.node.session;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The node's one clock for all its sessions, driven by one timer of {@link Sessions}. A timer per
 * session (a silence check every {@code heartbeat / 4} and a heartbeat to the user entity) cost
 * every idle connection two scheduler tasks and a message every few seconds; here one tick reads
 * each session's {@link Vitals} and messages only the sessions that are silent for too long or
 * whose token expired ({@link Session.Tick#CHECK_SILENCE}: the session decides), and the sessions
 * whose heartbeat falls in this tick ({@link Session.Tick#HEARTBEAT}). Heartbeats are spread over
 * the ticks of a heartbeat period by session, so they never go out as one burst.
 *
 * <p>Not thread-safe: driven by its {@link Sessions} actor only. {@link Vitals} is the one part a
 * session writes (on every client frame) and the clock reads.
 */
final class SessionClock {

    /** What the clock knows of a session; {@link #heard} is written by the session itself. */
    static final class Vitals {
        private final long tokenExpiresAtMillis;
        private volatile long lastHeardNanos;

        Vitals(long tokenExpiresAtMillis) {
            this(tokenExpiresAtMillis, System.nanoTime());
        }

        Vitals(long tokenExpiresAtMillis, long heardAtNanos) {
            this.tokenExpiresAtMillis = tokenExpiresAtMillis;
            this.lastHeardNanos = heardAtNanos;
        }

        /** A frame came from the client. */
        void heard() {
            lastHeardNanos = System.nanoTime();
        }

        long lastHeardNanos() {
            return lastHeardNanos;
        }

        long tokenExpiresAtMillis() {
            return tokenExpiresAtMillis;
        }
    }

    private record Entry(ActorRef<Session.Command> session, Vitals vitals, int slot) {}

    private final Duration tick;
    private final int slots;
    private final long silenceBoundNanos;
    private final Map<String, Entry> sessions = new LinkedHashMap<>();
    private long ticks;
    private int nextSlot;

    /** A session is silent for too long after 2.5 heartbeats without a frame (PROTOCOL.md, Presence). */
    SessionClock(Duration heartbeat) {
        Duration quarter = heartbeat.dividedBy(4);
        this.tick = quarter.isZero() ? Duration.ofMillis(1) : quarter.compareTo(Duration.ofSeconds(1)) < 0 ? quarter : Duration.ofSeconds(1);
        this.slots = (int) Math.max(1, heartbeat.toNanos() / tick.toNanos());
        this.silenceBoundNanos = heartbeat.toNanos() * 5 / 2;
    }

    /** How often {@link #tick} is to be called: a quarter heartbeat, at most a second. */
    Duration interval() {
        return tick;
    }

    long silenceBoundNanos() {
        return silenceBoundNanos;
    }

    void add(String sessionId, ActorRef<Session.Command> session, Vitals vitals) {
        sessions.put(sessionId, new Entry(session, vitals, nextSlot));
        nextSlot = (nextSlot + 1) % slots;
    }

    void remove(String sessionId) {
        sessions.remove(sessionId);
    }

    int size() {
        return sessions.size();
    }

    /** One tick: the checks and heartbeats that are due. */
    void tick(long nowNanos, long nowMillis) {
        int slot = (int) (ticks++ % slots);
        for (Entry entry : sessions.values()) {
            Vitals vitals = entry.vitals();
            if (nowNanos - vitals.lastHeardNanos() > silenceBoundNanos || nowMillis >= vitals.tokenExpiresAtMillis()) {
                entry.session().tell(Session.Tick.CHECK_SILENCE);
            }
            if (entry.slot() == slot) {
                entry.session().tell(Session.Tick.HEARTBEAT);
            }
        }
    }
}
