package dev.pulse.node.session;

import dev.pulse.node.delivery.Delivery;
import dev.pulse.node.delivery.LocalRooms;
import dev.pulse.node.room.RoomEntity;
import dev.pulse.node.room.RoomFeed;
import dev.pulse.node.user.UserEntity;
import dev.pulse.protocol.ClientFrame;
import dev.pulse.protocol.ErrorCode;
import dev.pulse.protocol.ServerFrame;
import dev.pulse.protocol.Timestamps;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The rooms of one session: routes room frames (join, leave, send, typing, history) to each room's
 * {@link RoomSubscription}, asks the node's hubs and the rooms on its behalf, and answers sends
 * through {@link PendingAcks}. Lives inside the {@link Session} actor and runs on its thread only.
 */
final class SessionRooms implements RoomSubscription.Port {

    /** A post unanswered this long is sent again (see resendPosts). */
    static final Duration POST_RESEND = Duration.ofMillis(500);

    /** A join unanswered this long is sent again (see askJoin). */
    static final Duration JOIN_ATTEMPT = Duration.ofSeconds(1);

    private final ActorContext<Session.Command> context;
    private final TimerScheduler<Session.Command> timers;
    private final SessionDeps deps;
    private final String user;
    private final String sessionId;
    private final EntityRef<UserEntity.Command> userEntity;
    private final ClientConnection client;
    private final ActorRef<Delivery> deliveries;
    private final ActorRef<RoomEntity.PostResult> postAnswers;
    private final PendingAcks pendingAcks;
    private final Map<String, RoomSubscription> rooms = new HashMap<>();

    SessionRooms(ActorContext<Session.Command> context, TimerScheduler<Session.Command> timers, SessionDeps deps,
                 String user, String sessionId, EntityRef<UserEntity.Command> userEntity, ClientConnection client) {
        this.sessionId = sessionId;
        this.context = context;
        this.timers = timers;
        this.deps = deps;
        this.user = user;
        this.userEntity = userEntity;
        this.client = client;
        this.deliveries = context.messageAdapter(Delivery.class, Session.Delivered::new);
        this.postAnswers = context.messageAdapter(RoomEntity.PostResult.class, Session.PostAnswered::new);
        this.pendingAcks = new PendingAcks(deps.entityTimeout().toNanos());
    }

    /** The rooms subscribed or being subscribed, for the user entity's heartbeat. */
    List<String> names() {
        return List.copyOf(rooms.keySet());
    }

    /** Whether this session is in {@code room} (joined, or joining). */
    boolean has(String room) {
        return rooms.containsKey(room);
    }

    void with(String room, Consumer<RoomSubscription> action) {
        RoomSubscription subscription = rooms.get(room);
        if (subscription != null) {
            action.accept(subscription);
        }
    }

    // ------------------------------------------------------------------ client frames

    void join(ClientFrame.Join join) {
        RoomSubscription subscription = rooms.get(join.room());
        if (subscription == null) {
            if (roomForAnother(join.ref())) {
                rooms.put(join.room(), RoomSubscription.forJoin(join, this));
            }
        } else if (subscription.joinInProgress()) {
            client.send(ServerFrame.Error.of(join.ref(), ErrorCode.INVALID, "a join of " + join.room() + " is in progress"));
        } else {
            // Already joined (or an implicit join underway): join again to resync.
            subscription.rejoin(join);
        }
    }

    void leave(ClientFrame.Leave leave) {
        RoomSubscription subscription = rooms.get(leave.room());
        if (subscription == null) {
            leaveUnjoined(leave);
            return;
        }
        if (!subscription.isAttached()) {
            client.send(ServerFrame.Error.of(leave.ref(), ErrorCode.NOT_FOUND, "not joined to " + leave.room()));
            return;
        }
        ended(leave.room(), true);
        roomRef(leave.room()).tell(new RoomEntity.Leave(user));
        userEntity.tell(new UserEntity.UntrackRoom(leave.room(), sessionId));
        client.send(new ServerFrame.Left(leave.ref(), leave.room()));
    }

