package dev.pulse.node.session;

import dev.pulse.node.auth.TokenService;
import dev.pulse.node.delivery.Delivery;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomFeed;
import dev.pulse.node.user.SessionDirectory;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.Decoded;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.Names;
import dev.pulse.protocol.ServerFrame;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * One client connection: decodes and validates client frames, rate-limits sends, answers pings and
 * presence queries, heartbeats to the user entity and closes silent connections. Room frames go to
 * {@link SessionRooms}; everything said to the client goes through {@link ClientConnection} to the
 * transport's {@link Outbound}.
 */
public final class Session extends AbstractBehavior<Session.Command> {

    public sealed interface Command {}

    /** Stream protocol with the transport's inbound side: one message at a time, each acked. */
    public enum StreamAck { INSTANCE }

    public record StreamStarted(ActorRef<StreamAck> ack) implements Command {}

    public record FromClient(ActorRef<StreamAck> ack, Inbound inbound) implements Command {}

    public record ClientGone() implements Command {}

    public record ClientFailed(Throwable cause) implements Command {}

    /** The node is going down: close with 1001. */
    public record Shutdown() implements Command {}

    /** The token this socket was opened with was revoked (logout): close with 1008. */
    public record SignedOut() implements Command {}

    /** From the user entity, through the node's directory: the user's rooms changed ({@code left}: nullable). */
    public record RoomsChanged(List<UserEntity.RoomMark> rooms, String left) implements Command {}

    /** From the user entity, through the node's directory: another session moved a read marker. */
    public record ReadMoved(String room, long seq) implements Command {}

    // Answers to what UserRooms asked.
    record RoomsListed(int generation, int attempt, UserEntity.RoomList list) implements Command {}

    record RoomsComposed(int generation, List<ServerFrame.RoomEntry> rooms) implements Command {}

    record ReadAnswered(String ref, String room, UserEntity.ReadAnswer answer) implements Command {}

    record SearchAnswered(String ref, List<ServerFrame.SearchResult> results, Throwable failure) implements Command {}

    /** Whether a room this session had not joined was in the user's list (null: no answer). */
    record LeaveAnswered(String ref, String room, Boolean wasListed) implements Command {}

    /** Whether the other user of a DM has an account (null: no answer). */
    record AccountChecked(String peer, Boolean exists) implements Command {}

    // Answers to what SessionRooms asked, and its timers.
    record Delivered(Delivery delivery) implements Command {}

    record Attached(String room, ActorRef<RoomFeed> subscriber) implements Command {}

    record JoinAnswered(String room, RoomEntity.JoinResult result) implements Command {}

    record ReplayRead(String room, int generation, RoomEntity.ReadResult result) implements Command {}

    record ContinueReplay(String room) implements Command {}

    record PostAnswered(RoomEntity.PostResult result) implements Command {}

    record HistoryRead(String ref, String room, RoomEntity.ReadResult result) implements Command {}

    private record DirectoryAnswered(String ref, List<ServerFrame.DirectoryEntry> rooms, Throwable failure) implements Command {}

    private record PresenceAnswered(String ref, List<UserEntity.Presence> presences, Throwable failure) implements Command {}

    /** CHECK_SILENCE and HEARTBEAT come from the node's {@link SessionClock}; POSTS is the session's own timer. */
    enum Tick implements Command { CHECK_SILENCE, HEARTBEAT, POSTS }

    /**
     * {@code directory} is this node's index of sessions, which the user entity may ask about us.
     * What the session logs carries {@code session} (the id in its welcome) and {@code user} in the MDC.
     */
    static Behavior<Command> create(String sessionId, TokenService.Credential credential, Outbound outbound,
                                    SessionDeps deps, ActorRef<SessionDirectory.Request> directory,
                                    SessionClock.Vitals vitals, long silenceBoundNanos) {
        String user = credential.user();
        return Behaviors.withMdc(Command.class, Map.of("session", sessionId, "user", user),
            Behaviors.setup(context -> Behaviors.withTimers(timers ->
                new Session(context, timers, sessionId, user, credential, outbound, deps, directory, vitals, silenceBoundNanos))));
    }

