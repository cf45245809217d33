package dev.pulse.node.room;

import dev.pulse.node.CborSerializable;
import dev.pulse.node.metrics.JournalMetrics;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.Names;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * A chat room: sharded and event-sourced. Persist, then ack, then fan out — one message per
 * subscriber (a node's hub), never one per member. Posts that arrive while a journal write is in
 * flight are written together in one {@code persist(List)}, so a hot room is not capped at one
 * round trip per message.
 *
 * <p>Replies are enforced, but three commands answer later than their command handler returns
 * ({@code noReply} there, the answer told explicitly): {@link Post} when its batch is committed
 * (after {@link Flush}), and {@link GetHistory} and {@link GetRange} when the page lies beyond the
 * in-memory window and is read from the journal.
 */
public final class RoomEntity extends EventSourcedBehaviorWithEnforcedReplies<RoomEntity.Command, RoomEvent, RoomState> {

    public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Room");

    // ------------------------------------------------------------------ protocol

    public sealed interface Command extends CborSerializable {}

    /**
     * Post a message; answered with {@link Posted} once it is committed. {@code tag} is the
     * sender's correlation number, echoed in the answer, so a session can take every answer
     * through one message adapter instead of an ask (a future and a scheduled timeout) per post.
     */
    public record Post(String user, String id, String text, long tag, ActorRef<PostResult> replyTo) implements Command {}

    /** A member joins through its node's subscriber; {@code since} (nullable) is checked against lastSeq. */
    public record Join(String user, Long since, ActorRef<RoomFeed> subscriber, ActorRef<JoinResult> replyTo) implements Command {}

    public record Leave(String user) implements Command {}

    /** A hub (re-)registers, from its periodic refresh; {@code knownSeq} < 0 when it has seen nothing yet. */
    public record Subscribe(ActorRef<RoomFeed> subscriber, long knownSeq) implements Command {}

    public record Unsubscribe(ActorRef<RoomFeed> subscriber) implements Command {}

    /** The page of {@code limit} messages before {@code before} (null: newest). */
    public record GetHistory(Long before, int limit, ActorRef<ReadResult> replyTo) implements Command {}

    /** Messages {@code from..to} inclusive (clamped to lastSeq). */
    public record GetRange(long from, long to, ActorRef<ReadResult> replyTo) implements Command {}

    public record Typing(String user) implements Command {}

    /**
     * Version 1.1, for the user's {@code rooms} frame and read markers: the room's lastSeq, and how many
     * of its messages after {@code lastRead} mention {@code user} (counted within the window).
     */
    public record GetSummary(String user, long lastRead, ActorRef<Summary> replyTo) implements Command {}

    public record Summary(long lastSeq, long mentions) implements CborSerializable {}

    /**
     * From a member's user entity; {@code lastSeen} (epoch ms) is null while online. Answered with
     * {@link PresenceNoted} when {@code replyTo} is set: the user entity sends it again until then, as
     * a notice sent to a room whose node just died is lost.
     */
    public record PresenceChanged(String user, PresenceStatus status, Long lastSeen, ActorRef<PresenceNoted> replyTo)
        implements Command {}

    public record PresenceNoted(String room, PresenceStatus status, Long lastSeen) implements CborSerializable {}

    record Flush() implements Command {}

    /** The durable member list, read when the room started; joins wait for it. */
    record RosterLoaded(List<Member> members) implements Command {}

    record SubscriberTerminated(ActorRef<RoomFeed> subscriber) implements Command {}

    /** Messages a returning subscriber missed that are older than the window, read from the journal. */
    record CatchUpRead(ActorRef<RoomFeed> subscriber, List<StoredMessage> messages, long readTo) implements Command {}

    public sealed interface PostResult extends CborSerializable {
        /** The {@link Post#tag()} this answers. */
        long tag();
    }

    public record Posted(long tag, String id, long seq, long ts) implements PostResult {}

    public record PostRejected(long tag, ErrorCode code, String message) implements PostResult {}

    public sealed interface JoinResult extends CborSerializable {}

    public record Joined(long lastSeq, List<Member> members) implements JoinResult {}

    public record JoinRejected(ErrorCode code, String message) implements JoinResult {}

    public sealed interface ReadResult extends CborSerializable {}

    /** Messages ascending by seq; {@code hasMore} when older ones exist. */
    public record Messages(List<StoredMessage> messages, boolean hasMore, long lastSeq) implements ReadResult {}

    public record ReadFailed(String message) implements ReadResult {}

    // ------------------------------------------------------------------ wiring

    public static void init(ActorSystem<?> system, RoomSettings settings, HistoryReader reader, JournalMetrics metrics,
                            DirectMessages directMessages, MemberRoster roster) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, entity -> create(entity.getEntityId(),
            PersistenceId.of(entity.getEntityTypeKey().name(), entity.getEntityId()), settings, reader, metrics, directMessages,
            roster)));
    }

    public static Behavior<Command> create(String roomId, PersistenceId persistenceId, RoomSettings settings,
                                           HistoryReader reader, JournalMetrics metrics) {
        return create(roomId, persistenceId, settings, reader, metrics, DirectMessages.NONE);
    }

    public static Behavior<Command> create(String roomId, PersistenceId persistenceId, RoomSettings settings,
                                           HistoryReader reader, JournalMetrics metrics, DirectMessages directMessages) {
        return create(roomId, persistenceId, settings, reader, metrics, directMessages, MemberRoster.NONE);
    }

    public static Behavior<Command> create(String roomId, PersistenceId persistenceId, RoomSettings settings,
                                           HistoryReader reader, JournalMetrics metrics, DirectMessages directMessages,
                                           MemberRoster roster) {
        return Behaviors.setup(context -> new RoomEntity(context, roomId, persistenceId, settings, reader, metrics,
            directMessages, roster));
    }

    // ------------------------------------------------------------------ behaviour

    private final ActorContext<Command> context;
    private final String roomId;
    private final String persistenceId;
    private final RoomSettings settings;
    private final HistoryReader reader;
    private final RemoteBudget budget;
    private final JournalMetrics metrics;
    private final DirectMessages directMessages;
    private final MemberRoster roster;
    /** The two users of a DM room; empty for a public room. */
    private final List<String> dmParticipants;

    // Not journaled: rebuilt as subscribers and members come back after a restart.
    private final Set<ActorRef<RoomFeed>> subscribers = new HashSet<>();
    private final Map<String, Member> members = new TreeMap<>();
    /** Members who left since this incarnation started: late presence news must not bring them back. */
    private final Set<String> left = new HashSet<>();
    private final PostBatch posts = new PostBatch();
    /** Whether the durable member list is in {@link #members}: until then joins wait (stashed). */
    private boolean rosterLoaded;
    /** When this incarnation started, for the recovery time in the log (failover and hand-off analysis). */
    private final long startedAtNanos = System.nanoTime();
    private RoomEntity(ActorContext<Command> context, String roomId, PersistenceId persistenceId,
                       RoomSettings settings, HistoryReader reader, JournalMetrics metrics, DirectMessages directMessages,
                       MemberRoster roster) {
        super(persistenceId, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
        this.context = context;
        this.roomId = roomId;
        this.persistenceId = persistenceId.id();
        this.settings = settings;
        this.reader = reader;
        this.budget = new RemoteBudget(settings.remoteBytes());
        this.metrics = metrics;
        this.directMessages = directMessages;
        this.roster = roster;
        this.dmParticipants = Names.dmParticipants(roomId).orElse(List.of());
    }

    @Override
    public RoomState emptyState() {
        return RoomState.emptyTemplate();
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        // Events are never deleted: they are the history. Snapshots only shorten recovery.
        return RetentionCriteria.snapshotEvery(settings.snapshotEvery(), 2);
    }

    /** The snapshot store serializes on its own thread: hand it a copy, never the live state. */
    @Override
    public SnapshotAdapter<RoomState> snapshotAdapter() {
        return new SnapshotAdapter<>() {
            @Override
            public Object toJournal(RoomState state) {
                return state.copy();
            }

            @Override
            public RoomState fromJournal(Object snapshot) {
                return (RoomState) snapshot;
            }
        };
    }

    @Override
    public SignalHandler<RoomState> signalHandler() {
        return newSignalHandlerBuilder()
            .onSignal(PreRestart.class, (state, restart) -> {
                // The room restarts after a failed journal write (or a failed recovery, counted below).
                if (posts.writeInFlight()) {
                    metrics.writeFailed();
                }
                posts.rejectAll();
            })
            .onSignal(RecoveryFailed.class, (state, failed) -> metrics.recoveryFailed())
            .onSignal(PostStop.class, (state, stop) -> posts.rejectAll())
            .onSignal(RecoveryCompleted.instance(), state -> {
                context.getLog().debug("Room {} recovered at seq {} in {} ms", roomId, state.lastSeq(),
                    (System.nanoTime() - startedAtNanos) / 1_000_000);
                // After a failed write the stash (and any Flush in it) is gone: start a fresh batch.
                if (posts.resumeAfterRecovery()) {
                    context.getSelf().tell(new Flush());
                }
                if (!rosterLoaded) {
                    context.pipeToSelf(roster.load(roomId),
                        (members, failure) -> new RosterLoaded(failure == null ? members : List.of()));
                }
            })
            .build();
    }

    @Override
    public CommandHandlerWithReply<Command, RoomEvent, RoomState> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
            .onCommand(Post.class, this::onPost)
            .onCommand(Flush.class, this::onFlush)
            .onCommand(Join.class, this::onJoin)
            .onCommand(RosterLoaded.class, this::onRosterLoaded)
            .onCommand(Leave.class, (state, leave) -> {
                if (members.remove(leave.user()) != null) {
                    tellSubscribers(new RoomFeed.MemberChanged(leave.user(), false));
                }
                left.add(leave.user());
                return Effect().noReply();
            })
            .onCommand(Subscribe.class, this::onSubscribe)
            .onCommand(Unsubscribe.class, (state, unsubscribe) -> {
                removeSubscriber(unsubscribe.subscriber());
                return Effect().noReply();
            })
            .onCommand(CatchUpRead.class, this::onCatchUpRead)
            .onCommand(SubscriberTerminated.class, (state, gone) -> {
                removeSubscriber(gone.subscriber());
                return Effect().noReply();
            })
            .onCommand(GetHistory.class, this::onGetHistory)
            .onCommand(GetRange.class, (state, get) -> {
                long to = Math.min(get.to(), state.lastSeq());
                reply(read(state, get.from(), to, get.from() > 1, budget::oldest), get.replyTo());
                return Effect().noReply();
            })
            .onCommand(Typing.class, (state, typing) -> {
                RoomFeed.Typing notice = new RoomFeed.Typing(typing.user());
                subscribers.forEach(subscriber -> subscriber.tell(notice));
                return Effect().noReply();
            })
            .onCommand(PresenceChanged.class, this::onPresenceChanged)
            .onCommand(GetSummary.class, (state, get) -> Effect().reply(get.replyTo(),
                new Summary(state.lastSeq(), state.mentionsAfter(get.user(), get.lastRead()))))
            .build();
    }

    @Override
    public EventHandler<RoomState, RoomEvent> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
            .onEvent(RoomEvent.MessagePosted.class,
                (state, posted) -> state.apply(posted, settings.window(), settings.rememberedIds()))
            .build();
    }

    private ReplyEffect<RoomEvent, RoomState> onPost(RoomState state, Post post) {
        RoomState.Committed committed = state.committed(post.user(), post.id());
        if (committed != null) {
            // A retry of a committed post: the same ack, and no second message.
            return Effect().reply(post.replyTo(), new Posted(post.tag(), post.id(), committed.seq(), committed.ts()));
        }
        if (posts.add(post)) {
            // Everything that reaches the mailbox before this Flush is written in the same batch.
            context.getSelf().tell(new Flush());
        }
        return Effect().noReply();
    }

    private ReplyEffect<RoomEvent, RoomState> onFlush(RoomState state, Flush flush) {
        long ts = Math.max(System.currentTimeMillis(), state.lastTs());
        List<RoomEvent> events = posts.startWrite(ts);
        if (events.isEmpty()) {
            return Effect().noReply();
        }
        long started = System.nanoTime();
        return Effect().persist(events).thenRun(committed -> {
            metrics.written(started, events.size());
            for (List<StoredMessage> part : budget.chunks(posts.committed(committed.lastSeq(), ts))) {
                RoomFeed.Published publish = new RoomFeed.Published(part);
                subscribers.forEach(subscriber -> subscriber.tell(publish));
            }
            // A DM room is in both users' lists once it holds a message, so it reaches a recipient who
            // never opened it (their user entity pushes a rooms frame; nothing is journaled twice).
            dmParticipants.forEach(participant -> directMessages.holdsMessageFor(roomId, participant));
        }).thenNoReply();
    }

    private ReplyEffect<RoomEvent, RoomState> onJoin(RoomState state, Join join) {
        if (!rosterLoaded) {
            return Effect().stash(); // joined.members must list who joined before the room last stopped
        }
        if (join.since() != null && join.since() > state.lastSeq()) {
            return Effect().reply(join.replyTo(), new JoinRejected(ErrorCode.INVALID,
                "since " + join.since() + " is beyond the room's lastSeq " + state.lastSeq()));
        }
        addSubscriber(join.subscriber());
        forgetLongGoneMembers();
        boolean newMember = members.put(join.user(), Member.online(join.user())) == null;
        left.remove(join.user());
        if (newMember) {
            tellSubscribers(new RoomFeed.MemberChanged(join.user(), true));
        }
        return Effect().reply(join.replyTo(), new Joined(state.lastSeq(), List.copyOf(members.values())));
    }

    private ReplyEffect<RoomEvent, RoomState> onRosterLoaded(RoomState state, RosterLoaded loaded) {
        if (!rosterLoaded) {
            rosterLoaded = true;
            // Whatever this incarnation heard meanwhile (a join, a leave, a presence notice) is newer.
            loaded.members().stream()
                .filter(member -> !left.contains(member.user()))
                .forEach(member -> members.putIfAbsent(member.user(), member));
            context.getLog().debug("Room {}: {} members from its roster", roomId, loaded.members().size());
        }
        return Effect().noReply().thenUnstashAll();
    }

    private ReplyEffect<RoomEvent, RoomState> onSubscribe(RoomState state, Subscribe subscribe) {
        ActorRef<RoomFeed> subscriber = subscribe.subscriber();
        if (subscribers.contains(subscriber)) {
            return Effect().noReply();
        }
        // A subscriber we lost (we restarted, or it is new): first the messages it missed, then live ones.
        long from = subscribe.knownSeq() + 1;
        // Subscribe comes from a hub's refresh, seconds after a join subscribed it: a hub we do not
        // know is one we lost in a restart (even one that never saw a message, knownSeq -1).
        // Members who went offline meanwhile (their user entities told us, maybe before this
        // subscriber came back) must reach it too.
        forgetLongGoneMembers();
        members.values().stream()
            .filter(member -> member.status() == PresenceStatus.OFFLINE)
            .forEach(member -> subscriber.tell(new RoomFeed.PresenceChanged(member.user(), member.status(), member.lastSeen())));
        if (subscribe.knownSeq() < 0 || from > state.lastSeq()) {
            addSubscriber(subscriber);
        } else if (from >= state.windowStart()) {
            publishTo(subscriber, state.windowSlice(from, state.lastSeq()));
            addSubscriber(subscriber);
        } else {
            // Older than the window: read the journal; the subscriber stays unregistered (and retries) until then.
            long readTo = state.lastSeq();
            context.pipeToSelf(reader.read(persistenceId, from, readTo),
                (messages, failure) -> new CatchUpRead(subscriber, failure == null ? messages : null, readTo));
        }
        return Effect().noReply();
    }

    private ReplyEffect<RoomEvent, RoomState> onCatchUpRead(RoomState state, CatchUpRead read) {
        if (read.messages() == null || subscribers.contains(read.subscriber())) {
            return Effect().noReply();
        }
        if (read.readTo() + 1 < state.windowStart()) {
            return Effect().noReply(); // the room moved on past the window meanwhile; the subscriber asks again
        }
        List<StoredMessage> missed = new ArrayList<>(read.messages());
        if (state.lastSeq() > read.readTo()) {
            missed.addAll(state.windowSlice(read.readTo() + 1, state.lastSeq()));
        }
        publishTo(read.subscriber(), missed);
        addSubscriber(read.subscriber());
        return Effect().noReply();
    }

    private ReplyEffect<RoomEvent, RoomState> onGetHistory(RoomState state, GetHistory get) {
        long to = get.before() == null ? state.lastSeq() : Math.min(get.before() - 1, state.lastSeq());
        long from = Math.max(1, to - get.limit() + 1);
        reply(read(state, from, to, from > 1, budget::newest), get.replyTo());
        return Effect().noReply();
    }

    private ReplyEffect<RoomEvent, RoomState> onPresenceChanged(RoomState state, PresenceChanged change) {
        if (change.replyTo() != null) {
            change.replyTo().tell(new PresenceNoted(roomId, change.status(), change.lastSeen()));
        }
        if (left.contains(change.user())) {
            return Effect().noReply(); // sent before the user entity heard of the leave
        }
        // Only the rooms a user joined hear of the user's presence, so the user is a member here even
        // when this room restarted (it lost its members) since: keep the user, and tell the subscribers.
        Member member = Member.of(change.user(), change.status(), change.lastSeen());
        members.put(change.user(), member);
        context.getLog().debug("Room {}: {} is {}, telling {} subscribers", roomId, change.user(), change.status(),
            subscribers.size());
        tellSubscribers(new RoomFeed.PresenceChanged(member.user(), member.status(), member.lastSeen()));
        return Effect().noReply();
    }

    /** One notice per subscribing node (its hub), never one per member. */
    private void tellSubscribers(RoomFeed notice) {
        subscribers.forEach(subscriber -> subscriber.tell(notice));
    }

    /**
     * Messages from..to out of the window when it holds them, else from the journal, cut to the
     * budget by {@code within}: a history page keeps its newest (and has more), a replay chunk its
     * oldest (the session asks for the rest).
     */
    private CompletionStage<ReadResult> read(RoomState state, long from, long to, boolean hasMore,
                                             UnaryOperator<List<StoredMessage>> within) {
        long lastSeq = state.lastSeq();
        if (to < from) {
            return CompletableFuture.completedFuture(new Messages(List.of(), false, lastSeq));
        }
        CompletionStage<List<StoredMessage>> read = from >= state.windowStart()
            ? CompletableFuture.completedFuture(state.windowSlice(from, to))
            : reader.read(persistenceId, from, to);
        return read.<ReadResult>thenApply(messages -> {
                List<StoredMessage> fitting = within.apply(messages);
                boolean cutOlder = !fitting.isEmpty() && !messages.isEmpty() && fitting.get(0).seq() > messages.get(0).seq();
                return new Messages(List.copyOf(fitting), hasMore || cutOlder, lastSeq);
            })
            .exceptionally(failure -> new ReadFailed("history is unavailable: " + failure.getMessage()));
    }

    /** Messages for one subscriber, in as many parts as the budget asks. */
    private void publishTo(ActorRef<RoomFeed> subscriber, List<StoredMessage> messages) {
        budget.chunks(messages).forEach(part -> subscriber.tell(new RoomFeed.Published(part)));
    }

    private static void reply(CompletionStage<ReadResult> result, ActorRef<ReadResult> replyTo) {
        result.thenAccept(replyTo::tell);
    }

    /** Members offline for longer than forget-members-after are listed no more. */
    private void forgetLongGoneMembers() {
        long horizon = System.currentTimeMillis() - settings.forgetMembersAfter().toMillis();
        members.values().removeIf(member -> member.status() == PresenceStatus.OFFLINE
            && member.lastSeen() != null && member.lastSeen() < horizon);
    }

    private void addSubscriber(ActorRef<RoomFeed> subscriber) {
        if (subscribers.add(subscriber)) {
            context.watchWith(subscriber, new SubscriberTerminated(subscriber));
        }
    }

    private void removeSubscriber(ActorRef<RoomFeed> subscriber) {
        if (subscribers.remove(subscriber)) {
            context.unwatch(subscriber);
        }
    }

    /** For logs and tests. */
    public String roomId() {
        return roomId;
    }
}
