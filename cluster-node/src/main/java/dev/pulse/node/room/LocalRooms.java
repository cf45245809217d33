package dev.pulse.node.room;

import dev.pulse.node.session.Session;
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

    /** Subscribe a session; answered with the room's hub, which the session hands to the room on join. */
    public record Attach(String room, ActorRef<Session.Command> session, String user,
                         ActorRef<ActorRef<RoomHub.Command>> replyTo) implements Command {}

    public record Detach(String room, ActorRef<Session.Command> session) implements Command {}

    public static Behavior<Command> create(RoomSettings settings) {
        return Behaviors.setup(context -> new LocalRooms(context, settings));
    }

    private record Hub(ActorRef<RoomHub.Command> ref, Set<ActorRef<Session.Command>> sessions) {}

    private final RoomSettings settings;
    private final ClusterSharding sharding;
    private final Map<String, Hub> hubs = new HashMap<>();
    private long hubCounter;

    private LocalRooms(ActorContext<Command> context, RoomSettings settings) {
        super(context);
        this.settings = settings;
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
            getContext().spawn(RoomHub.create(room, sharding.entityRefFor(RoomEntity.ENTITY_KEY, room), settings),
                "hub-" + (hubCounter++)),
            new HashSet<>()));
        hub.sessions().add(attach.session());
        hub.ref().tell(new RoomHub.Attach(attach.session(), attach.user()));
        attach.replyTo().tell(hub.ref());
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