    private final String sessionId;
    private final String user;
    private final SessionDeps deps;
    private final ActorRef<SessionDirectory.Request> directory;
    private final EntityRef<UserEntity.Command> userEntity;
    private final ClientConnection client;
    private final SessionRooms rooms;
    private final UserRooms userRooms;
    private final DmAccounts dmAccounts;
    /** Last presence notice per user, so a change that arrives through several shared rooms is shown once. */
    private final Map<String, String> lastNotice = new HashMap<>();
    /** Rooms whose member frame of this user's leave (on another device) this session has shown. */
    private final java.util.Set<String> ownLeaveShown = new java.util.HashSet<>();
    /** When the client was last heard of; read by the node's {@link SessionClock} too. */
    private final SessionClock.Vitals vitals;
    private final long silenceBoundNanos;

    private Session(ActorContext<Command> context, TimerScheduler<Command> timers, String sessionId, String user,
                    TokenService.Credential credential, Outbound outbound, SessionDeps deps,
                    ActorRef<SessionDirectory.Request> directory, SessionClock.Vitals vitals, long silenceBoundNanos) {
        super(context);
        this.directory = directory;
        this.sessionId = sessionId;
        this.user = user;
        this.deps = deps;
        this.userEntity = deps.sharding().entityRefFor(UserEntity.ENTITY_KEY, user);
        this.client = new ClientConnection(outbound, deps.metrics());
        this.rooms = new SessionRooms(context, timers, deps, user, sessionId, userEntity, client);
        this.userRooms = new UserRooms(context, deps, user, sessionId, userEntity, client);
        this.dmAccounts = new DmAccounts(context, deps, client);
        // No timers of its own for silence and heartbeats: the node's SessionClock sends those ticks.
        this.vitals = vitals;
        this.silenceBoundNanos = silenceBoundNanos;
        userEntity.tell(new UserEntity.SessionOpened(sessionId, context.getSelf(), directory, credential.tokenId()));
        client.send(new ServerFrame.Welcome(user, sessionId, deps.node(), deps.heartbeat().toMillis(),
            ServerFrame.Welcome.PROTOCOL));
        userRooms.start();
        context.getLog().debug("session opened");
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
            .onMessage(StreamStarted.class, started -> {
                started.ack().tell(StreamAck.INSTANCE);
                return this;
            })
            .onMessage(FromClient.class, this::onFromClient)
            .onMessage(ClientGone.class, gone -> Behaviors.stopped())
            .onMessage(ClientFailed.class, failed -> Behaviors.stopped())
            .onMessage(Delivered.class, this::onDelivered)
            .onMessage(Attached.class, a -> next(() -> rooms.with(a.room(), sub -> sub.attached(a.subscriber()))))
            .onMessage(JoinAnswered.class, j -> next(() -> rooms.with(j.room(), sub -> sub.joinAnswered(j.result()))))
            .onMessage(ReplayRead.class, r -> next(() -> rooms.with(r.room(), sub -> sub.fetched(r.generation(), r.result()))))
            .onMessage(ContinueReplay.class, c -> next(() -> rooms.with(c.room(), RoomSubscription::continueReplay)))
            .onMessage(PostAnswered.class, answered -> next(() -> rooms.postAnswered(answered.result())))
            .onMessage(HistoryRead.class, read -> next(() -> rooms.historyRead(read)))
            .onMessage(PresenceAnswered.class, this::onPresenceAnswered)
            .onMessage(DirectoryAnswered.class, this::onDirectoryAnswered)
            .onMessage(RoomsListed.class, listed -> next(() -> userRooms.listed(listed)))
            .onMessage(RoomsComposed.class, composed -> next(() -> userRooms.composed(composed)))
            .onMessage(RoomsChanged.class, changed -> next(() -> {
                String left = changed.left();
                // The room's member frame of this leave races with this news (two paths): the session
                // shows it once, whichever comes first, before it stops receiving the room.
                if (left != null) {
                    boolean ended = rooms.leftElsewhere(left);
                    if (!ownLeaveShown.remove(left) && ended) {
                        client.send(new ServerFrame.MemberChange(left, user, ServerFrame.MemberChange.LEFT));
                    }
                }
                userRooms.changed(changed.rooms());
            }))
            .onMessage(ReadMoved.class, moved -> next(() -> userRooms.readMoved(moved.room(), moved.seq())))
            .onMessage(ReadAnswered.class, answered -> next(() -> userRooms.readAnswered(answered)))
            .onMessage(SearchAnswered.class, answered -> next(() -> userRooms.searchAnswered(answered)))
            .onMessage(LeaveAnswered.class, answered -> next(() -> rooms.leaveAnswered(answered)))
            .onMessage(AccountChecked.class, checked -> next(() -> dmAccounts.checked(checked.peer(), checked.exists(), this::handle)))
            .onMessage(Shutdown.class, shutdown -> closeWith(ClientConnection.CLOSE_GOING_AWAY, GOING_AWAY))
            .onMessage(SignedOut.class, signedOut -> closeWith(ClientConnection.CLOSE_POLICY_VIOLATION, "signed out"))
            .onMessageEquals(Tick.CHECK_SILENCE, this::onCheckSilence)
            .onMessageEquals(Tick.POSTS, () -> next(rooms::postsTick))
            .onMessageEquals(Tick.HEARTBEAT, () -> {
                userEntity.tell(new UserEntity.Heartbeat(sessionId, getContext().getSelf(), directory, rooms.names()));
                return this;
            })
            .onSignal(PostStop.class, stop -> onStop())
            .build();
    }

