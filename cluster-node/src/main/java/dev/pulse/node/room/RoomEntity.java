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

    /**
     * Version 1.1: a change to the message with seq {@code target}, itself a room event with the next
     * seq, answered like a {@link Post} once committed ({@link Posted} with its seq, or
     * {@link PostRejected}). {@code id} makes a retry idempotent; the session makes one up when the
     * client sent none, as it sends unanswered posts again.
     */
    public sealed interface Change extends Command {
        String user();

        long target();

        String id();

        long tag();

        ActorRef<PostResult> replyTo();
    }

    public record Edit(String user, long target, String id, String text, long tag, ActorRef<PostResult> replyTo)
        implements Change {}

    public record Delete(String user, long target, String id, long tag, ActorRef<PostResult> replyTo) implements Change {}

    public record React(String user, long target, String id, String emoji, boolean on, long tag, ActorRef<PostResult> replyTo)
        implements Change {}

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

    /** {@code unread}: messages after the marker that are not deleted (older than the window: every seq). */
    public record Summary(long lastSeq, long mentions, long unread) implements CborSerializable {}

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
    record RosterLoaded(List<String> users) implements Command {}

    /** A listed member's presence as their user entity answered it; null when it did not in time. */
    record RosterPresenceAnswered(String user, Member member) implements Command {}

    /** Joins have waited {@link RoomSettings#rosterPresencePatience()} for the members' presence: they go on. */
    record RosterPatienceOver() implements Command {}

    record SubscriberTerminated(ActorRef<RoomFeed> subscriber) implements Command {}

    /** Messages a returning subscriber missed that are older than the window, read from the journal. */
    record CatchUpRead(ActorRef<RoomFeed> subscriber, List<StoredEvent> messages, long readTo) implements Command {}

    /** A page read from the journal, folded here (the changes are the room's) before it is answered. */
    record JournalRead(List<StoredEvent> events, Throwable failure, boolean hasMore, long lastSeq,
                       UnaryOperator<List<StoredEvent>> within, ActorRef<ReadResult> replyTo) implements Command {}

    /** The target of a change, older than the window, read from the journal (null: none, or it failed). */
    record TargetRead(Change change, StoredEvent target, Throwable failure) implements Command {}

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

    /** Events ascending by seq, messages as they are now; {@code hasMore} when older ones exist. */
    public record Messages(List<StoredEvent> messages, boolean hasMore, long lastSeq) implements ReadResult {}

    public record ReadFailed(String message) implements ReadResult {}

    // ------------------------------------------------------------------ wiring

    public static void init(ActorSystem<?> system, RoomSettings settings, HistoryReader reader, JournalMetrics metrics,
                            RoomPorts ports) {
        ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, entity -> create(entity.getEntityId(),
            PersistenceId.of(entity.getEntityTypeKey().name(), entity.getEntityId()), settings, reader, metrics, ports)));
    }

    public static Behavior<Command> create(String roomId, PersistenceId persistenceId, RoomSettings settings,
                                           HistoryReader reader, JournalMetrics metrics) {
        return create(roomId, persistenceId, settings, reader, metrics, RoomPorts.NONE);
    }

    public static Behavior<Command> create(String roomId, PersistenceId persistenceId, RoomSettings settings,
                                           HistoryReader reader, JournalMetrics metrics, DirectMessages directMessages) {
        return create(roomId, persistenceId, settings, reader, metrics,
            new RoomPorts(directMessages, MemberRoster.NONE, SearchIndex.NONE));
    }

    public static Behavior<Command> create(String roomId, PersistenceId persistenceId, RoomSettings settings,
                                           HistoryReader reader, JournalMetrics metrics, RoomPorts ports) {
        return Behaviors.setup(context -> new RoomEntity(context, roomId, persistenceId, settings, reader, metrics, ports));
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
    private final SearchIndex search;
    /** The two users of a DM room; empty for a public room. */
    private final List<String> dmParticipants;

    // Not journaled: rebuilt as subscribers and members come back after a restart.
    private final Set<ActorRef<RoomFeed>> subscribers = new HashSet<>();
    private final Map<String, Member> members = new TreeMap<>();
    /** Members who left since this incarnation started: late presence news must not bring them back. */
    private final Set<String> left = new HashSet<>();
    private final PostBatch posts = new PostBatch();
    /** Whether the durable member list is in {@link #members}: until then joins and leaves wait (stashed). */
    private boolean rosterLoaded;
    /** Listed from the roster, presence not yet known: offline, last seen unknown, until an answer or a notice. */
    private final Set<String> presenceUnknown = new HashSet<>();
    /** Presence answers still to come while joins wait for them. */
    private int presenceAnswersDue;
    /** A change's target is being read from the journal: other changes wait (stashed) until it is decided. */
    private boolean targetReadInFlight;
    /** When this incarnation started, for the recovery time in the log (failover and hand-off analysis). */
    private final long startedAtNanos = System.nanoTime();
    private RoomEntity(ActorContext<Command> context, String roomId, PersistenceId persistenceId,
                       RoomSettings settings, HistoryReader reader, JournalMetrics metrics, RoomPorts ports) {
        super(persistenceId, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
        this.context = context;
        this.roomId = roomId;
        this.persistenceId = persistenceId.id();
        this.settings = settings;
        this.reader = reader;
        this.budget = new RemoteBudget(settings.remoteBytes());
        this.metrics = metrics;
        this.directMessages = ports.directMessages();
        this.roster = ports.roster();
        this.search = ports.search();
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
                if (state.lastSeq() > 0) {
                    search.recovered(roomId, state.lastSeq());
                }
                if (!rosterLoaded) {
                    context.pipeToSelf(roster.members(roomId),
                        (users, failure) -> new RosterLoaded(failure == null ? users : List.of()));
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
            .onCommand(RosterPresenceAnswered.class, this::onRosterPresenceAnswered)
            .onCommand(RosterPatienceOver.class, over -> {
                if (rosterLoaded) {
                    return Effect().noReply();
                }
                context.getLog().debug("Room {}: joins go on with {} members' presence unknown", roomId, presenceUnknown.size());
                return rosterReady();
            })
            .onCommand(Leave.class, (state, leave) -> {
                if (!rosterLoaded) {
                    return Effect().stash(); // after the joins it follows, which wait for the roster
                }
                if (members.remove(leave.user()) != null) {
                    tellSubscribers(new RoomFeed.MemberChanged(leave.user(), false));
                }
                left.add(leave.user());
                presenceUnknown.remove(leave.user());
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
                read(state, get.from(), to, get.from() > 1, budget::oldest, get.replyTo());
                return Effect().noReply();
            })
            .onCommand(JournalRead.class, (state, read) -> {
                read.replyTo().tell(read.failure() != null
                    ? new ReadFailed("history is unavailable: " + read.failure().getMessage())
                    : page(state.asServed(read.events()), read.hasMore(), read.lastSeq(), read.within()));
                return Effect().noReply();
            })
            .onCommand(Change.class, this::onChange)
            .onCommand(TargetRead.class, this::onTargetRead)
            .onCommand(Typing.class, (state, typing) -> {
                RoomFeed.Typing notice = new RoomFeed.Typing(typing.user());
                subscribers.forEach(subscriber -> subscriber.tell(notice));
                return Effect().noReply();
            })
            .onCommand(PresenceChanged.class, this::onPresenceChanged)
            .onCommand(GetSummary.class, (state, get) -> Effect().reply(get.replyTo(),
                new Summary(state.lastSeq(), state.mentionsAfter(get.user(), get.lastRead()), state.unreadAfter(get.lastRead()))))
            .build();
    }

    @Override
    public EventHandler<RoomState, RoomEvent> eventHandler() {
        return newEventHandlerBuilder().forAnyState()
            .onEvent(RoomEvent.class, (state, event) -> state.apply(event, settings.window(), settings.rememberedIds()))
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
            List<StoredEvent> published = posts.committed(committed.lastSeq(), ts);
            search.committed(roomId, published);
            for (List<StoredEvent> part : budget.chunks(published)) {
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
        presenceUnknown.remove(join.user());
        left.remove(join.user());
        if (newMember) {
            tellSubscribers(new RoomFeed.MemberChanged(join.user(), true));
        }
        return Effect().reply(join.replyTo(), new Joined(state.lastSeq(), List.copyOf(members.values())));
    }

    /**
     * The members listed offline (last seen unknown) at once; their presence is asked, and joins wait
     * for the answers at most {@link RoomSettings#rosterPresencePatience()}: while a node leaves, user entities
     * move too, and a join must not wait for them. A late answer reaches the subscribers as a presence
     * change.
     */
    private ReplyEffect<RoomEvent, RoomState> onRosterLoaded(RoomState state, RosterLoaded loaded) {
        if (rosterLoaded) {
            return Effect().noReply();
        }
        // Whatever this incarnation heard meanwhile (a join, a leave, a presence notice) is newer.
        List<String> unknown = loaded.users().stream()
            .filter(user -> !left.contains(user) && !members.containsKey(user))
            .toList();
        unknown.forEach(user -> members.put(user, Member.of(user, PresenceStatus.OFFLINE, null)));
        presenceUnknown.addAll(unknown);
        List<CompletionStage<Member>> answers;
        try {
            answers = roster.presence(unknown);
        } catch (RuntimeException e) {
            context.getLog().warn("Room {}: its members' presence could not be asked: {}", roomId, e.toString());
            answers = List.of();
        }
        for (int i = 0; i < answers.size(); i++) {
            String user = unknown.get(i);
            context.pipeToSelf(answers.get(i), (member, failure) -> new RosterPresenceAnswered(user, failure == null ? member : null));
        }
        // added, not set: after a restart in the wait (a failed write) the first incarnation's answers still come
        presenceAnswersDue += answers.size();
        context.getLog().debug("Room {}: {} members from its roster, {} ms after start", roomId, loaded.users().size(),
            (System.nanoTime() - startedAtNanos) / 1_000_000);
        if (presenceAnswersDue <= 0) {
            return rosterReady();
        }
        context.scheduleOnce(settings.rosterPresencePatience(), context.getSelf(), new RosterPatienceOver());
        return Effect().noReply();
    }

    private ReplyEffect<RoomEvent, RoomState> onRosterPresenceAnswered(RoomState state, RosterPresenceAnswered answer) {
        presenceAnswersDue--;
        // Only fills in what is unknown: a notice from the user entity, a join or a leave is newer.
        if (answer.member() != null && presenceUnknown.remove(answer.user()) && members.containsKey(answer.user())) {
            Member member = answer.member();
            if (longGone(member)) {
                members.remove(answer.user()); // listed no more, as forgetLongGoneMembers would
            } else {
                members.put(answer.user(), member);
                if (member.status() != PresenceStatus.OFFLINE || member.lastSeen() != null) {
                    tellSubscribers(new RoomFeed.PresenceChanged(member.user(), member.status(), member.lastSeen(), true));
                }
            }
        }
        if (!rosterLoaded && presenceAnswersDue <= 0) {
            context.getLog().debug("Room {}: members' presence known {} ms after start", roomId,
                (System.nanoTime() - startedAtNanos) / 1_000_000);
            return rosterReady();
        }
        return Effect().noReply();
    }

    private ReplyEffect<RoomEvent, RoomState> rosterReady() {
        rosterLoaded = true;
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
            .filter(member -> member.status() == PresenceStatus.OFFLINE && !presenceUnknown.contains(member.user()))
            .forEach(member -> subscriber.tell(new RoomFeed.PresenceChanged(member.user(), member.status(), member.lastSeen())));
        if (subscribe.knownSeq() < 0 || from > state.lastSeq()) {
            addSubscriber(subscriber);
        } else if (from >= state.windowStart()) {
            publishTo(subscriber, state.asServed(state.windowSlice(from, state.lastSeq())));
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
        List<StoredEvent> missed = new ArrayList<>(read.messages());
        if (state.lastSeq() > read.readTo()) {
            missed.addAll(state.windowSlice(read.readTo() + 1, state.lastSeq()));
        }
        publishTo(read.subscriber(), state.asServed(missed));
        addSubscriber(read.subscriber());
        return Effect().noReply();
    }

    private ReplyEffect<RoomEvent, RoomState> onGetHistory(RoomState state, GetHistory get) {
        long to = get.before() == null ? state.lastSeq() : Math.min(get.before() - 1, state.lastSeq());
        long from = Math.max(1, to - get.limit() + 1);
        read(state, from, to, from > 1, budget::newest, get.replyTo());
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
        presenceUnknown.remove(change.user());
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
     * Events from..to, as served (messages as they are now), out of the window when it holds them,
     * else from the journal (folded here when the read comes back), cut to the budget by
     * {@code within}: a history page keeps its newest (and has more), a replay chunk its oldest (the
     * session asks for the rest).
     */
    private void read(RoomState state, long from, long to, boolean hasMore, UnaryOperator<List<StoredEvent>> within,
                      ActorRef<ReadResult> replyTo) {
        long lastSeq = state.lastSeq();
        if (to < from) {
            replyTo.tell(new Messages(List.of(), false, lastSeq));
        } else if (from >= state.windowStart()) {
            replyTo.tell(page(state.asServed(state.windowSlice(from, to)), hasMore, lastSeq, within));
        } else {
            context.pipeToSelf(reader.read(persistenceId, from, to),
                (events, failure) -> new JournalRead(events, failure, hasMore, lastSeq, within, replyTo));
        }
    }

    private static Messages page(List<StoredEvent> events, boolean hasMore, long lastSeq,
                                 UnaryOperator<List<StoredEvent>> within) {
        List<StoredEvent> fitting = within.apply(events);
        boolean cutOlder = !fitting.isEmpty() && !events.isEmpty() && fitting.get(0).seq() > events.get(0).seq();
        return new Messages(List.copyOf(fitting), hasMore || cutOlder, lastSeq);
    }

    /** Events for one subscriber, in as many parts as the budget asks. */
    private void publishTo(ActorRef<RoomFeed> subscriber, List<StoredEvent> events) {
        budget.chunks(events).forEach(part -> subscriber.tell(new RoomFeed.Published(part)));
    }

    // ------------------------------------------------------------------ edit, delete, react (1.1)

    private ReplyEffect<RoomEvent, RoomState> onChange(RoomState state, Change change) {
        if (targetReadInFlight) {
            // One change at a time while a target is read: a resend of it, or a later edit of the same
            // message, must see what it did.
            return Effect().stash();
        }
        RoomState.Committed committed = state.committed(change.user(), change.id());
        if (committed != null) {
            return alreadyCommitted(change, committed);
        }
        if (change.target() > state.lastSeq()) {
            return reject(change, ErrorCode.NOT_FOUND, "no message " + change.target() + " in " + roomId);
        }
        MessageChange known = state.change(change.target());
        StoredEvent target = state.inWindow(change.target());
        if (known == null && target == null) {
            // Older than the window and never changed: who wrote it (and whether it is a message) is in the journal.
            targetReadInFlight = true;
            context.pipeToSelf(reader.read(persistenceId, change.target(), change.target()),
                (events, failure) -> new TargetRead(change, events == null || events.isEmpty() ? null : events.get(0), failure));
            return Effect().noReply();
        }
        return decide(state, change, known != null ? known.author() : authorOf(target));
    }

    private ReplyEffect<RoomEvent, RoomState> onTargetRead(RoomState state, TargetRead read) {
        targetReadInFlight = false;
        Change change = read.change();
        RoomState.Committed committed = state.committed(change.user(), change.id());
        if (committed != null) {
            return alreadyCommitted(change, committed).thenUnstashAll();
        }
        if (read.failure() != null) {
            return reject(change, ErrorCode.UNAVAILABLE, "the message store is unavailable; retry").thenUnstashAll();
        }
        MessageChange known = state.change(change.target());
        return decide(state, change, known != null ? known.author() : authorOf(read.target())).thenUnstashAll();
    }

    /** A retry of a committed change (same user and id): the same ack, and no second event. */
    private ReplyEffect<RoomEvent, RoomState> alreadyCommitted(Change change, RoomState.Committed committed) {
        return Effect().reply(change.replyTo(), new Posted(change.tag(), change.id(), committed.seq(), committed.ts()));
    }

    /** The author of {@code target}; null when it is no message. */
    private static String authorOf(StoredEvent target) {
        return target instanceof StoredMessage message ? message.from() : null;
    }

    /** Applies the rules of PROTOCOL.md 1.1 to a change of a message by {@code author} (null: no message there). */
    private ReplyEffect<RoomEvent, RoomState> decide(RoomState state, Change change, String author) {
        long target = change.target();
        MessageChange known = state.change(target);
        if (author == null) {
            return reject(change, ErrorCode.NOT_FOUND, "seq " + target + " of " + roomId + " is not a message");
        }
        if (known != null && known.deleted()) {
            return reject(change, ErrorCode.NOT_FOUND, "message " + target + " of " + roomId + " is deleted");
        }
        if (!(change instanceof React) && !author.equals(change.user())) {
            return reject(change, ErrorCode.FORBIDDEN, "only the author of message " + target + " may change it");
        }
        long ts = Math.max(System.currentTimeMillis(), state.lastTs());
        RoomEvent event;
        if (change instanceof Edit edit) {
            event = new RoomEvent.MessageEdited(target, edit.id(), edit.user(), edit.text(), ts);
        } else if (change instanceof Delete delete) {
            event = new RoomEvent.MessageDeleted(target, delete.id(), delete.user(), ts);
        } else {
            React react = (React) change;
            MessageChange.Reaction now = known == null ? null : known.reaction(react.user(), react.emoji());
            if (now == null ? !react.on() : now.on() == react.on()) {
                // Already so: no event; the ack names the event that made it so (0: none did).
                return Effect().reply(change.replyTo(), new Posted(change.tag(), change.id(),
                    now == null ? 0 : now.seq(), now == null ? ts : now.ts()));
            }
            event = new RoomEvent.ReactionSet(target, react.id(), react.user(), author, react.emoji(), react.on(), ts);
        }
        long started = System.nanoTime();
        return Effect().persist(event).thenRun(after -> {
            metrics.written(started, 1);
            StoredEvent stored = RoomEvent.stored(event, after.lastSeq());
            change.replyTo().tell(new Posted(change.tag(), change.id(), stored.seq(), stored.ts()));
            search.committed(roomId, List.of(stored));
            tellSubscribers(new RoomFeed.Published(List.of(stored)));
        }).thenNoReply();
    }

    private ReplyEffect<RoomEvent, RoomState> reject(Change change, ErrorCode code, String message) {
        return Effect().reply(change.replyTo(), new PostRejected(change.tag(), code, message));
    }

    /** Members offline for longer than forget-members-after are listed no more. */
    private void forgetLongGoneMembers() {
        members.values().removeIf(this::longGone);
    }

    private boolean longGone(Member member) {
        return member.status() == PresenceStatus.OFFLINE && member.lastSeen() != null
            && member.lastSeen() < System.currentTimeMillis() - settings.forgetMembersAfter().toMillis();
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