    /**
     * A room in the user's list that this session never joined (joined on another device): leaving it
     * takes it off the list all the same, and {@code not_found} only when it is not there.
     */
    private void leaveUnjoined(ClientFrame.Leave leave) {
        CompletionStage<UserEntity.Untracked> answer = AskPattern.ask(userEntity,
            replyTo -> new UserEntity.UntrackRoom(leave.room(), sessionId, replyTo), deps.entityTimeout(),
            context.getSystem().scheduler());
        context.pipeToSelf(answer, (untracked, failure) -> new Session.LeaveAnswered(leave.ref(), leave.room(),
            failure == null ? untracked.wasListed() : null));
    }

    void leaveAnswered(Session.LeaveAnswered answered) {
        if (answered.wasListed() == null) {
            client.send(ServerFrame.Error.of(answered.ref(), ErrorCode.UNAVAILABLE, "the user's rooms are unavailable; try again"));
        } else if (answered.wasListed()) {
            leftElsewhere(answered.room()); // a join of this session may have landed meanwhile
            roomRef(answered.room()).tell(new RoomEntity.Leave(user));
            client.send(new ServerFrame.Left(answered.ref(), answered.room()));
        } else {
            client.send(ServerFrame.Error.of(answered.ref(), ErrorCode.NOT_FOUND, "not joined to " + answered.room()));
        }
    }

    /** The user left {@code room} on another device (or this one): this session stops receiving it. */
    boolean leftElsewhere(String room) {
        RoomSubscription subscription = rooms.get(room);
        if (subscription != null && !subscription.joinInProgress()) {
            boolean attached = subscription.isAttached();
            ended(room, attached);
            return attached;
        }
        return false;
    }

    /** A send that passed validation and the rate limit. */
    void send(ClientFrame.Send send) {
        RoomSubscription subscription = rooms.get(send.room());
        if (subscription == null) {
            if (roomForAnother(send.ref())) {
                rooms.put(send.room(), RoomSubscription.forSend(send, this));
            }
        } else {
            subscription.send(send);
        }
    }

    /** Whether this session may be in one more room; answers the frame {@code rate_limited} if not. */
    private boolean roomForAnother(String ref) {
        if (rooms.size() < deps.maxRoomsPerSession()) {
            return true;
        }
        client.send(ServerFrame.Error.of(ref, ErrorCode.RATE_LIMITED,
            "a session may be in at most " + deps.maxRoomsPerSession() + " rooms; leave one first"));
        return false;
    }

    void typing(ClientFrame.Typing typing) {
        RoomSubscription subscription = rooms.get(typing.room());
        if (subscription == null) {
            client.send(ServerFrame.Error.of(typing.ref(), ErrorCode.NOT_FOUND, "not joined to " + typing.room()));
        } else if (subscription.typingDue(System.nanoTime())) {
            roomRef(typing.room()).tell(new RoomEntity.Typing(user));
        }
    }

    void history(ClientFrame.History history) {
        context.ask(RoomEntity.ReadResult.class, roomRef(history.room()), deps.entityTimeout(),
            replyTo -> new RoomEntity.GetHistory(history.before(), history.limit(), replyTo),
            (result, failure) -> new Session.HistoryRead(history.ref(), history.room(), result));
    }

    // ------------------------------------------------------------------ answers

    void historyRead(Session.HistoryRead read) {
        if (read.result() instanceof RoomEntity.Messages page) {
            List<ServerFrame.RoomEvent> fitting = WireFrames.newestWithin(read.room(), page.messages(), deps.historyPageBytes());
            client.send(new ServerFrame.History(read.ref(), read.room(), fitting,
                page.hasMore() || fitting.size() < page.messages().size()));
        } else {
            client.send(ServerFrame.Error.of(read.ref(), ErrorCode.UNAVAILABLE, "history of " + read.room() + " is unavailable"));
        }
    }