    // ------------------------------------------------------------------ client frames

    private Behavior<Command> onFromClient(FromClient message) {
        vitals.heard();
        message.ack().tell(StreamAck.INSTANCE);
        Inbound inbound = message.inbound();
        if (inbound instanceof Inbound.Text text) {
            Decoded decoded = deps.codec().decodeClient(text.text());
            if (decoded instanceof Decoded.Rejected rejected) {
                deps.metrics().invalidFrameIn();
                client.send(rejected.toError());
            } else {
                ClientFrame frame = ((Decoded.Ok) decoded).frame();
                deps.metrics().frameIn(frame);
                handle(frame);
            }
        } else if (inbound instanceof Inbound.TooLarge tooLarge) {
            deps.metrics().invalidFrameIn();
            client.send(ServerFrame.Error.of(null, ErrorCode.TOO_LARGE,
                "frame of " + tooLarge.bytes() + " bytes exceeds " + deps.codec().limits().maxFrameBytes()));
        } else {
            deps.metrics().invalidFrameIn();
            client.send(ServerFrame.Error.of(null, ErrorCode.INVALID, "binary frames are not supported; send JSON text frames"));
        }
        return next();
    }

    private void handle(ClientFrame frame) {
        if (frame instanceof ClientFrame.Ping ping) {
            client.send(new ServerFrame.Pong(ping.ref()));
        } else if (frame instanceof ClientFrame.Send send) {
            if (!mayAccess(send.ref(), send.room()) || !peerHasAccount(send.room(), frame)) {
                return;
            }
            if (withinSendRate(send.ref())) {
                rooms.send(send);
            } else {
                deps.metrics().rejected(ErrorCode.RATE_LIMITED);
            }
        } else if (frame instanceof ClientFrame.RoomChange change) {
            // Edits and reactions count against the send budget (PROTOCOL.md 1.1); deletions do not.
            if (!mayAccess(change.ref(), change.room())) {
                return;
            }
            if (change instanceof ClientFrame.Delete || withinSendRate(change.ref())) {
                rooms.change(change);
            } else {
                deps.metrics().rejected(ErrorCode.RATE_LIMITED);
            }
        } else if (frame instanceof ClientFrame.Join join) {
            if (mayAccess(join.ref(), join.room()) && peerHasAccount(join.room(), frame) && withinRequestRate(join.ref())) {
                rooms.join(join);
            }
        } else if (frame instanceof ClientFrame.Leave leave) {
            rooms.leave(leave);
        } else if (frame instanceof ClientFrame.History history) {
            if (mayAccess(history.ref(), history.room()) && peerHasAccount(history.room(), frame)
                && withinRequestRate(history.ref())) {
                rooms.history(history);
            }
        } else if (frame instanceof ClientFrame.Typing typing) {
            if (deps.typingLimiter().acquire(user) <= 0) {
                rooms.typing(typing);
            }
        } else if (frame instanceof ClientFrame.PresenceQuery query) {
            if (withinRequestRate(query.ref())) {
                onPresenceQuery(query);
            }
        } else if (frame instanceof ClientFrame.Read read) {
            if (mayAccess(read.ref(), read.room()) && withinRequestRate(read.ref())) {
                userRooms.read(read);
            }
        } else if (frame instanceof ClientFrame.Directory directory) {
            if (withinRequestRate(directory.ref())) {
                onDirectory(directory);
            }
        } else if (frame instanceof ClientFrame.Search search) {
            if ((search.room() == null || mayAccess(search.ref(), search.room())) && withinRequestRate(search.ref())) {
                userRooms.search(search);
            }
        }
    }

