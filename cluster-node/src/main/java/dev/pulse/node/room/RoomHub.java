package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;
import dev.pulse.node.session.Session;
import dev.pulse.protocol.FrameCodec;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.http.scaladsl.model.ws.TextMessage;

/**
 * The local fan-out point of one room on one node. The room sends each batch of messages once to
 * this hub; the hub encodes each frame once and hands the same bytes to every local session.
 * Created and stopped by {@link LocalRooms}, which owns the subscription bookkeeping.
 */
public final class RoomHub extends AbstractBehavior<RoomHub.Command> {

    public sealed interface Command {}

    /** From the room (possibly remote): committed messages, ascending and contiguous. */
    public record Publish(List<StoredMessage> messages) implements Command, CborSerializable {}

    public record TypingNotice(String user) implements Command, CborSerializable {}

    public record PresenceNotice(String user, String status, Long lastSeen) implements Command, CborSerializable {}

    record Attach(ActorRef<Session.Command> session, String user) implements Command {}

    record Detach(ActorRef<Session.Command> session) implements Command {}

    private enum Refresh implements Command { INSTANCE }

    static Behavior<Command> create(String roomId, EntityRef<RoomEntity.Command> room, RoomSettings settings) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Refresh.INSTANCE, settings.hubRefresh());
            return new RoomHub(context, roomId, room);
        }));
    }

    private final String roomId;
    private final EntityRef<RoomEntity.Command> room;
    private final Map<ActorRef<Session.Command>, String> sessions = new HashMap<>();
    /** Highest seq published here; -1 until the first message. */
    private long lastSeq = -1;

    private RoomHub(ActorContext<Command> context, String roomId, EntityRef<RoomEntity.Command> room) {
        super(context);
        this.roomId = roomId;
        this.room = room;
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
            .onMessage(Publish.class, this::onPublish)
            .onMessage(TypingNotice.class, typing -> {
                broadcastExcept(typing.user(), new ServerFrame.Typing(roomId, typing.user()), null);
                return this;
            })
            .onMessage(PresenceNotice.class, presence -> {
                String lastSeen = presence.lastSeen() == null ? null : Timestamps.format(presence.lastSeen());
                var frame = new ServerFrame.Presence(presence.user(), presence.status(),
                    "offline".equals(presence.status()) ? lastSeen : null);
                broadcastExcept(presence.user(), frame, presence.status() + lastSeen);
                return this;
            })
            .onMessage(Refresh.class, refresh -> {
                room.tell(new RoomEntity.Subscribe(getContext().getSelf(), lastSeq));
                return this;
            })
            .onSignal(PostStop.class, stop -> {
                room.tell(new RoomEntity.Unsubscribe(getContext().getSelf()));
                return this;
            })
            .build();
    }

    private Behavior<Command> onPublish(Publish publish) {
        for (StoredMessage message : publish.messages()) {
            if (message.seq() <= lastSeq) {
                continue; // already delivered (a catch-up overlapping a live batch)
            }
            lastSeq = message.seq();
            var frame = TextMessage.apply(FrameCodec.encode(message.toFrame(roomId)));
            Session.Deliver deliver = new Session.Deliver(roomId, message.seq(), frame);
            sessions.keySet().forEach(session -> session.tell(deliver));
        }
        return this;
    }

    /** Sends a frame, encoded once, to every session whose user is not {@code user}. */
    private void broadcastExcept(String user, ServerFrame frame, String dedupeKey) {
        TextMessage.Strict text = TextMessage.apply(FrameCodec.encode(frame));
        Session.Notice notice = new Session.Notice(user, dedupeKey, text);
        sessions.forEach((session, sessionUser) -> {
            if (!sessionUser.equals(user)) {
                session.tell(notice);
            }
        });
    }
}
