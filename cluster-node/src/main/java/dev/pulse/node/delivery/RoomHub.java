package dev.pulse.node.delivery;

import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomFeed;
import dev.pulse.node.room.RoomSettings;
import dev.pulse.node.room.StoredEvent;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The local fan-out point of one room on one node. The room sends each batch of messages once to
 * this hub; the hub encodes each frame once and hands the same frame to every local session.
 * Created and stopped by {@link LocalRooms}, which owns the subscription bookkeeping.
 *
 * <p>The hub's one actor takes its own commands and the room's {@link RoomFeed} (adapted in
 * {@link #create}), so the room can watch the very ref it publishes to.
 */
final class RoomHub extends AbstractBehavior<RoomHub.Command> {

    sealed interface Command {}

    record FromRoom(RoomFeed event) implements Command {}

    record Attach(ActorRef<Delivery> session, String user) implements Command {}

    record Detach(ActorRef<Delivery> session) implements Command {}

    private enum Refresh implements Command { INSTANCE }

    /** The hub's behaviour as the room sees it too: {@link RoomFeed} events and hub commands alike. */
    static Behavior<Object> create(String roomId, EntityRef<RoomEntity.Command> room, RoomSettings settings,
                                   FeedEncoder encoder) {
        Behavior<Command> hub = Behaviors.setup(context -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Refresh.INSTANCE, settings.hubRefresh());
            return new RoomHub(context, roomId, room, encoder);
        }));
        return Behaviors.transformMessages(Object.class, hub, pf -> pf
            .match(Command.class, command -> command)
            .match(RoomFeed.class, FromRoom::new));
    }

    private final String roomId;
    private final EntityRef<RoomEntity.Command> room;
    private final FeedEncoder encoder;
    private final ActorRef<RoomFeed> feedRef;
    private final Map<ActorRef<Delivery>, String> sessions = new HashMap<>();
    /** Highest seq published here; -1 until the first message. */
    private long lastSeq = -1;

    private RoomHub(ActorContext<Command> context, String roomId, EntityRef<RoomEntity.Command> room, FeedEncoder encoder) {
        super(context);
        this.roomId = roomId;
        this.room = room;
        this.encoder = encoder;
        this.feedRef = asFeed(context.getSelf());
    }

    /** The ref under which the room knows this hub: the same actor, which accepts the feed (see create). */
    static ActorRef<RoomFeed> asFeed(ActorRef<?> hub) {
        return hub.<Object>unsafeUpcast().narrow();
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
            .onMessage(Attach.class, attach -> {
                sessions.put(attach.session(), attach.user());
                return this;
            })
            .onMessage(Detach.class, detach -> {
                sessions.remove(detach.session());
                return this;
            })
            .onMessage(FromRoom.class, this::onFeed)
            .onMessage(Refresh.class, refresh -> {
                room.tell(new RoomEntity.Subscribe(feedRef, lastSeq));
                return this;
            })
            .onSignal(PostStop.class, stop -> {
                room.tell(new RoomEntity.Unsubscribe(feedRef));
                return this;
            })
            .build();
    }

    private Behavior<Command> onFeed(FromRoom fromRoom) {
        RoomFeed event = fromRoom.event();
        if (event instanceof RoomFeed.Published published) {
            publish(published);
        } else if (event instanceof RoomFeed.Typing typing) {
            broadcastExcept(typing.user(), encoder.typing(roomId, typing.user()), null);
        } else if (event instanceof RoomFeed.MemberChanged change) {
            // PROTOCOL.md 1.1: every session subscribed to the room, the user's own included
            Delivery.Notice notice = new Delivery.Notice(roomId, change.user(), null,
                encoder.member(roomId, change.user(), change.joined()), !change.joined());
            sessions.keySet().forEach(session -> session.tell(notice));
        } else if (event instanceof RoomFeed.PresenceChanged presence) {
            broadcastExcept(presence.user(), encoder.presence(presence.user(), presence.status(), presence.lastSeen()),
                presence.fillsIn() ? null : Delivery.Notice.presenceKey(presence.status(), presence.lastSeen()));
        }
        return this;
    }

    private void publish(RoomFeed.Published published) {
        for (StoredEvent message : published.messages()) {
            if (message.seq() <= lastSeq) {
                continue; // already delivered (a catch-up overlapping a live batch)
            }
            lastSeq = message.seq();
            Delivery.RoomEvent delivery = new Delivery.RoomEvent(roomId, message.seq(), message.ts(),
                encoder.event(roomId, message));
            sessions.keySet().forEach(session -> session.tell(delivery));
        }
    }

    /** Sends a frame, encoded once, to every session whose user is not {@code user}. */
    private void broadcastExcept(String user, EncodedFrame frame, String dedupeKey) {
        Delivery.Notice notice = new Delivery.Notice(roomId, user, dedupeKey, frame);
        sessions.forEach((session, sessionUser) -> {
            if (!sessionUser.equals(user)) {
                session.tell(notice);
            }
        });
    }
}
