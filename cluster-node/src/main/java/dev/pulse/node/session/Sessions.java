package dev.pulse.node.session;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** Parent of this node's sessions: spawns one per accepted WebSocket and closes them all on shutdown. */
public final class Sessions {

    public sealed interface Command {}

    public record Spawn(String sessionId, String user, Outbound outbound, ActorRef<ActorRef<Session.Command>> replyTo)
        implements Command {}

    /** Close every session with 1001 (the node is going down). */
    public record CloseAll() implements Command {}

    private Sessions() {}

    public static Behavior<Command> create(SessionDeps deps) {
        AtomicLong counter = new AtomicLong();
        return Behaviors.setup(context -> Behaviors.receive(Command.class)
            .onMessage(Spawn.class, spawn -> {
                ActorRef<Session.Command> session = context.spawn(
                    Session.create(spawn.sessionId(), spawn.user(), spawn.outbound(), deps),
                    "session-" + counter.incrementAndGet());
                spawn.replyTo().tell(session);
                return Behaviors.same();
            })
            .onMessage(CloseAll.class, closeAll -> {
                context.getChildren().forEach(child -> child.unsafeUpcast().tell(new Session.Shutdown()));
                return Behaviors.same();
            })
            .build());
    }
}
