package dev.pulse.node.session;

import dev.pulse.node.auth.TokenService;
import dev.pulse.node.user.SessionDirectory;
import dev.pulse.node.user.UserEntity;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * Parent of this node's sessions: spawns one per accepted WebSocket, drives their silence checks and
 * heartbeats from one {@link SessionClock}, and closes them all on shutdown.
 * It is also the node's {@link SessionDirectory}: it tells a user entity that starts elsewhere which
 * of the user's sessions live here, and applies the node's share of the user's send budget; and it
 * keeps {@link NodeUsers}, the users of this node as the other nodes see them, up to date.
 */
public final class Sessions {

    public sealed interface Command {}

    /** A socket opened with {@code credential} (a token, or a ticket of one). */
    public record Spawn(String sessionId, TokenService.Credential credential, Outbound outbound, ActorRef<Spawned> replyTo)
        implements Command {}

    /** The answer to {@link Spawn}. */
    public sealed interface Spawned {}

    public record Started(ActorRef<Session.Command> session) implements Spawned {}

    /** No session: the user has as many open here as one user may. */
    public record Refused(String reason) implements Spawned {}

    /** Close every session with 1001 (the node is going down). */
    public record CloseAll() implements Command {}

    private record SessionStopped(String user, String sessionId) implements Command {}

    private enum ClockTick implements Command { INSTANCE }

    /** Wraps a directory request from a user entity (this actor accepts both protocols, see create). */
    private record FromUser(SessionDirectory.Request request) implements Command {}

    /** A live session and the token its socket was opened with (logout closes it). */
    private record OpenSession(ActorRef<Session.Command> session, String tokenId) {}

    private Sessions() {}

    /** The behavior accepts {@link Command} and {@link SessionDirectory.Request}; see {@link #asCommands}. */
    public static Behavior<Object> create(SessionDeps deps) {
        Behavior<Command> sessions = Behaviors.setup(context -> {
            ActorRef<SessionDirectory.Request> directory = context.getSelf().<Object>unsafeUpcast().narrow();
            context.getSystem().receptionist().tell(Receptionist.register(SessionDirectory.KEY, directory));
            return Behaviors.<Command>withTimers(timers -> behavior(context, timers, deps, directory));
        });
        return Behaviors.transformMessages(Object.class, sessions, pf -> pf
            .match(Command.class, command -> command)
            .match(SessionDirectory.Request.class, FromUser::new));
    }

    public static ActorRef<Command> asCommands(ActorRef<Object> sessions) {
        return sessions.narrow();
    }

    private static Behavior<Command> behavior(ActorContext<Command> context, TimerScheduler<Command> timers, SessionDeps deps,
                                              ActorRef<SessionDirectory.Request> directory) {
        AtomicLong counter = new AtomicLong();
        Map<String, Map<String, OpenSession>> byUser = new HashMap<>();
        SessionClock clock = new SessionClock(deps.heartbeat());
        timers.startTimerWithFixedDelay(ClockTick.INSTANCE, clock.interval());
        ActorRef<NodeUsers.Command> nodeUsers = context.spawn(NodeUsers.create(), "node-users");
        int[] sessionCount = {0};
        return Behaviors.receive(Command.class)
            .onMessage(Spawn.class, spawn -> {
                String user = spawn.credential().user();
                if (byUser.getOrDefault(user, Map.of()).size() >= deps.maxSocketsPerUser()) {
                    spawn.replyTo().tell(new Refused("at most " + deps.maxSocketsPerUser()
                        + " open sockets per user on a node; close one first"));
                    return Behaviors.same();
                }
                SessionClock.Vitals vitals = new SessionClock.Vitals(spawn.credential().tokenExpiresAt().toEpochMilli());
                ActorRef<Session.Command> session = context.spawn(
                    Session.create(spawn.sessionId(), spawn.credential(), spawn.outbound(), deps, directory, vitals,
                        clock.silenceBoundNanos()),
                    "session-" + counter.incrementAndGet());
                clock.add(spawn.sessionId(), session, vitals);
                byUser.computeIfAbsent(user, arrived -> {
                    nodeUsers.tell(new NodeUsers.Arrived(arrived));
                    return new HashMap<>();
                }).put(spawn.sessionId(), new OpenSession(session, spawn.credential().tokenId()));
                context.watchWith(session, new SessionStopped(user, spawn.sessionId()));
                deps.metrics().sessions(++sessionCount[0], byUser.size());
                spawn.replyTo().tell(new Started(session));
                return Behaviors.same();
            })
            .onMessage(SessionStopped.class, stopped -> {
                clock.remove(stopped.sessionId());
                Map<String, OpenSession> ofUser = byUser.get(stopped.user());
                if (ofUser != null && ofUser.remove(stopped.sessionId()) != null) {
                    if (ofUser.isEmpty()) {
                        byUser.remove(stopped.user());
                        nodeUsers.tell(new NodeUsers.Departed(stopped.user()));
                        deps.rateLimiter().forget(stopped.user());
                    }
                    deps.metrics().sessions(--sessionCount[0], byUser.size());
                }
                return Behaviors.same();
            })
            .onMessage(FromUser.class, fromUser -> {
                if (fromUser.request() instanceof SessionDirectory.FindSessions find) {
                    List<SessionDirectory.FoundSession> found = byUser.getOrDefault(find.user(), Map.of()).entrySet().stream()
                        .map(e -> new SessionDirectory.FoundSession(e.getKey(), e.getValue().session()))
                        .toList();
                    find.replyTo().tell(new UserEntity.SessionsFound(directory, found));
                } else if (fromUser.request() instanceof SessionDirectory.SetSendShare share
                    && byUser.containsKey(share.user())) {
                    deps.rateLimiter().setShare(share.user(), share.nodes());
                } else if (fromUser.request() instanceof SessionDirectory.SignOut signOut) {
                    byUser.getOrDefault(signOut.user(), Map.of()).values().stream()
                        .filter(open -> open.tokenId().equals(signOut.tokenId()))
                        .forEach(open -> open.session().tell(new Session.SignedOut()));
                } else if (fromUser.request() instanceof SessionDirectory.RoomsChanged changed) {
                    byUser.getOrDefault(changed.user(), Map.of()).forEach((sessionId, open) -> open.session().tell(
                        new Session.RoomsChanged(changed.rooms(), sessionId.equals(changed.bySession()) ? null : changed.left())));
                } else if (fromUser.request() instanceof SessionDirectory.ReadMoved moved) {
                    byUser.getOrDefault(moved.user(), Map.of()).forEach((sessionId, open) -> {
                        if (!sessionId.equals(moved.bySession())) {
                            open.session().tell(new Session.ReadMoved(moved.room(), moved.seq()));
                        }
                    });
                }
                return Behaviors.same();
            })
            .onMessageEquals(ClockTick.INSTANCE, () -> {
                clock.tick(System.nanoTime(), System.currentTimeMillis());
                return Behaviors.same();
            })
            .onMessage(CloseAll.class, closeAll -> {
                context.getChildren().forEach(child -> child.unsafeUpcast().tell(new Session.Shutdown()));
                return Behaviors.same();
            })
            .build();
    }
}
