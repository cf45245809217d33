package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;
import dev.pulse.node.room.PresenceStatus;
import dev.pulse.node.room.RoomEntity;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * A user: sharded. Knows the user's live sessions on every node and derives presence from them.
 * A session counts while its heartbeats arrive and its actor lives: death watch fires when the
 * session stops or when its node leaves or is downed, and the heartbeat bound catches the rest.
 * Presence changes go to the rooms the user's sessions have joined, which pass them to members.
 * Sessions are only watched, never talked to, so any actor ref will do.
 */
public final class UserEntity extends AbstractBehavior<UserEntity.Command> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "User");

    public sealed interface Command extends CborSerializable {}

    public record SessionOpened(String sessionId, ActorRef<?> session) implements Command {}

    /**
     * Sent by a live session every heartbeat interval. It names the session and its rooms, so an
     * entity that was re-created elsewhere (rebalance, node loss) learns them again.
     */
    public record Heartbeat(String sessionId, ActorRef<?> session, List<String> rooms) implements Command {}

    public record SessionClosed(String sessionId) implements Command {}

    public record TrackRoom(String room) implements Command {}

    public record UntrackRoom(String room) implements Command {}

    public record GetPresence(ActorRef<Presence> replyTo) implements Command {}

    /** {@code lastSeen} (epoch ms) is null while online or when never seen by this entity. */
    public record Presence(String user, PresenceStatus status, Long lastSeen) implements CborSerializable {}

    record SessionTerminated(String sessionId) implements Command {}

    enum CheckHeartbeats implements Command { INSTANCE }

    public static void init(ActorSystem<?> system, Duration heartbeat) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, entity -> create(entity.getEntityId(), heartbeat)));
    }

    public static Behavior<Command> create(String user, Duration heartbeat) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(CheckHeartbeats.INSTANCE, heartbeat);
            return new UserEntity(context, user, heartbeat);
        }));
    }

    private record LiveSession(ActorRef<?> ref, long lastHeartbeatNanos) {}

    private final String user;
    private final long silenceBoundNanos;
    private final ClusterSharding sharding;
    private final Map<String, LiveSession> sessions = new HashMap<>();
    private final Set<String> rooms = new HashSet<>();
    private Long lastSeen;

    private UserEntity(ActorContext<Command> context, String user, Duration heartbeat) {
        super(context);
        this.user = user;
        this.silenceBoundNanos = heartbeat.toNanos() * 5 / 2;
        this.sharding = ClusterSharding.get(context.getSystem());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
            .onMessage(SessionOpened.class, opened -> {
                boolean wasOnline = isOnline();
                if (sessions.put(opened.sessionId(), new LiveSession(opened.session(), System.nanoTime())) == null) {
                    getContext().watchWith(opened.session(), new SessionTerminated(opened.sessionId()));
                }
                announceIfChanged(wasOnline);
                return this;
            })
            .onMessage(Heartbeat.class, beat -> {
                boolean wasOnline = isOnline();
                if (sessions.put(beat.sessionId(), new LiveSession(beat.session(), System.nanoTime())) == null) {
                    getContext().watchWith(beat.session(), new SessionTerminated(beat.sessionId()));
                }
                rooms.addAll(beat.rooms());
                announceIfChanged(wasOnline);
                return this;
            })
            .onMessage(SessionClosed.class, closed -> removeSession(closed.sessionId()))
            .onMessage(SessionTerminated.class, gone -> removeSession(gone.sessionId()))
            .onMessage(CheckHeartbeats.class, check -> {
                boolean wasOnline = isOnline();
                long now = System.nanoTime();
                sessions.entrySet().removeIf(e -> now - e.getValue().lastHeartbeatNanos() > silenceBoundNanos
                    && markGone(e.getValue()));
                announceIfChanged(wasOnline);
                return this;
            })
            .onMessage(TrackRoom.class, track -> {
                if (rooms.add(track.room()) && !isOnline() && lastSeen != null) {
                    // The session that joined is gone already: its death watch notification came
                    // straight here and overtook this message, which travels through the shard
                    // region. The room counted the user online at the join, so tell it otherwise.
                    tellRoom(track.room(), presence());
                }
                return this;
            })
            .onMessage(UntrackRoom.class, untrack -> {
                rooms.remove(untrack.room());
                return this;
            })
            .onMessage(GetPresence.class, get -> {
                get.replyTo().tell(presence());
                return this;
            })
            .build();
    }

    private boolean markGone(LiveSession session) {
        getContext().unwatch(session.ref());
        return true;
    }

    private Behavior<Command> removeSession(String sessionId) {
        LiveSession removed = sessions.remove(sessionId);
        if (removed != null) {
            getContext().unwatch(removed.ref());
            announceIfChanged(true);
        }
        return this;
    }

    private boolean isOnline() {
        return !sessions.isEmpty();
    }

    private Presence presence() {
        return isOnline()
            ? new Presence(user, PresenceStatus.ONLINE, null)
            : new Presence(user, PresenceStatus.OFFLINE, lastSeen);
    }

    private void announceIfChanged(boolean wasOnline) {
        if (wasOnline == isOnline()) {
            return;
        }
        if (!isOnline()) {
            lastSeen = System.currentTimeMillis();
        }
        Presence now = presence();
        rooms.forEach(room -> tellRoom(room, now));
    }

    private void tellRoom(String room, Presence presence) {
        sharding.entityRefFor(RoomEntity.ENTITY_KEY, room)
            .tell(new RoomEntity.PresenceChanged(user, presence.status(), presence.lastSeen()));
    }
}