    void postAnswered(RoomEntity.PostResult result) {
        PendingAcks.Awaiting awaiting = pendingAcks.answered(result.tag());
        if (awaiting == null) {
            return; // answered after its deadline: the client was told to retry with the same id
        }
        if (result instanceof RoomEntity.Posted posted) {
            deps.metrics().acked(awaiting.sentNanos());
            client.send(new ServerFrame.Ack(awaiting.ref(), awaiting.room(), awaiting.ackId(), posted.seq(),
                Timestamps.format(posted.ts())));
        } else if (result instanceof RoomEntity.PostRejected rejected) {
            deps.metrics().rejected(rejected.code());
            client.send(ServerFrame.Error.of(awaiting.ref(), rejected.code(), rejected.message()));
        }
    }

    void delivered(Delivery.RoomEvent event) {
        with(event.room(), subscription -> subscription.deliver(event));
    }

    /** The session stops: leave every hub. */
    void detachAll() {
        rooms.keySet().forEach(room -> deps.localRooms().tell(new LocalRooms.Detach(room, deliveries)));
    }

    // ------------------------------------------------------------------ RoomSubscription.Port

    @Override
    public void attach(String room) {
        context.ask(LocalRooms.Attached.class, deps.localRooms(), deps.entityTimeout(),
            replyTo -> new LocalRooms.Attach(room, deliveries, user, replyTo),
            (attached, failure) -> new Session.Attached(room, attached == null ? null : attached.subscriber()));
    }

    @Override
    public void join(String room, Long since, ActorRef<RoomFeed> subscriber) {
        long deadline = System.nanoTime() + deps.entityTimeout().toNanos();
        context.pipeToSelf(askJoin(room, new JoinRequest(since, subscriber), deadline),
            (result, failure) -> new Session.JoinAnswered(room, result));
    }

    private record JoinRequest(Long since, ActorRef<RoomFeed> subscriber) {}

    /**
     * A join sent while its room's node is dying goes to that node and is lost until the node is
     * removed, so it is asked again every {@link #JOIN_ATTEMPT} until the entity timeout (a join is
     * idempotent; a late answer to an earlier attempt goes nowhere): the first join the room's new
     * home receives answers, instead of the client waiting out the whole timeout and asking again.
     */
    private CompletionStage<RoomEntity.JoinResult> askJoin(String room, JoinRequest request, long deadline) {
        long left = deadline - System.nanoTime();
        Duration attempt = Duration.ofNanos(Math.max(1, Math.min(JOIN_ATTEMPT.toNanos(), left)));
        return AskPattern.<RoomEntity.Command, RoomEntity.JoinResult>ask(roomRef(room),
                replyTo -> new RoomEntity.Join(user, request.since(), request.subscriber(), replyTo),
                attempt, context.getSystem().scheduler())
            .handle((result, failure) -> result != null || System.nanoTime() >= deadline
                ? CompletableFuture.completedFuture(result)
                : askJoin(room, request, deadline))
            .thenCompose(Function.identity());
    }

    @Override
    public void fetch(String room, long from, long to, int generation) {
        context.ask(RoomEntity.ReadResult.class, roomRef(room), deps.entityTimeout(),
            replyTo -> new RoomEntity.GetRange(from, to, replyTo),
            (result, failure) -> new Session.ReplayRead(room, generation, result));
    }

    /**
     * Posts are the hot path: no ask, answers through one adapter by tag, one timer for all deadlines,
     * and one that sends unanswered posts again.
     */
    @Override
    public void post(ClientFrame.Send send) {
        tellAwaitingAnswer(send.room(), pendingAcks.add(send.ref(), send.room(), send.id(), System.nanoTime(),
            tag -> new RoomEntity.Post(user, send.id(), send.text(), tag, postAnswers)));
    }

