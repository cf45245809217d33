package dev.pulse.node.user;

import dev.pulse.node.CborSerializable;
import dev.pulse.node.room.PresenceStatus;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.protocol.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.cluster.typed.Unsubscribe;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * A user: sharded and event-sourced. Presence comes from the user's live sessions on every node, and
 * from cluster membership: a session counts while it lives, its heartbeats arrive and its node is
 * reachable, so the sessions of a node that becomes unreachable count offline at once, and again
 * online if the node comes back. Presence changes go to the rooms the user joined.
 *
 * <p>Only transitions are journaled (online, offline with lastSeen, rooms), never sessions: sessions
 * die with their nodes. An entity that starts while its journal says online (its predecessor died
 * with a node, or moved in a rebalance) asks every reachable node for the user's sessions
 * ({@link SessionDirectory}) and, finding none, tells the user's rooms that the user is offline.
 * When a node is removed, the other nodes wake the entities of its users ({@link NodeLeft}), so
 * this happens even for users nobody asks about. Offline entities passivate themselves after a while.
 */
public final class UserEntity extends EventSourcedBehavior<UserEntity.Command, UserEvent, UserState> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "User");

    /** How long a rebuilding entity waits for the directories of reachable nodes. */
    static final Duration REBUILD_TIMEOUT = Duration.ofSeconds(2);
    /** An offline entity with no sessions passivates after this long without a message. */
    static final Duration IDLE = Duration.ofMinutes(2);

    public sealed interface Command extends CborSerializable {}

    /** {@code tokenId} is the token the session's socket was opened with (directly or by a ticket). */
    public record SessionOpened(String sessionId, ActorRef<?> session, ActorRef<SessionDirectory.Request> directory,
                                String tokenId) implements Command {}

    /**
     * Sent by a live session every heartbeat interval. It names the session and its rooms, so an
     * entity that was re-created elsewhere (rebalance, node loss) learns them again.
     */
    public record Heartbeat(String sessionId, ActorRef<?> session, ActorRef<SessionDirectory.Request> directory,
                            List<String> rooms) implements Command {}

    public record SessionClosed(String sessionId) implements Command {}

    /**
     * {@code node} was removed from the cluster: its sessions are gone (sent by the other nodes, again
     * until {@link NodeLeftNoted} comes back: it wakes an entity that died with the node).
     */
    public record NodeLeft(Address node, ActorRef<NodeLeftNoted> replyTo) implements Command {}

    public record NodeLeftNoted(String user, Address node) implements CborSerializable {}

    public record TrackRoom(String room) implements Command {}

    /**
     * The user left {@code room} through session {@code bySession} (which has stopped receiving it
     * already). {@code replyTo} (nullable) hears whether the room was in the user's list.
     */
    public record UntrackRoom(String room, String bySession, ActorRef<Untracked> replyTo) implements Command {
        public UntrackRoom(String room, String bySession) {
            this(room, bySession, null);
        }
    }

    public record Untracked(String room, boolean wasListed) implements CborSerializable {}

    public record GetPresence(ActorRef<Presence> replyTo) implements Command {}

    /**
     * Whether the user has an account: a password, or a session ever opened (single sign-on users never
     * register). In accounts mode a DM with a name without one is not_found.
     */
    public record GetAccount(ActorRef<AccountExists> replyTo) implements Command {}

    public record AccountExists(String user, boolean exists) implements CborSerializable {}

    // ------------------------------------------------------------------ the user's rooms (version 1.1)

    /** A room of the user's and how far the user read it (0: not yet). */
    public record RoomMark(String room, long lastRead) implements CborSerializable {}

    /** Answered with the user's rooms, in name order. */
    public record GetRooms(ActorRef<RoomList> replyTo) implements Command {}

    public record RoomList(List<RoomMark> rooms) implements CborSerializable {}

    /**
     * Move the read marker of {@code room} to {@code seq}, which a session checked against the room's
     * {@code lastSeq} ({@code roomLastSeq}); never backwards. The other sessions of the user hear of a move.
     */
    public record MarkRead(String room, long seq, long roomLastSeq, String sessionId, ActorRef<ReadAnswer> replyTo)
        implements Command {}

    /** {@code error} null: the marker is now {@code seq}; else why not. */
    public record ReadAnswer(String room, long seq, ErrorCode error, String message) implements CborSerializable {}

    // ------------------------------------------------------------------ the account

    /** Creates the user's account with this Argon2id hash, unless it has one. */
    public record Register(String passwordHash, ActorRef<Registration> replyTo) implements Command {}

    public enum Registration implements CborSerializable { CREATED, TAKEN }

    /**
     * A login is about to check a password: answered with the account's hash (null: no account), or
     * with how long to wait when too many wrong passwords came for this name lately. The attempt counts
     * as a wrong password until {@link LoginSucceeded} says otherwise, so parallel guesses cannot
     * overrun the limit.
     */
    public record BeginLogin(ActorRef<LoginGate> replyTo) implements Command {}

    /** {@code retryAfterMs} > 0: refused, try again then. */
    public record LoginGate(String passwordHash, long attempt, long retryAfterMs) implements CborSerializable {}

    /** The password of {@code attempt} was right: it does not count against the name. */
    public record LoginSucceeded(long attempt) implements Command {}

    /**
     * May a socket open with this token (or a ticket of it, {@code ticketId} non-null, used at most
     * once; remembered until {@code ticketExpiresAt}, epoch ms)? {@code askId} names the admission:
     * the same ask sent again (its answer lost while the entity moved) is answered the same.
     */
    public record Admit(String tokenId, String ticketId, long ticketExpiresAt, String askId, ActorRef<Admission> replyTo)
        implements Command {}

    /** {@code reason} says why not, for the 401 body. */
    public record Admission(boolean admitted, String reason) implements CborSerializable {}

    /** Logout: the token is refused from now on (until {@code expiresAt}), and its open sockets are closed. */
    public record Revoke(String tokenId, long expiresAt, ActorRef<Revoked> replyTo) implements Command {}

    public record Revoked(String tokenId) implements CborSerializable {}

    /** A node's answer to {@link SessionDirectory.FindSessions}. */
    public record SessionsFound(ActorRef<SessionDirectory.Request> directory, List<SessionDirectory.FoundSession> sessions)
        implements Command {}

    /** {@code lastSeen} (epoch ms) is null while online or when never seen. */
    public record Presence(String user, PresenceStatus status, Long lastSeen) implements CborSerializable {}

    record SessionTerminated(String sessionId) implements Command {}

    record MembershipChanged(ClusterEvent.ClusterDomainEvent event) implements Command {}

    record DirectoriesListed(Set<ActorRef<SessionDirectory.Request>> directories) implements Command {}

    record PresenceConfirmed(RoomEntity.PresenceNoted noted) implements Command {}

    record DirectoriesToSignOut(String tokenId, Set<ActorRef<SessionDirectory.Request>> directories) implements Command {}

    enum Tick implements Command { CHECK_HEARTBEATS, REBUILD_TIMEOUT, IDLE, RESEND_PRESENCE }

    /** How often a presence notice no room confirmed yet is sent again, and for how long at most. */
    static final Duration PRESENCE_RESEND = Duration.ofSeconds(1);
    static final Duration PRESENCE_GIVE_UP = Duration.ofMinutes(2);
    /**
     * A room that confirmed a presence change and died right after may have lost its pushes to the
     * other nodes' hubs with it, and its new incarnation knows nothing of the change: changes
     * confirmed this recently are told again when a node is removed (a failover takes ≈ 6–8 s).
     */
    static final Duration PRESENCE_RETELL_WINDOW = Duration.ofSeconds(30);

    /** Wrong passwords for one name: at most {@code maxFailures} within {@code window}. */
    public record LoginLimit(int maxFailures, Duration window) {
        public static final LoginLimit DEFAULT = new LoginLimit(10, Duration.ofMinutes(1));
    }

    public static void init(ActorSystem<?> system, Duration heartbeat, LoginLimit loginLimit, RoomMembership membership) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
            entity -> create(entity.getEntityId(), heartbeat, loginLimit, membership, entity.getShard())));
    }

    /** {@code shard} may be null for an entity spawned outside sharding (tests): it then never passivates. */
    public static Behavior<Command> create(String user, Duration heartbeat, ActorRef<ClusterSharding.ShardCommand> shard) {
        return create(user, heartbeat, LoginLimit.DEFAULT, RoomMembership.NONE, shard);
    }

    public static Behavior<Command> create(String user, Duration heartbeat, LoginLimit loginLimit, RoomMembership membership,
                                           ActorRef<ClusterSharding.ShardCommand> shard) {
        return Behaviors.setup(context -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Tick.CHECK_HEARTBEATS, heartbeat);
            return new UserEntity(context, timers, user, heartbeat, loginLimit, membership, shard);
        }));
    }

    private record LiveSession(ActorRef<?> ref, ActorRef<SessionDirectory.Request> directory, Address node,
                               long lastHeartbeatNanos) {}

    private final ActorContext<Command> context;
    private final TimerScheduler<Command> timers;
    private final String user;
    private final long silenceBoundNanos;
    private final ActorRef<ClusterSharding.ShardCommand> shard;
    private final ClusterSharding sharding;
    private final Cluster cluster;
    private final ActorRef<ClusterEvent.ClusterDomainEvent> membership;

    // Not journaled: sessions and reachability are rebuilt from the nodes themselves.
    private final Map<String, LiveSession> sessions = new HashMap<>();
    private final Set<Address> unreachable = new HashSet<>();
    private boolean rebuilding;
    private int directoriesPending;
    private int sendShareNodes = 1;
    /** Presence notices not yet confirmed by their room, by room: sent again every PRESENCE_RESEND. */
    private final UntilConfirmed<String, Presence> unconfirmed = new UntilConfirmed<>(PRESENCE_GIVE_UP);
    /** Rooms whose confirmation came within PRESENCE_RETELL_WINDOW, and when (System.nanoTime). */
    private final Map<String, Long> recentlyConfirmed = new HashMap<>();
    private final ActorRef<RoomEntity.PresenceNoted> presenceNoted;
    // Not journaled either: a name's recent wrong passwords (attempt → epoch ms), and tickets used.
    private final LoginLimit loginLimit;
    private final RoomMembership roomMembership;
    /**
     * Rooms left lately (room → when): a heartbeat another session sent before it heard of the leave
     * must not put them back. Kept for {@link #STALE_HEARTBEAT}, in memory (a heartbeat is no older).
     */
    private final Map<String, Long> recentlyLeft = new HashMap<>();
    private final Map<Long, Long> failedLogins = new java.util.LinkedHashMap<>();
    private long attempts;
    private final Map<String, UsedTicket> usedTickets = new HashMap<>();

    private record UsedTicket(String askId, long expiresAt) {}

    private UserEntity(ActorContext<Command> context, TimerScheduler<Command> timers, String user, Duration heartbeat,
                       LoginLimit loginLimit, RoomMembership roomMembership, ActorRef<ClusterSharding.ShardCommand> shard) {
        super(PersistenceId.of(ENTITY_KEY.name(), user));
        this.context = context;
        this.roomMembership = roomMembership;
        this.timers = timers;
        this.user = user;
        this.silenceBoundNanos = heartbeat.toNanos() * 5 / 2;
        this.shard = shard;
        this.loginLimit = loginLimit;
        this.sharding = ClusterSharding.get(context.getSystem());
        this.cluster = Cluster.get(context.getSystem());
        this.membership = context.messageAdapter(ClusterEvent.ClusterDomainEvent.class, MembershipChanged::new);
        this.presenceNoted = context.messageAdapter(RoomEntity.PresenceNoted.class, PresenceConfirmed::new);
        cluster.subscriptions().tell(Subscribe.create(membership.<ClusterEvent.ReachabilityEvent>narrow(),
            ClusterEvent.ReachabilityEvent.class));
        cluster.subscriptions().tell(Subscribe.create(membership.<ClusterEvent.MemberRemoved>narrow(),
            ClusterEvent.MemberRemoved.class));
    }

    @Override
    public UserState emptyState() {
        return UserState.EMPTY;
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(100, 2);
    }

    @Override
    public SignalHandler<UserState> signalHandler() {
        return newSignalHandlerBuilder()
            .onSignal(RecoveryCompleted.instance(), state -> {
                if (state.online()) {
                    startRebuild();
                } else {
                    timers.startSingleTimer(Tick.IDLE, IDLE);
                }
            })
            .onSignal(PostStop.instance(), state -> cluster.subscriptions().tell(new Unsubscribe(membership)))
            .build();
    }

    @Override
    public EventHandler<UserState, UserEvent> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onAnyEvent(UserState::apply);
    }

    @Override
    public CommandHandler<Command, UserEvent, UserState> commandHandler() {
        return newCommandHandlerBuilder().forAnyState()
            .onCommand(SessionOpened.class, (state, opened) -> {
                if (state.isRevoked(opened.tokenId())) {
                    // Admitted just before its token was signed out, and spawned after the sign-out looked.
                    opened.directory().tell(new SessionDirectory.SignOut(user, opened.tokenId()));
                }
                addSession(opened.sessionId(), opened.session(), opened.directory());
                return reconcile(state);
            })
            .onCommand(Heartbeat.class, (state, beat) -> {
                addSession(beat.sessionId(), beat.session(), beat.directory());
                forgetOldLeaves();
                List<UserEvent> tracked = beat.rooms().stream().distinct()
                    .filter(room -> !state.rooms().contains(room) && !recentlyLeft.containsKey(room))
                    .<UserEvent>map(UserEvent.RoomTracked::new)
                    .toList();
                return tracked.isEmpty() ? reconcile(state) : reconcile(state, tracked).thenRun(after -> {
                    tracked.forEach(event -> roomMembership.joined(((UserEvent.RoomTracked) event).room(), user));
                    announceRooms(after, null, null);
                });
            })
            .onCommand(SessionClosed.class, (state, closed) -> removeSession(state, closed.sessionId()))
            .onCommand(SessionTerminated.class, (state, gone) -> removeSession(state, gone.sessionId()))
            .onCommand(NodeLeft.class, (state, left) -> {
                left.replyTo().tell(new NodeLeftNoted(user, left.node()));
                dropSessions(session -> session.node().equals(left.node()));
                return reconcile(state);
            })
            .onCommand(SessionsFound.class, this::onSessionsFound)
            .onCommand(DirectoriesListed.class, this::onDirectoriesListed)
            .onCommand(DirectoriesToSignOut.class, (state, signOut) -> {
                // The nodes of the sessions we know, and any other the receptionist lists (right after a
                // node starts its listing may still be empty).
                Set<ActorRef<SessionDirectory.Request>> directories = new HashSet<>(signOut.directories());
                sessions.values().forEach(session -> directories.add(session.directory()));
                directories.forEach(directory -> directory.tell(new SessionDirectory.SignOut(user, signOut.tokenId())));
                return Effect().none();
            })
            .onCommand(MembershipChanged.class, this::onMembershipChanged)
            .onCommand(TrackRoom.class, this::onTrackRoom)
            .onCommand(UntrackRoom.class, (state, untrack) -> {
                unconfirmed.remove(untrack.room());
                recentlyLeft.put(untrack.room(), System.nanoTime());
                if (!state.rooms().contains(untrack.room())) {
                    answer(untrack, false);
                    return Effect().none();
                }
                return Effect().persist(new UserEvent.RoomUntracked(untrack.room()))
                    .thenRun(after -> {
                        roomMembership.left(untrack.room(), user);
                        announceRooms(after, untrack.room(), untrack.bySession());
                        answer(untrack, true);
                    });
            })
            .onCommand(PresenceConfirmed.class, (state, confirmed) -> {
                RoomEntity.PresenceNoted noted = confirmed.noted();
                if (unconfirmed.confirm(noted.room(), presence -> presence.status() == noted.status()
                    && Objects.equals(presence.lastSeen(), noted.lastSeen()))) {
                    recentlyConfirmed.put(noted.room(), System.nanoTime());
                }
                scheduleIdleIfAlone(state);
                return Effect().none();
            })
            .onCommand(GetAccount.class, (state, get) -> {
                // A password, or a session ever opened: users of single sign-on (OIDC) never register.
                boolean exists = state.hasAccount() || state.online() || state.lastSeen() != null || !sessions.isEmpty();
                get.replyTo().tell(new AccountExists(user, exists));
                passivateIfNeverUsed(state);
                return Effect().none();
            })
            .onCommand(GetRooms.class, (state, get) -> {
                get.replyTo().tell(new RoomList(marks(state)));
                scheduleIdleIfAlone(state);
                return Effect().none();
            })
            .onCommand(MarkRead.class, this::onMarkRead)
            .onCommand(GetPresence.class, (state, get) -> {
                if (rebuilding) {
                    return Effect().stash(); // answered once we know whether any session is left
                }
                get.replyTo().tell(presence(state));
                passivateIfNeverUsed(state);
                return Effect().none();
            })
            .onCommand(Register.class, (state, register) -> {
                if (state.hasAccount()) {
                    register.replyTo().tell(Registration.TAKEN);
                    return Effect().none();
                }
                return Effect().persist(new UserEvent.AccountCreated(register.passwordHash(), System.currentTimeMillis()))
                    .thenRun(after -> register.replyTo().tell(Registration.CREATED));
            })
            .onCommand(BeginLogin.class, this::onBeginLogin)
            .onCommand(LoginSucceeded.class, (state, succeeded) -> {
                failedLogins.remove(succeeded.attempt());
                return Effect().none();
            })
            .onCommand(Admit.class, this::onAdmit)
            .onCommand(Revoke.class, this::onRevoke)
            .onCommand(Tick.class, this::onTick)
            .build();
    }

    // ------------------------------------------------------------------ the user's rooms

    private Effect<UserEvent, UserState> onMarkRead(UserState state, MarkRead mark) {
        String room = mark.room();
        if (!state.rooms().contains(room)) {
            mark.replyTo().tell(new ReadAnswer(room, 0, ErrorCode.NOT_FOUND, room + " is not one of your rooms"));
            return Effect().none();
        }
        if (mark.seq() > mark.roomLastSeq()) {
            mark.replyTo().tell(new ReadAnswer(room, 0, ErrorCode.INVALID,
                "seq " + mark.seq() + " is beyond the room's lastSeq " + mark.roomLastSeq()));
            return Effect().none();
        }
        long stored = state.lastRead(room);
        if (mark.seq() <= stored) {
            // Never backwards: the stored value is the answer, and nobody else hears of it.
            mark.replyTo().tell(new ReadAnswer(room, stored, null, null));
            return Effect().none();
        }
        return Effect().persist(new UserEvent.ReadMarked(room, mark.seq())).thenRun(after -> {
            mark.replyTo().tell(new ReadAnswer(room, mark.seq(), null, null));
            directories().forEach(directory ->
                directory.tell(new SessionDirectory.ReadMoved(user, room, mark.seq(), mark.sessionId())));
        });
    }

    /** A heartbeat is sent every heartbeat interval; one this much older than a leave cannot be in flight. */
    static final Duration STALE_HEARTBEAT = Duration.ofSeconds(60);

    private void forgetOldLeaves() {
        long horizon = System.nanoTime() - STALE_HEARTBEAT.toNanos();
        recentlyLeft.values().removeIf(at -> at - horizon < 0);
    }

    private static List<RoomMark> marks(UserState state) {
        return state.rooms().stream().map(room -> new RoomMark(room, state.lastRead(room))).toList();
    }

    /**
     * Every node with a session of the user pushes the new list to them ({@code left}: a room every
     * session but {@code bySession}, which left it, stops receiving).
     */
    private void announceRooms(UserState state, String left, String bySession) {
        List<RoomMark> marks = marks(state);
        directories().forEach(directory -> directory.tell(new SessionDirectory.RoomsChanged(user, marks, left, bySession)));
    }

    /** The directories of the nodes that hold the user's live sessions. */
    private Set<ActorRef<SessionDirectory.Request>> directories() {
        Set<ActorRef<SessionDirectory.Request>> directories = new HashSet<>();
        sessions.values().forEach(session -> directories.add(session.directory()));
        return directories;
    }

    // ------------------------------------------------------------------ the account

    private Effect<UserEvent, UserState> onBeginLogin(UserState state, BeginLogin begin) {
        long now = System.currentTimeMillis();
        long windowMs = loginLimit.window().toMillis();
        failedLogins.values().removeIf(at -> at <= now - windowMs);
        if (failedLogins.size() >= loginLimit.maxFailures()) {
            long oldest = failedLogins.values().iterator().next();
            begin.replyTo().tell(new LoginGate(null, 0, Math.max(1, oldest + windowMs - now)));
        } else {
            long attempt = ++attempts;
            failedLogins.put(attempt, now);
            begin.replyTo().tell(new LoginGate(state.passwordHash(), attempt, 0));
        }
        scheduleIdleIfAlone(state);
        return Effect().none();
    }

    private Effect<UserEvent, UserState> onAdmit(UserState state, Admit admit) {
        Admission answer;
        if (state.isRevoked(admit.tokenId())) {
            answer = new Admission(false, "signed out: log in again");
        } else if (admit.ticketId() != null) {
            long now = System.currentTimeMillis();
            usedTickets.values().removeIf(used -> used.expiresAt() <= now);
            UsedTicket used = usedTickets.putIfAbsent(admit.ticketId(), new UsedTicket(admit.askId(), admit.ticketExpiresAt()));
            answer = used == null || used.askId().equals(admit.askId())
                ? new Admission(true, null)
                : new Admission(false, "ticket already used: ask POST /api/ticket for another");
        } else {
            answer = new Admission(true, null);
        }
        admit.replyTo().tell(answer);
        scheduleIdleIfAlone(state);
        return Effect().none();
    }

    private Effect<UserEvent, UserState> onRevoke(UserState state, Revoke revoke) {
        if (state.isRevoked(revoke.tokenId())) {
            signOut(revoke.tokenId());
            revoke.replyTo().tell(new Revoked(revoke.tokenId()));
            return Effect().none();
        }
        return Effect().persist(new UserEvent.TokenRevoked(revoke.tokenId(), revoke.expiresAt(), System.currentTimeMillis()))
            .thenRun(after -> {
                signOut(revoke.tokenId());
                revoke.replyTo().tell(new Revoked(revoke.tokenId()));
            });
    }

    /** Every node closes the user's sockets opened with the token (its directory knows which). */
    private void signOut(String tokenId) {
        // An ask, not an adapter: the rebuild's adapter for listings must stay the only one.
        context.ask(Receptionist.Listing.class, context.getSystem().receptionist(), REBUILD_TIMEOUT,
            replyTo -> Receptionist.find(SessionDirectory.KEY, replyTo),
            (listing, failure) -> new DirectoriesToSignOut(tokenId,
                listing == null ? Set.of() : listing.getServiceInstances(SessionDirectory.KEY)));
    }

    // ------------------------------------------------------------------ sessions and membership

    private void addSession(String sessionId, ActorRef<?> ref, ActorRef<SessionDirectory.Request> directory) {
        LiveSession before = sessions.put(sessionId, new LiveSession(ref, directory, nodeOf(ref), System.nanoTime()));
        if (before == null) {
            context.watchWith(ref, new SessionTerminated(sessionId));
        }
    }

    private void dropSessions(Predicate<LiveSession> gone) {
        sessions.values().removeIf(session -> {
            if (gone.test(session)) {
                context.unwatch(session.ref());
                return true;
            }
            return false;
        });
    }

    private Effect<UserEvent, UserState> removeSession(UserState state, String sessionId) {
        LiveSession removed = sessions.remove(sessionId);
        if (removed != null) {
            context.unwatch(removed.ref());
        }
        return reconcile(state);
    }

    private Effect<UserEvent, UserState> onMembershipChanged(UserState state, MembershipChanged changed) {
        ClusterEvent.ClusterDomainEvent event = changed.event();
        if (event instanceof ClusterEvent.UnreachableMember member) {
            unreachable.add(member.member().address());
        } else if (event instanceof ClusterEvent.ReachableMember member) {
            unreachable.remove(member.member().address());
        } else if (event instanceof ClusterEvent.MemberRemoved removed) {
            // A removed node's sessions are gone with it: drop them before it stops counting as
            // unreachable, or its users would count online again until NodeLeft came (or for good, had
            // that been lost). A node that comes back on the same host and port is a new member whose
            // sessions announce themselves again (SessionOpened, heartbeats).
            Address gone = removed.member().address();
            dropSessions(session -> session.node().equals(gone));
            unreachable.remove(gone);
            return reconcile(state).thenRun(this::retellRecentPresence);
        }
        return reconcile(state);
    }

    private Effect<UserEvent, UserState> onTick(UserState state, Tick tick) {
        switch (tick) {
            case CHECK_HEARTBEATS -> {
                long now = System.nanoTime();
                dropSessions(session -> now - session.lastHeartbeatNanos() > silenceBoundNanos);
                return reconcile(state);
            }
            case REBUILD_TIMEOUT -> {
                return rebuilding ? finishRebuild(state) : Effect().none();
            }
            case RESEND_PRESENCE -> {
                resendPresence();
                return Effect().none();
            }
            default -> {
                if (!state.online() && sessions.isEmpty() && unconfirmed.isEmpty() && shard != null) {
                    shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
                }
                return Effect().none();
            }
        }
    }

    // ------------------------------------------------------------------ rebuilding after a move

    private void startRebuild() {
        context.getLog().debug("User {} restarted while online: asking the live nodes for its sessions", user);
        rebuilding = true;
        timers.startSingleTimer(Tick.REBUILD_TIMEOUT, REBUILD_TIMEOUT);
        ActorRef<Receptionist.Listing> listed = context.messageAdapter(Receptionist.Listing.class,
            listing -> new DirectoriesListed(listing.getServiceInstances(SessionDirectory.KEY)));
        context.getSystem().receptionist().tell(Receptionist.find(SessionDirectory.KEY, listed));
    }

    private Effect<UserEvent, UserState> onDirectoriesListed(UserState state, DirectoriesListed listed) {
        if (!rebuilding) {
            return Effect().none();
        }
        // Only members that can answer: the listing may still name a node that died or was removed.
        Set<Address> live = new HashSet<>();
        cluster.state().getMembers().forEach(member -> live.add(member.address()));
        cluster.state().getUnreachable().forEach(member -> live.remove(member.address()));
        List<ActorRef<SessionDirectory.Request>> reachable = listed.directories().stream()
            .filter(directory -> live.contains(nodeOf(directory)))
            .toList();
        directoriesPending = reachable.size();
        reachable.forEach(directory -> directory.tell(new SessionDirectory.FindSessions(user, context.getSelf())));
        return directoriesPending == 0 ? finishRebuild(state) : Effect().none();
    }

    private Effect<UserEvent, UserState> onSessionsFound(UserState state, SessionsFound found) {
        found.sessions().forEach(session -> addSession(session.sessionId(), session.session(), found.directory()));
        if (rebuilding && --directoriesPending <= 0) {
            return finishRebuild(state);
        }
        return reconcile(state);
    }

    private Effect<UserEvent, UserState> finishRebuild(UserState state) {
        context.getLog().debug("User {} rebuilt: {} sessions ({} directories did not answer)", user, sessions.size(),
            Math.max(0, directoriesPending));
        rebuilding = false;
        timers.cancel(Tick.REBUILD_TIMEOUT);
        return reconcile(state).thenUnstashAll();
    }

    // ------------------------------------------------------------------ presence

    private Effect<UserEvent, UserState> onTrackRoom(UserState state, TrackRoom track) {
        if (rebuilding) {
            return Effect().stash();
        }
        recentlyLeft.remove(track.room()); // joined (or written to) again: that is no stale heartbeat
        if (state.rooms().contains(track.room())) {
            return Effect().none();
        }
        // A room counts a joining user online. When the user is offline by now (the session's death
        // watch notice came straight here and overtook this message, which travels through the shard
        // region), tell it otherwise.
        return Effect().persist(new UserEvent.RoomTracked(track.room())).thenRun(now -> {
            if (!now.online() && now.lastSeen() != null) {
                tellRoom(track.room(), presence(now));
            }
            roomMembership.joined(track.room(), user);
            announceRooms(now, null, null);
        });
    }

    private EffectBuilder<UserEvent, UserState> reconcile(UserState state) {
        return reconcile(state, List.of());
    }

    /**
     * Journals {@code others} and a change of presence, if any, and then tells the user's rooms of
     * the change; keeps each node's send share right.
     */
    private EffectBuilder<UserEvent, UserState> reconcile(UserState state, List<UserEvent> others) {
        List<UserEvent> events = new ArrayList<>(others);
        boolean changes = false;
        if (!rebuilding) {
            updateSendShares();
            boolean online = sessions.values().stream().anyMatch(this::counts);
            if (online != state.online()) {
                long now = System.currentTimeMillis();
                events.add(online ? new UserEvent.CameOnline(now) : new UserEvent.WentOffline(now));
                changes = true;
            }
        }
        if (events.isEmpty()) {
            scheduleIdleIfAlone(state);
            return Effect().none();
        }
        boolean announce = changes;
        return Effect().persist(events).thenRun(after -> {
            if (announce) {
                Presence presence = presence(after);
                context.getLog().debug("User {} is {} ({} sessions counted of {}), telling rooms {}", user,
                    presence.status(), sessions.values().stream().filter(this::counts).count(), sessions.size(), after.rooms());
                after.rooms().forEach(room -> tellRoom(room, presence));
            }
            scheduleIdleIfAlone(after);
        });
    }

    /**
     * A name nobody ever used, asked about (presence, account): keep nothing for it (a presence query
     * for 20,000 made-up names used to leave 20,000 entities for two minutes).
     */
    private void passivateIfNeverUsed(UserState state) {
        if (state.equals(UserState.EMPTY) && sessions.isEmpty() && unconfirmed.isEmpty() && shard != null) {
            shard.tell(new ClusterSharding.Passivate<>(context.getSelf()));
        } else {
            scheduleIdleIfAlone(state);
        }
    }

    private void scheduleIdleIfAlone(UserState state) {
        if (!state.online() && sessions.isEmpty() && unconfirmed.isEmpty()) {
            timers.startSingleTimer(Tick.IDLE, IDLE);
        } else {
            timers.cancel(Tick.IDLE);
        }
    }

    private boolean counts(LiveSession session) {
        return !unreachable.contains(session.node());
    }

    /** The user's send budget is split evenly over the nodes that hold the user's live sessions. */
    private void updateSendShares() {
        Map<Address, ActorRef<SessionDirectory.Request>> nodes = new HashMap<>();
        sessions.values().stream().filter(this::counts).forEach(session -> nodes.put(session.node(), session.directory()));
        int count = Math.max(1, nodes.size());
        if (count != sendShareNodes) {
            sendShareNodes = count;
            nodes.values().forEach(directory -> directory.tell(new SessionDirectory.SetSendShare(user, count)));
        }
    }

    private static void answer(UntrackRoom untrack, boolean wasListed) {
        if (untrack.replyTo() != null) {
            untrack.replyTo().tell(new Untracked(untrack.room(), wasListed));
        }
    }

    private Presence presence(UserState state) {
        return state.online()
            ? new Presence(user, PresenceStatus.ONLINE, null)
            : new Presence(user, PresenceStatus.OFFLINE, state.lastSeen());
    }

    /** Tells the room, and again every PRESENCE_RESEND until it confirms (or a newer notice replaces it). */
    private void tellRoom(String room, Presence presence) {
        unconfirmed.put(room, presence, System.nanoTime());
        sendNotice(room, presence);
        if (!timers.isTimerActive(Tick.RESEND_PRESENCE)) {
            timers.startSingleTimer(Tick.RESEND_PRESENCE, PRESENCE_RESEND);
        }
    }

    /** See PRESENCE_RETELL_WINDOW: the current presence again to the rooms that confirmed a change lately. */
    private void retellRecentPresence(UserState state) {
        long horizon = System.nanoTime() - PRESENCE_RETELL_WINDOW.toNanos();
        Presence now = presence(state);
        recentlyConfirmed.forEach((room, confirmedAt) -> {
            if (confirmedAt - horizon >= 0 && state.rooms().contains(room)) {
                tellRoom(room, now);
            }
        });
        recentlyConfirmed.clear();
    }

    private void sendNotice(String room, Presence presence) {
        sharding.entityRefFor(RoomEntity.ENTITY_KEY, room)
            .tell(new RoomEntity.PresenceChanged(user, presence.status(), presence.lastSeen(), presenceNoted));
    }

    private void resendPresence() {
        unconfirmed.expire(System.nanoTime());
        unconfirmed.forEach(this::sendNotice);
        if (!unconfirmed.isEmpty()) {
            timers.startSingleTimer(Tick.RESEND_PRESENCE, PRESENCE_RESEND);
        }
    }

    private Address nodeOf(ActorRef<?> ref) {
        Address address = ref.path().address();
        return address.hasGlobalScope() ? address : cluster.selfMember().address();
    }
}