    /**
     * DM rooms are for their two participants only; answers {@code forbidden} otherwise. With accounts,
     * a public room named like a DM ({@code dm.alice.bob}) is not used: {@code invalid}.
     */
    private boolean mayAccess(String ref, String room) {
        if (deps.refuseDmLookalikes() && Names.looksLikeDm(room)) {
            deps.metrics().rejected(ErrorCode.INVALID);
            client.send(ServerFrame.Error.of(ref, ErrorCode.INVALID,
                "public room names may not start with dm: they would look like direct messages"));
            return false;
        }
        if (Names.mayAccess(user, room)) {
            return true;
        }
        deps.metrics().rejected(ErrorCode.FORBIDDEN);
        client.send(ServerFrame.Error.of(ref, ErrorCode.FORBIDDEN, "only its two participants may use " + room));
        return false;
    }

    /**
     * Accounts mode: the other user of a DM room must have an account ({@code not_found} otherwise);
     * false while that is being asked (the frame goes on once it is known).
     */
    private boolean peerHasAccount(String room, ClientFrame frame) {
        if (!deps.refuseDmLookalikes() || !Names.isDmRoom(room)) {
            return true;
        }
        String peer = Names.dmParticipants(room).orElseThrow().stream().filter(name -> !name.equals(user)).findFirst()
            .orElse(user);
        return dmAccounts.mayGoOn(peer, frame);
    }

    private boolean withinSendRate(String ref) {
        long retryAfterMs = deps.rateLimiter().acquire(user);
        if (retryAfterMs <= 0) {
            return true;
        }
        client.send(new ServerFrame.Error(ref, ErrorCode.RATE_LIMITED.wire(),
            "at most " + deps.codec().limits().sendBurst() + " messages per "
                + deps.codec().limits().sendWindow().toSeconds() + " s", retryAfterMs));
        return false;
    }

    /** History, presence, join, read and directory requests share one budget per user; a request past it is answered rate_limited. */
    private boolean withinRequestRate(String ref) {
        long retryAfterMs = deps.requestLimiter().acquire(user);
        if (retryAfterMs <= 0) {
            return true;
        }
        deps.metrics().rejected(ErrorCode.RATE_LIMITED);
        client.send(new ServerFrame.Error(ref, ErrorCode.RATE_LIMITED.wire(),
            "at most " + deps.requestLimiter().describe() + " history, presence, join, read, directory and search requests", retryAfterMs));
        return false;
    }

    private void onPresenceQuery(ClientFrame.PresenceQuery query) {
        List<CompletableFuture<UserEntity.Presence>> asks = new ArrayList<>(query.users().size());
        for (String other : query.users()) {
            CompletionStage<UserEntity.Presence> answer = AskPattern.ask(
                deps.sharding().entityRefFor(UserEntity.ENTITY_KEY, other),
                UserEntity.GetPresence::new, deps.entityTimeout(), getContext().getSystem().scheduler());
            asks.add(answer.toCompletableFuture());
        }
        CompletableFuture<List<UserEntity.Presence>> all = CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
            .thenApply(ignored -> asks.stream().map(CompletableFuture::join).toList());
        getContext().pipeToSelf(all, (presences, failure) -> new PresenceAnswered(query.ref(), presences, failure));
    }

