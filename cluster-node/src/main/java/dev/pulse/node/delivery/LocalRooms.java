package dev.pulse.node.delivery;

import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomFeed;
import dev.pulse.node.room.RoomSettings;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The node's registry of room hubs: one hub per room that has local subscribers. It alone creates
 * and stops hubs, so an attach can never race a hub that is shutting down.
 */
public final class LocalRooms extends AbstractBehavior<LocalRooms.Command> {

    public sealed interface Command {}

    /**
     * Subscribe a session (its {@link Delivery} ref); answered with the room's hub as the room's
     * subscriber, which the session hands to the room on join.
     */
    public record Attach(String room, ActorRef<Delivery> session, String user, ActorRef<Attached> replyTo)
        implements Command {}

    public record Attached(String room, ActorRef<RoomFeed> subscriber) {}

    public record Detach(String room, ActorRef<Delivery> session) implements Command {}

    public static Behavior<Command> create(RoomSettings settings, FeedEncoder encoder) {
        return Behaviors.setup(context -> new LocalRooms(context, settings, encoder));
    }

    private record Hub(ActorRef<RoomHub.Command> ref, Set<ActorRef<Delivery>> sessions) {}

    private final RoomSettings settings;
    private final FeedEncoder encoder;
    private final ClusterSharding sharding;
    private final Map<String, Hub> hubs = new HashMap<>();
    private long hubCounter;

    private LocalRooms(ActorContext<Command> context, RoomSettings settings, FeedEncoder encoder) {
        super(context);
        this.settings = settings;
        this.encoder = encoder;
        this.sharding = ClusterSharding.get(context.getSystem());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
            .onMessage(Attach.class, this::onAttach)
            .onMessage(Detach.class, this::onDetach)
            .build();
    }

    private Behavior<Command> onAttach(Attach attach) {
        Hub hub = hubs.computeIfAbsent(attach.room(), room -> new Hub(
            getContext().spawn(RoomHub.create(room, sharding.entityRefFor(RoomEntity.ENTITY_KEY, room), settings, encoder),
                "hub-" + (hubCounter++)).narrow(),
            new HashSet<>()));
        hub.sessions().add(attach.session());
        hub.ref().tell(new RoomHub.Attach(attach.session(), attach.user()));
        attach.replyTo().tell(new Attached(attach.room(), RoomHub.asFeed(hub.ref())));
        return this;
    }

    private Behavior<Command> onDetach(Detach detach) {
        Hub hub = hubs.get(detach.room());
        if (hub != null && hub.sessions().remove(detach.session())) {
            hub.ref().tell(new RoomHub.Detach(detach.session()));
            if (hub.sessions().isEmpty()) {
                hubs.remove(detach.room());
                getContext().stop(hub.ref());
            }
        }
        return this;
    }
}