    /**
     * Version 1.1: an edit, deletion or reaction, answered like a send (and sent again like one while
     * unanswered, so one without a client id gets one made up here: the room keeps it from applying twice).
     */
    void change(ClientFrame.RoomChange change) {
        tellAwaitingAnswer(change.room(), pendingAcks.add(change.ref(), change.room(), change.id(), System.nanoTime(), tag -> {
            String id = change.id() != null ? change.id() : "~" + sessionId + "~" + tag;
            if (change instanceof ClientFrame.Edit edit) {
                return new RoomEntity.Edit(user, edit.target(), id, edit.text(), tag, postAnswers);
            } else if (change instanceof ClientFrame.Delete delete) {
                return new RoomEntity.Delete(user, delete.target(), id, tag, postAnswers);
            }
            ClientFrame.React react = (ClientFrame.React) change;
            return new RoomEntity.React(user, react.target(), id, react.emoji(), react.on(), tag, postAnswers);
        }));
    }

    private void tellAwaitingAnswer(String room, RoomEntity.Command post) {
        roomRef(room).tell(post);
        if (!timers.isTimerActive(Session.Tick.POSTS)) {
            timers.startSingleTimer(Session.Tick.POSTS, POST_RESEND);
        }
    }

    /**
     * One timer for all unanswered posts, every POST_RESEND while any wait. A post past its deadline
     * is answered "unavailable" (the client retries with the same id). Others go to their room again:
     * a post to a room whose shard is being handed off (a rolling restart) is dropped by the sending
     * node's shard region "to avoid re-ordering", and would otherwise wait for the client's retry. A
     * post is idempotent by (user, id), so a room that did get it answers the same ack (the second
     * answer of a tag is ignored).
     */
    void postsTick() {
        long now = System.nanoTime();
        for (PendingAcks.Awaiting expired : pendingAcks.expire(now)) {
            deps.metrics().rejected(ErrorCode.UNAVAILABLE);
            client.send(ServerFrame.Error.of(expired.ref(), ErrorCode.UNAVAILABLE, expired.ackId() != null
                ? "the message was not confirmed in time; retry with the same id"
                : "not confirmed in time, and it may have been applied: look before trying again (an id makes a retry safe)"));
        }
        pendingAcks.unansweredSince(now - POST_RESEND.toNanos()).forEach(awaiting -> roomRef(awaiting.room()).tell(awaiting.post()));
        if (pendingAcks.size() > 0) {
            timers.startSingleTimer(Session.Tick.POSTS, POST_RESEND);
        }
    }

    @Override
    public void send(ServerFrame frame) {
        client.send(frame);
    }

    @Override
    public void offer(Delivery.RoomEvent event) {
        if (client.offer(event.frame())) {
            deps.metrics().delivered(event.ts());
        }
    }

    @Override
    public void rejectSend(ClientFrame.Send send, ErrorCode code, String message) {
        deps.metrics().rejected(code);
        client.send(ServerFrame.Error.of(send.ref(), code, message));
    }

    @Override
    public boolean hasRoomToSend() {
        return client.hasRoomToSend();
    }

    @Override
    public void continueLater(String room) {
        if (!client.closing()) {
            timers.startSingleTimer(replayTimer(room), new Session.ContinueReplay(room), Duration.ofMillis(10));
        }
    }

    @Override
    public void joined(String room) {
        userEntity.tell(new UserEntity.TrackRoom(room));
    }

    @Override
    public void ended(String room, boolean attached) {
        rooms.remove(room);
        timers.cancel(replayTimer(room));
        if (attached) {
            deps.localRooms().tell(new LocalRooms.Detach(room, deliveries));
        }
    }

    @Override
    public void overflow() {
        client.closeSlowConsumer();
    }

    private static String replayTimer(String room) {
        return "replay-" + room;
    }

    private EntityRef<RoomEntity.Command> roomRef(String room) {
        return deps.sharding().entityRefFor(RoomEntity.ENTITY_KEY, room);
    }
}