    private void onDirectory(ClientFrame.Directory query) {
        getContext().pipeToSelf(deps.directory().find(query.query(), query.limit()),
            (rooms, failure) -> new DirectoryAnswered(query.ref(), rooms, failure));
    }

    private Behavior<Command> onDirectoryAnswered(DirectoryAnswered answered) {
        if (answered.failure() != null) {
            getContext().getLog().warn("directory query failed: {}", answered.failure().toString());
            client.send(ServerFrame.Error.of(answered.ref(), ErrorCode.UNAVAILABLE, "the room directory is unavailable; try again"));
        } else {
            client.send(new ServerFrame.Directory(answered.ref(), answered.rooms()));
        }
        return next();
    }

    private Behavior<Command> onPresenceAnswered(PresenceAnswered answered) {
        if (answered.failure() != null) {
            client.send(ServerFrame.Error.of(answered.ref(), ErrorCode.UNAVAILABLE, "presence is unavailable; try again"));
        } else {
            client.send(new ServerFrame.PresenceList(answered.ref(),
                answered.presences().stream().map(WireFrames::memberFrame).toList()));
        }
        return next();
    }

    // ------------------------------------------------------------------ from hubs

    private Behavior<Command> onDelivered(Delivered delivered) {
        if (delivered.delivery() instanceof Delivery.RoomEvent event) {
            rooms.delivered(event);
        } else if (delivered.delivery() instanceof Delivery.Notice notice) {
            if (!rooms.has(notice.room())) {
                // Sent by the hub before it heard that this session left the room (the leave went to
                // the room too, and its member frame can overtake the detach): not for us any more.
                return next();
            }
            boolean repeated = notice.dedupeKey() != null
                && notice.dedupeKey().equals(lastNotice.put(notice.user(), notice.dedupeKey()));
            if (!repeated) {
                client.offer(notice.frame());
            }
            if (notice.memberLeft() && notice.user().equals(user)) {
                ownLeaveShown.add(notice.room()); // the user left on another device: see RoomsChanged
            }
        }
        return next();
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * The periodic check of the session: a silent client is gone, and a socket lives no longer than
     * the token it was opened with (checked here rather than with a timer per session that sits in
     * the scheduler's wheel for a day: closed at most a check interval after the expiry).
     */
    private Behavior<Command> onCheckSilence() {
        if (System.currentTimeMillis() >= vitals.tokenExpiresAtMillis()) {
            return closeWith(ClientConnection.CLOSE_POLICY_VIOLATION, "token expired");
        }
        if (System.nanoTime() - vitals.lastHeardNanos() > silenceBoundNanos) {
            return closeWith(ClientConnection.CLOSE_GOING_AWAY,
                "idle: no frame for " + deps.heartbeat().multipliedBy(5).dividedBy(2).toMillis() + " ms");
        }
        return next();
    }

    /** Stay, unless the connection is being closed. */
    private Behavior<Command> next() {
        return client.closing() ? Behaviors.stopped() : this;
    }

    private Behavior<Command> next(Runnable action) {
        action.run();
        return next();
    }

    /**
     * Closes the node decided on for this client (slow consumer, idle) are worth an operator's look;
     * clients leaving and the node's own shutdown are routine.
     */
    private void logClose() {
        String reason = client.closeReason();
        if (reason == null) {
            getContext().getLog().debug("session ended by the client");
        } else if (client.closeCode() == ClientConnection.CLOSE_GOING_AWAY && reason.equals(GOING_AWAY)) {
            getContext().getLog().debug("session closed: {}", reason);
        } else {
            getContext().getLog().info("session closed with {}: {}", client.closeCode(), reason);
        }
    }

    private static final String GOING_AWAY = "going away";

    private Behavior<Command> closeWith(int code, String reason) {
        client.close(code, reason);
        return Behaviors.stopped();
    }

    private Behavior<Command> onStop() {
        logClose();
        rooms.detachAll();
        userEntity.tell(new UserEntity.SessionClosed(sessionId));
        deps.rateLimiter().forgetIfIdle(user);
        deps.requestLimiter().forgetIfIdle(user);
        deps.typingLimiter().forgetIfIdle(user);
        client.complete();
        return this;
    }
}
